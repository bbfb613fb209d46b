"""Benchmark: DebOps common.yml under vanilla Ansible and under mitogen_linear.

Runs on the controller against DebOps-ready test-bed containers
(tests/debops/image.py).  For 1 target and for 10 targets at once it runs
common.yml twice per engine on fresh containers (first run: everything
changes; second run: idempotent) and records wall time, controller CPU
(every process the run started, ssh ControlPersist masters included: a
cgroup per run, bench_ansible.RunCPU) and peak
controller memory (PSS summed over the process tree, sampled), and the
CPU time the target containers used (their cgroups: sshd, modules, dpkg),
which shows how much of a run is work on the targets.  Prints
ratios, writes JSON to bench/results/debops-<time>.json and redraws
docs/img/debops-wall.png with bench/plot.py.  The load average before and
after each run is recorded: the machine is shared.

    .venv/bin/python bench/bench_debops.py [--targets 1,10] [--runs N] [--engines linear,mitogen_linear]
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Sequence

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_ansible import RunCPU, tree_memory  # noqa: E402  (CPU of the run's cgroup, PSS of the process tree)
from tests.ansible import harness  # noqa: E402
from tests.debops import debops_run, image  # noqa: E402

RUN_TIMEOUT = 3600
RESULTS = os.path.join(REPO, "bench", "results", "debops-%s.json" % time.strftime("%Y%m%d-%H%M%S", time.gmtime()))
LOG_DIR = os.environ.get("BENCH_DEBOPS_LOGS", "/tmp")
METRICS = ("wall_s", "cpu_s", "peak_pss_mb", "target_cpu_s")
CGROUP_USAGE = (
    "/sys/fs/cgroup/cpuacct/docker/{id}/cpuacct.usage",  # cgroup v1: nanoseconds
    "/sys/fs/cgroup/system.slice/docker-{id}.scope/cpu.stat",  # v2: usage_usec line
)


def load_average() -> List[float]:
    """1/5/15-minute load: the machine is shared, a busy one slows both engines unevenly."""
    return [round(x, 2) for x in os.getloadavg()]


def container_cpu_seconds(containers: Sequence[str]) -> Optional[float]:
    """CPU time used so far by the target containers (sshd, modules, dpkg...); None if unknown."""
    if not containers:
        return None
    ids = subprocess.run(["docker", "inspect", "-f", "{{.Id}}"] + list(containers),
                         capture_output=True, text=True, check=False).stdout.split()
    total = 0.0
    for cid in ids:
        for pattern in CGROUP_USAGE:
            try:
                with open(pattern.format(id=cid)) as fp:
                    text = fp.read()
            except OSError:
                continue
            if pattern.endswith("cpu.stat"):
                total += int(text.split("usage_usec")[1].split()[0]) / 1e6
            else:
                total += int(text) / 1e9
            break
        else:
            return None
    return total


def measured_run(inventory: str, strategy: str, secret_root: str, forks: int, log_path: str,
                 task_times: bool = False, containers: Sequence[str] = ()) -> Dict[str, Any]:
    """One common.yml run with wall time, tree CPU and peak tree PSS; output to `log_path`."""
    os.makedirs(secret_root, exist_ok=True)
    env = harness.environment(strategy, debops_run.environment_extra(secret_root, forks))
    if task_times:
        # per-task durations in the log, for finding where the time goes
        env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks"
        env["PROFILE_TASKS_TASK_OUTPUT_LIMIT"] = "all"
    load_before = load_average()
    argv = [harness.ansible_bin(), "-i", debops_run.INVENTORY_DIR, "-i", inventory, debops_run.playbook()]
    cpu_count = RunCPU()
    target_before = container_cpu_seconds(containers)
    started = time.monotonic()
    log = open(log_path, "w")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                            preexec_fn=cpu_count.join)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            peak[0] = max(peak[0], tree_memory(proc.pid))

    threading.Thread(target=sample, daemon=True).start()
    try:
        proc.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        raise RuntimeError("%s hung, see %s" % (strategy, log_path))
    finally:
        done.set()
        log.close()
    with open(log_path) as fp:
        out = fp.read()
    wall = time.monotonic() - started
    recap = harness.parse_recap(out)
    cpu = cpu_count.seconds()
    cpu_count.end_leftovers()
    cpu_count.close()
    target_after = container_cpu_seconds(containers)
    target_cpu = None if target_before is None or target_after is None else round(target_after - target_before, 1)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "peak_pss_mb": round(peak[0] / 2**20, 1),
            "target_cpu_s": target_cpu,
            "rc": proc.returncode, "recap": recap, "log": log_path, "load_before": load_before, "load_after": load_average()}


def bench_setup(n: int, strategy: str, forks: int, repeat: int = 0, task_times: bool = False,
                passes: Sequence[str] = debops_run.PASSES) -> Dict[str, Any]:
    """First and second run (or only `passes`) of one engine on n fresh targets."""
    with image.up(n) as tb:
        secret_root = os.path.join(tb.workdir, "secret")
        row: Dict[str, Any] = {"targets": n, "engine": strategy, "forks": forks, "repeat": repeat}
        for which in passes:
            log_path = os.path.join(LOG_DIR, "debops-%d-%s-%s-%d.log" % (n, strategy, which, repeat))
            row[which] = measured_run(tb.inventory, strategy, secret_root, forks, log_path, task_times,
                                      [t.container for t in tb.targets])
            print("%2d targets %-15s %-6s %s" % (n, strategy, which, {
                k: v for k, v in row[which].items() if k != "recap"}), flush=True)
    return row


def save_reference(rows: List[Dict[str, Any]]) -> None:
    """Vanilla's clean 1-target recaps become the CI reference."""
    for row in rows:
        if row["targets"] != 1 or row["engine"] != harness.VANILLA:
            continue
        for which in debops_run.PASSES:
            run = row.get(which)
            if run is None:
                continue
            recap = next(iter(run["recap"].values()), {})
            if run["rc"] == 0 and not recap.get("failed"):
                with open(run["log"]) as fp:
                    debops_run.save_reference(which, recap, run["wall_s"], fp.read())
                print("reference saved:", debops_run.reference_path(which))


def median_run(rows: List[Dict[str, Any]], n: int, engine: str, which: str) -> Dict[str, float]:
    """Per-metric median over the repeats of one (targets, engine, pass)."""
    runs = [r[which] for r in rows if r["targets"] == n and r["engine"] == engine and which in r]
    medians = {}
    for key in METRICS:
        values = [run[key] for run in runs if run.get(key) is not None]
        if values:
            medians[key] = statistics.median(values)
    return medians


def ratios(rows: List[Dict[str, Any]]) -> List[str]:
    lines = []
    for n in sorted({r["targets"] for r in rows}):
        for which in debops_run.PASSES:
            v, o = median_run(rows, n, harness.VANILLA, which), median_run(rows, n, harness.MITOGEN, which)
            if not (v and o):
                continue
            lines.append("%2d targets %-6s wall %6.1f -> %6.1f s (%+.0f%%)  cpu %6.1f -> %6.1f s  pss %5.0f -> %5.0f MiB"
                         "  target cpu %s -> %s s" % (
                             n, which, v["wall_s"], o["wall_s"], 100.0 * (o["wall_s"] - v["wall_s"]) / v["wall_s"],
                             v["cpu_s"], o["cpu_s"], v["peak_pss_mb"], o["peak_pss_mb"],
                             v.get("target_cpu_s", "?"), o.get("target_cpu_s", "?")))
    return lines


def plot() -> None:
    """docs/img/debops-wall.png from every bench/results/debops*.json (bench/plot.py)."""
    subprocess.run([sys.executable, os.path.join(REPO, "bench", "plot.py")], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default="1,10")
    parser.add_argument("--engines", default="%s,%s" % (harness.VANILLA, harness.MITOGEN))
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--runs", type=int, default=1, help="repeats per setup (fresh containers each), medians reported")
    parser.add_argument("--passes", default=",".join(debops_run.PASSES),
                        help="'first' alone halves the time (a second run needs a first)")
    parser.add_argument("--task-times", action="store_true", help="log per-task durations (ansible.posix.profile_tasks)")
    parser.add_argument("--save-reference", action="store_true",
                        help="store vanilla's 1-target recaps as tests/debops/reference")
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args()
    image.ensure()
    rows = []
    for n in (int(x) for x in args.targets.split(",")):
        for repeat in range(args.runs):
            for engine in args.engines.split(","):
                rows.append(bench_setup(n, engine, args.forks, repeat, args.task_times, args.passes.split(",")))
    if args.save_reference:
        save_reference(rows)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fp:
        json.dump({"when": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count(),
                   "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
                   "rows": rows}, fp, indent=1, sort_keys=True)
    print("\n".join(ratios(rows)))
    plot()
    return 0


if __name__ == "__main__":
    sys.exit(main())
