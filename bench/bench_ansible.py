"""Side-by-side benchmark: vanilla Ansible (pipelining on) vs mitogen_linear.

Runs on the controller against test-bed containers.  For each setup (1
target, 1 target with 9 ms added each way, 20 targets, 100 targets) and
scenario (100 `command: /bin/true` tasks, one task looping 100 times, 20
copy + 20 template; 10 commands on 100 targets; one command on a fresh
host: `first_task`; 100 `debug` tasks; a play without tasks: `empty`, the
start-up alone) it runs ansible-playbook under both strategies and records wall
time, controller CPU (every process the run started, ssh and vanilla's
daemonized ControlPersist masters included, counted by a cpuacct cgroup;
the test bed's relays are left out: see RunCPU), peak controller memory
(PSS summed over the process tree, sampled), bytes on the wire and bytes up
(counted by the test bed's relay, which every ssh connection goes through)
and link round trips (exchanges in the relay's event log,
tests/testbed/turns.py, summed over the run's connections).  Prints
ratios and writes JSON to bench/results/.  A last sweep runs 10 commands
on 50 targets with --forks 5, 10, 20 and 50: controller memory must stay
flat as forks grow.

    .venv/bin/python bench/bench_ansible.py [--setups 1,1-9ms,20,100]
        [--scenarios ...] [--forks-sweep 5,10,20,50] [--repeat N]
        [--peer-venv DIR]   # also time the public Mitogen installed in DIR
        [--ansible-core 2.21 [--python 3.13] | --ansible-venv DIR]
                            # another ansible-core: a cached venv of tests/versions.py, or DIR's
        [--vars-plugin]     # also time the vars-plugin entry point (builtin linear)
"""
import argparse
import glob
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.ansible import harness  # noqa: E402
from tests.testbed import Testbed, turns  # noqa: E402

RUN_TIMEOUT = 900
LOOPBACK = "mitogen_loopback"  # ours on the delayed setup's targets, without the delay
SETUPS = {"1": (1, 0), "1-9ms": (1, 9), "20": (20, 0), "100": (100, 0)}
# 100 hosts x 100 tasks would keep vanilla busy for most of an hour.
DEFAULT_SCENARIOS = {"100": "command10"}
# Controller memory as forks grow: same hosts and playbook, more forks.
SWEEP_TARGETS = 50
SWEEP_SCENARIO = "command10"

SCENARIOS = {
    "command100": """
- hosts: all
  gather_facts: false
  tasks:
{tasks}
""".replace("{tasks}", "\n".join("    - command: /bin/true" for _ in range(100))),
    "command10": """
- hosts: all
  gather_facts: false
  tasks:
{tasks}
""".replace("{tasks}", "\n".join("    - command: /bin/true" for _ in range(10))),
    "first_task": """
- hosts: all
  gather_facts: false
  tasks:
    - command: /bin/true
""",
    "loop100": """
- hosts: all
  gather_facts: false
  tasks:
    - command: /bin/true
      loop: "{{ range(100) | list }}"
""",
    "copy_template": """
- hosts: all
  gather_facts: false
  tasks:
    - file: {path: /tmp/bench-files, state: directory}
    - copy:
        content: "file {{ item }} {{ '%0200d' % item }}\\n"
        dest: "/tmp/bench-files/copy-{{ item }}"
      loop: "{{ range(20) | list }}"
    - template:
        src: "{{ playbook_dir }}/bench.j2"
        dest: "/tmp/bench-files/template-{{ item }}"
      loop: "{{ range(20) | list }}"
""",
    "debugloop100": """
- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=x
      loop: "{{ range(100) | list }}"
""",
    "empty": """
- hosts: all
  gather_facts: false
  tasks: []
""",
    "debug100": """
- hosts: all
  gather_facts: false
  tasks:
{tasks}
""".replace("{tasks}", "\n".join("    - debug: msg=x" for _ in range(100))),
}
# Per host: task runs (loop items count once each), for controller CPU per host-task.
HOST_TASKS = {"empty": 0, "first_task": 1, "command100": 100, "command10": 10, "loop100": 100, "copy_template": 41, "debug100": 100,
              "debugloop100": 100}
TEMPLATE = "host {{ inventory_hostname }} item {{ item }}\n{% for i in range(20) %}line {{ i }}\n{% endfor %}"


def write_inventory(bed: Testbed, delay_ms: int, stats_dir: str, path: str) -> None:
    lines = ["[targets]"]
    for t in bed.targets:
        current = os.path.join(stats_dir, "current")
        relay = shlex.join(bed.relay_argv(t, delay_ms, os.path.join(current, "relay-{pid}.json"),
                                          os.path.join(current, "events-{pid}.txt")))
        common = "-o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null " \
                 "-o LogLevel=ERROR " + shlex.join(["-o", "ProxyCommand=" + relay])
        lines.append(" ".join([
            t.name, "ansible_host=%s" % t.host, "ansible_port=%d" % t.port, "ansible_user=root",
            "ansible_ssh_private_key_file=%s" % bed.private_key,
            "ansible_python_interpreter=%s" % t.python, "ansible_host_key_checking=false",
            "ansible_ssh_common_args=%s" % shlex.quote(common),
        ]))
    with open(path, "w") as fp:
        fp.write("\n".join(lines) + "\n")


def _pss(pid: int) -> int:
    """Proportional set size: shared pages split between their users, so
    forked workers are not counted as full copies of their parent."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as fp:
            for line in fp:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_memory(root: int, also_matching: str = "") -> int:
    """Bytes of PSS summed over `root` and all its descendants, plus the
    processes whose command line contains `also_matching` (and theirs):
    vanilla's ControlPersist masters daemonize out of the tree, but they and
    their ProxyCommand relays are part of its footprint, as our ssh
    processes (children of the multiplexers) are of ours."""
    parents: Dict[int, int] = {}
    roots = [root]
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as fp:
                parents[int(name)] = int(fp.read().rsplit(")", 1)[1].split()[1])
            if also_matching:
                with open("/proc/%s/cmdline" % name, "rb") as fp:
                    if also_matching.encode() in fp.read():
                        roots.append(int(name))
        except (OSError, IndexError, ValueError):
            continue
    children: Dict[int, List[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    total, stack, seen = 0, roots, set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _pss(pid)
        stack.extend(children.get(pid, []))
    return total


class Engine:
    """How to start one engine: ansible-playbook binary, strategy, env."""

    def __init__(self, label: str, strategy: str, ansible: str, extra_env: Dict[str, str]) -> None:
        self.label = label
        self.strategy = strategy
        self.ansible = ansible
        self.extra_env = extra_env


def engines(peer_venv: str = "", ansible_venv: str = "", vars_plugin: bool = False) -> List[Engine]:
    """Vanilla and ours (with the ansible-playbook of `ansible_venv` if
    given); plus the public Mitogen when a venv holding it is given
    (installed apart from ours, only to compare against)."""
    playbook = os.path.join(ansible_venv, "bin", "ansible-playbook") if ansible_venv else harness.ansible_bin()
    out = [Engine("vanilla", harness.VANILLA, playbook, {}),
           Engine("mitogen", harness.MITOGEN, playbook, {})]
    if vars_plugin:
        out.append(Engine("vars_plugin", harness.VANILLA, playbook, {
            "ANSIBLE_VARS_ENABLED": "host_group_vars,accel.mitogen.accelerate"}))
    if peer_venv:
        site = glob.glob(os.path.join(peer_venv, "lib", "python3*", "site-packages"))[0]
        out.append(Engine("peer", "mitogen_linear", os.path.join(peer_venv, "bin", "ansible-playbook"), {
            "ANSIBLE_STRATEGY_PLUGINS": os.path.join(site, "ansible_mitogen", "plugins", "strategy"),
            "PYTHONPATH": ""}))
    return out


ENGINES: List[Engine] = engines()


class RunCPU:
    """CPU time of every process one run starts, whatever its parent.

    resource.RUSAGE_CHILDREN sees only the processes ansible-playbook
    reaps: our multiplexers' ssh processes, but not vanilla's ControlPersist
    masters, which daemonize out of the tree.  So each run goes into a
    cgroup of its own (cgroup v1 cpuacct, or v2), where those stay.  The
    latency relays every ssh connection goes through are test equipment,
    not part of any engine: each reports its own CPU in its stats file
    (tests/testbed/relay.py), and that is taken off.
    """

    V1 = "/sys/fs/cgroup/cpuacct"
    V2 = "/sys/fs/cgroup"

    def __init__(self) -> None:
        name = "bench-ansible-%d-%d" % (os.getpid(), time.monotonic_ns())
        self.v1 = os.path.isfile(os.path.join(self.V1, "cpuacct.usage"))
        if not self.v1 and not os.path.isfile(os.path.join(self.V2, "cgroup.controllers")):
            raise SystemExit("bench_ansible: needs a cpuacct (v1) or v2 cgroup to count controller CPU (run as root)")
        self.path = os.path.join(self.V1 if self.v1 else self.V2, name)
        os.mkdir(self.path)

    def join(self) -> None:
        """preexec_fn of the run: the new process enters the cgroup before it execs."""
        with open(os.path.join(self.path, "cgroup.procs"), "w") as fp:
            fp.write(str(os.getpid()))

    def seconds(self) -> float:
        if self.v1:
            with open(os.path.join(self.path, "cpuacct.usage")) as fp:
                return int(fp.read()) / 1e9
        with open(os.path.join(self.path, "cpu.stat")) as fp:
            usage = dict(line.split() for line in fp)
        return int(usage["usage_usec"]) / 1e6

    def end_leftovers(self) -> None:
        """SIGTERM what is still in the cgroup once the run is over and
        counted (ssh ControlPersist masters, waiting out their idle time)."""
        with open(os.path.join(self.path, "cgroup.procs")) as fp:
            for pid in fp.read().split():
                try:
                    os.kill(int(pid), signal.SIGTERM)
                except ProcessLookupError:
                    pass

    def close(self) -> None:
        """Remove the cgroup once its last process (a relay flushing its stats) is gone."""
        deadline = time.monotonic() + 10
        while True:
            try:
                os.rmdir(self.path)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def relay_cpu(run_dir: str) -> float:
    """CPU the run's latency relays spent (their stats files, written at exit)."""
    total = 0.0
    for path in glob.glob(os.path.join(run_dir, "relay-*.json")):
        with open(path) as fp:
            total += json.load(fp).get("cpu_s", 0.0)
    return total


def run_once(playbook: str, inventory: str, engine: Engine, forks: int, stats_dir: str) -> Dict[str, float]:
    """One measured run; `stats_dir` is where this run's relays write.

    The inventory's ProxyCommand writes to `stats_dir/current/`: that link
    is repointed to a fresh directory per run, because vanilla's
    ControlPersist masters (and their relays) outlive the run.
    """
    run_dir = tempfile.mkdtemp(prefix="run-", dir=stats_dir)
    link = os.path.join(stats_dir, "current")
    tmp_link = link + ".new"
    os.symlink(run_dir, tmp_link)
    os.replace(tmp_link, link)
    control_dir = tempfile.mkdtemp(prefix="bench-cp-")
    # A connect timeout of 60 s for every engine: with 20 or more targets
    # connecting at once on a loaded machine, the default 10 s made the
    # public Mitogen's run fail with unreachable hosts (4 Dec, load 30).
    env = harness.environment(engine.strategy, dict(
        engine.extra_env, ANSIBLE_SSH_CONTROL_PATH_DIR=control_dir, ANSIBLE_TIMEOUT="60"))
    cpu = RunCPU()
    started = time.monotonic()
    proc = subprocess.Popen([engine.ansible, "-i", inventory, "--forks", str(forks), playbook],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=cpu.join)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], tree_memory(proc.pid, control_dir))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out = proc.communicate(timeout=RUN_TIMEOUT)[0]
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)  # like Ctrl+C, so it cleans up
        out = proc.communicate(timeout=60)[0]
        done.set()
        raise RuntimeError("%s run hung for %ds:\n%s" % (engine.label, RUN_TIMEOUT, out[-2000:]))
    wall = time.monotonic() - started
    done.set()
    sampler.join()
    recap = harness.parse_recap(out)
    if proc.returncode != 0 or any(c.get("failed") or c.get("unreachable") for c in recap.values()):
        raise RuntimeError("%s run failed (rc %d):\n%s" % (engine.label, proc.returncode, out[-4000:]))
    _stop_control_masters(control_dir)
    time.sleep(1.5)  # relays flush their counters every second and at exit
    wire = up = 0
    for path in glob.glob(os.path.join(run_dir, "relay-*.json")):
        with open(path) as fp:
            stats = json.load(fp)
        wire += stats["to_target"] + stats["from_target"]
        up += stats["to_target"]
    relays = relay_cpu(run_dir)
    controller = cpu.seconds() - relays
    cpu.close()
    return {"wall_s": round(wall, 3), "cpu_s": round(controller, 3), "relay_cpu_s": round(relays, 3),
            "peak_pss_mb": round(peak[0] / 2**20, 1), "wire_bytes": wire, "up_bytes": up, "round_trips": round_trips(run_dir)}


def round_trips(run_dir: str) -> int:
    """Link round trips of a run: exchanges summed over its connections."""
    total = 0
    for path in glob.glob(os.path.join(run_dir, "events-*.txt")):
        with open(path) as fp:
            first = fp.readline()
        if first:
            delay = _relay_delay(path)
            total += len(turns.exchanges(turns.read_events([path]), delay))
    return total


def _relay_delay(events_path: str) -> float:
    """One-way delay (s) of the relay that wrote `events_path` (its stats file)."""
    stats = events_path.replace("events-", "relay-").replace(".txt", ".json")
    try:
        with open(stats) as fp:
            return json.load(fp)["delay_ms"] / 1000.0
    except (OSError, ValueError, KeyError):
        return 0.0


def _stop_control_masters(control_dir: str) -> None:
    """End vanilla's persistent ssh masters so the next run starts cold."""
    for path in glob.glob(os.path.join(control_dir, "*")):
        subprocess.run(["ssh", "-o", "ControlPath=" + path, "-O", "exit", "dummy"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)


def median_run(runs: List[Dict[str, float]]) -> Dict[str, float]:
    """The run of median wall time (the lower middle one for an even count),
    with every run's wall time beside it."""
    ordered = sorted(runs, key=lambda r: r["wall_s"])
    return dict(ordered[(len(ordered) - 1) // 2], walls_s=[r["wall_s"] for r in runs])


def measure_row(row: Dict, playbook: str, inventory: str, forks: int, stats_dir: str, repeat: int,
                loopback: str = None) -> Dict:
    """Fill `row` with each engine's median run and the ratios; prints them.
    With `loopback` (an inventory of the same targets without the delay),
    ours also runs there in every repeat: the cost of the delay is then
    taken between runs made minutes, not half an hour, apart (the VM's
    speed drifts by up to half over that time)."""
    label = "%s/%s" % (row["setup"], row["scenario"])
    runs: Dict[str, List[Dict[str, float]]] = {engine.label: [] for engine in ENGINES}
    ours = next((engine for engine in ENGINES if engine.label == "mitogen"), None)
    if loopback and ours:
        runs[LOOPBACK] = []
    try:
        # Engines alternate within each repeat: on a shared machine, the load
        # then weighs on each about equally.
        for _ in range(repeat):
            for engine in ENGINES:
                runs[engine.label].append(run_once(playbook, inventory, engine, forks, stats_dir))
            if LOOPBACK in runs:
                runs[LOOPBACK].append(run_once(playbook, loopback, ours, forks, stats_dir))
        for key, done in runs.items():
            row[key] = median_run(done)
    except RuntimeError as exc:
        row["error"] = str(exc)
        print("%-20s FAILED: %s" % (label, exc), flush=True)
        return row
    host_tasks = row["targets"] * HOST_TASKS[row["scenario"]]
    for engine in ENGINES:
        run = row[engine.label]
        if host_tasks:  # the empty play is start-up alone
            run["cpu_ms_per_host_task"] = round(run["cpu_s"] * 1000 / host_tasks, 2)
        print("%-20s %-8s %7.2fs wall %6.2fs cpu %6.0fMB %9dB, up %dB in %d round trips%s" % (
            label, engine.label, run["wall_s"], run["cpu_s"], run["peak_pss_mb"], run["wire_bytes"],
            run["up_bytes"], run["round_trips"],
            ", %.2f ms cpu per host-task" % run["cpu_ms_per_host_task"] if host_tasks else ""), flush=True)
    _ratios(row, label)
    if LOOPBACK in row:
        _delay_cost(row, label, runs)
    return row


def _delay_cost(row: Dict, label: str, runs: Dict[str, List[Dict[str, float]]]) -> None:
    """What the delay added to ours: median of the per-repeat differences."""
    extra = sorted(slow["wall_s"] - fast["wall_s"] for slow, fast in zip(runs["mitogen"], runs[LOOPBACK]))
    row["delay_cost_s"] = round(extra[len(extra) // 2], 3)
    tasks = HOST_TASKS[row["scenario"]]
    per_task = ", %.1f ms per task" % (row["delay_cost_s"] * 1000 / tasks) if tasks else ""
    print("%-20s ours: %.2fs on loopback, the delay added %.2fs%s (round trip %d ms)" % (
        "", row[LOOPBACK]["wall_s"], row["delay_cost_s"], per_task, 2 * row["delay_ms"]), flush=True)


def _ratios(row: Dict, label: str) -> None:
    """Ours against vanilla and against the public Mitogen, where measured."""
    mit = row.get("mitogen")
    van = row.get("vanilla")
    if mit and van:
        row["speedup"] = round(van["wall_s"] / mit["wall_s"], 2)
        row["cpu_ratio"] = round(van["cpu_s"] / max(mit["cpu_s"], 1e-3), 2)
        row["wire_ratio"] = round(van["wire_bytes"] / max(mit["wire_bytes"], 1), 2)
        print("%-20s ours vs vanilla: x%.2f wall, x%.2f cpu, x%.2f wire (ours/vanilla: %.2f wall, %.2f cpu)" % (
            "", row["speedup"], row["cpu_ratio"], row["wire_ratio"],
            mit["wall_s"] / van["wall_s"], mit["cpu_s"] / max(van["cpu_s"], 1e-3)), flush=True)
    for key in ("vars_plugin", "peer"):
        other = row.get(key)
        if not other:
            continue
        if van:
            row[key + "_speedup"] = round(van["wall_s"] / other["wall_s"], 2)
        if mit:
            print("%-20s ours/%s: %.2f wall, %.2f cpu" % (
                "", key, mit["wall_s"] / other["wall_s"], mit["cpu_s"] / max(other["cpu_s"], 1e-3)), flush=True)


def write_playbook(workdir: str, scenario: str) -> str:
    playbook = os.path.join(workdir, scenario + ".yml")
    with open(playbook, "w") as fp:
        fp.write(SCENARIOS[scenario])
    return playbook


def run_setup(workdir: str, setup: str, scenarios: List[str], repeat: int) -> List[Dict]:
    n, delay = SETUPS[setup]
    rows = []
    with Testbed.up(n=n) as bed:
        stats_dir = os.path.join(workdir, "stats-" + setup)
        os.makedirs(stats_dir)
        inventory = os.path.join(workdir, "inventory-%s.ini" % setup)
        write_inventory(bed, delay, stats_dir, inventory)
        loopback = None
        if delay:
            # the same targets without the delay, for "loopback time + N x RTT"
            loopback = os.path.join(workdir, "inventory-%s-loopback.ini" % setup)
            write_inventory(bed, 0, stats_dir, loopback)
        for scenario in scenarios:
            row = {"setup": setup, "targets": n, "delay_ms": delay, "scenario": scenario, "forks": max(5, n)}
            rows.append(measure_row(row, write_playbook(workdir, scenario), inventory, max(5, n), stats_dir, repeat,
                                    loopback))
    return rows


def run_forks_sweep(workdir: str, forks_list: List[int], repeat: int) -> List[Dict]:
    """Peak controller memory of both engines as --forks grows."""
    rows = []
    with Testbed.up(n=SWEEP_TARGETS) as bed:
        stats_dir = os.path.join(workdir, "stats-forks")
        os.makedirs(stats_dir)
        inventory = os.path.join(workdir, "inventory-forks.ini")
        write_inventory(bed, 0, stats_dir, inventory)
        playbook = write_playbook(workdir, SWEEP_SCENARIO)
        for forks in forks_list:
            row = {"setup": "forks-%d" % forks, "targets": SWEEP_TARGETS, "delay_ms": 0,
                   "scenario": SWEEP_SCENARIO, "forks": forks}
            rows.append(measure_row(row, playbook, inventory, forks, stats_dir, repeat))
    return rows


def compile_checkout(python: str) -> None:
    """Byte-compile our packages, as `pip install` does for a user: runs of
    the checkout would otherwise compile them on every start when
    PYTHONDONTWRITEBYTECODE is set (vanilla's ansible-core and the public
    Mitogen come compiled from their wheels)."""
    subprocess.run([python, "-m", "compileall", "-q", "mitogen", "ansible_mitogen", "ansible_collections"],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setups", default=",".join(SETUPS))
    parser.add_argument("--scenarios", default=None,
                        help="comma-separated; default: all (only command10 for 100 targets)")
    parser.add_argument("--forks-sweep", default="5,10,20,50",
                        help="forks values for the memory sweep on %d targets; empty to skip" % SWEEP_TARGETS)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--peer-venv", default="",
                        help="virtualenv with the public mitogen package: also time it, for comparison")
    parser.add_argument("--ansible-venv", default="",
                        help="virtualenv whose ansible-core runs vanilla and ours (ours from this checkout)")
    parser.add_argument("--ansible-core", default="",
                        help="e.g. 2.21: a cached venv of that release (tests/versions.py) instead of --ansible-venv")
    parser.add_argument("--python", default="",
                        help="controller Python minor for --ansible-core (default: the newest it supports here)")
    parser.add_argument("--engines", default="",
                        help="comma-separated labels to keep (vanilla, mitogen, peer, vars_plugin); default: all;"
                             " e.g. mitogen,peer for rows where vanilla would take most of an hour")
    parser.add_argument("--vars-plugin", action="store_true",
                        help="also time the vars-plugin entry point (builtin linear + accel.mitogen.accelerate)")
    args = parser.parse_args()
    ansible_venv = args.ansible_venv or (_release_venv(args.ansible_core, args.python) if args.ansible_core else "")
    ENGINES[:] = engines(args.peer_venv, ansible_venv, args.vars_plugin)
    if args.engines:
        ENGINES[:] = [e for e in ENGINES if e.label in args.engines.split(",")]
    print("ansible-core %s on Python %s" % _versions(ENGINES[0].ansible), flush=True)
    compile_checkout(os.path.join(os.path.dirname(ENGINES[0].ansible), "python"))
    workdir = tempfile.mkdtemp(prefix="bench-ansible-")
    with open(os.path.join(workdir, "bench.j2"), "w") as fp:
        fp.write(TEMPLATE)
    results: List[Dict] = []
    out = os.path.join(REPO, "bench", "results", "ansible-%s.json" % time.strftime("%Y%m%d-%H%M%S"))
    for setup in filter(None, args.setups.split(",")):
        names = args.scenarios or DEFAULT_SCENARIOS.get(setup) or ",".join(
            name for name in SCENARIOS if name != "command10")
        results += run_setup(workdir, setup, names.split(","), args.repeat)
        save(out, results)  # an interrupted run keeps what it measured
    if args.forks_sweep:
        results += run_forks_sweep(workdir, [int(f) for f in args.forks_sweep.split(",")], args.repeat)
    save(out, results)
    print("wrote", out)
    return 0


def _release_venv(core: str, python: str) -> str:
    from ansible_mitogen import support
    from tests import versions

    release = support.parse(core)
    found = versions.controller_pythons(release)
    if not found:
        raise SystemExit("no controller Python for ansible-core %s on this machine" % core)
    chosen = found.get(support.parse(python)) if python else found[max(found)]
    if chosen is None:
        raise SystemExit("no Python %s here for ansible-core %s (found %s)" % (python, core, sorted(found)))
    return versions.ansible_venv(release, chosen)


def _versions(ansible_playbook: str):
    """(ansible-core version, Python version) of an ansible-playbook script."""
    python = os.path.join(os.path.dirname(ansible_playbook), "python")
    out = subprocess.run([python, "-c", "import ansible.release, sys; print(ansible.release.__version__,"
                          " '%d.%d.%d' % sys.version_info[:3])"], capture_output=True, text=True)
    parts = out.stdout.split()
    return (parts[0], parts[1]) if len(parts) == 2 else ("unknown", "unknown")


def save(path: str, results: List[Dict]) -> None:
    core, python = _versions(ENGINES[0].ansible)
    with open(path, "w") as fp:
        json.dump({"results": results, "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
                   "ansible_core": core, "controller_python": python}, fp, indent=1)


if __name__ == "__main__":
    sys.exit(main())
