"""Start-up and no-target tasks: vanilla vs ours, and ours at another checkout.

Runs on the controller alone: an empty play and 100 `debug` tasks never
reach a target, so the one inventory host is never connected to (no test
bed).  Each round runs every variant once, in turn, so the load of a
shared machine weighs on each about equally; prints the median and the
best of wall time and controller CPU (user+sys of the process tree) per
variant, with the load average before and after, and writes JSON to
bench/results/.

    .venv/bin/python bench/bench_startup.py [--rounds 6] [--base DIR]
        # --base: a checkout of another commit (e.g. `git worktree add
        # --detach ../base main`), timed as "ours@base" with this venv
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.ansible import harness  # noqa: E402

PLAYS = {
    "empty": "- hosts: all\n  gather_facts: false\n  tasks: []\n",
    "debug100": "- hosts: all\n  gather_facts: false\n  tasks:\n" + "    - debug: msg=x\n" * 100,
}
# Never connected to: no task of these plays reaches a target.
INVENTORY = "[targets]\nt1 ansible_host=127.0.0.1 ansible_port=1 ansible_user=root\n"


def environment(checkout: str, strategy: str) -> Dict[str, str]:
    env = harness.environment(strategy)
    env["PYTHONPATH"] = checkout
    env["ANSIBLE_STRATEGY_PLUGINS"] = os.path.join(checkout, "ansible_mitogen", "plugins", "strategy")
    return env


def run_once(inventory: str, playbook: str, env: Dict[str, str]) -> Tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run([harness.ansible_bin(), "-i", inventory, playbook], env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit("%s failed:\n%s%s" % (playbook, proc.stdout, proc.stderr))
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def summary(runs: List[Tuple[float, float]]) -> Dict[str, float]:
    walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
    return {"wall_median_s": round(statistics.median(walls), 3), "wall_best_s": round(min(walls), 3),
            "cpu_median_s": round(statistics.median(cpus), 3), "cpu_best_s": round(min(cpus), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--base", default="", help="another checkout, timed as ours@base")
    args = parser.parse_args()
    variants = {"vanilla": (REPO, harness.VANILLA), "ours": (REPO, harness.MITOGEN)}
    if args.base:
        variants["ours@base"] = (os.path.abspath(args.base), harness.MITOGEN)
    for checkout, _ in variants.values():  # as pip install would: from bytecode
        subprocess.run([sys.executable, "-m", "compileall", "-q", "mitogen", "ansible_mitogen"],
                       cwd=checkout, stdout=subprocess.DEVNULL, check=True)
    workdir = tempfile.mkdtemp(prefix="bench-startup-")
    inventory = os.path.join(workdir, "inventory")
    with open(inventory, "w") as fp:
        fp.write(INVENTORY)
    results = []
    for name, text in PLAYS.items():
        playbook = os.path.join(workdir, name + ".yml")
        with open(playbook, "w") as fp:
            fp.write(text)
        load_before = os.getloadavg()
        runs: Dict[str, List[Tuple[float, float]]] = {label: [] for label in variants}
        for _ in range(args.rounds):
            for label, (checkout, strategy) in variants.items():
                runs[label].append(run_once(inventory, playbook, environment(checkout, strategy)))
        row = {"play": name, "rounds": args.rounds, "load_before": load_before, "load_after": os.getloadavg()}
        for label in variants:
            row[label] = summary(runs[label])
            print("%-9s %-10s wall median %.3f best %.3f s | CPU median %.3f best %.3f s" % (
                name, label, row[label]["wall_median_s"], row[label]["wall_best_s"],
                row[label]["cpu_median_s"], row[label]["cpu_best_s"]), flush=True)
        print("%-9s load %s -> %s" % (name, " ".join("%.1f" % x for x in load_before),
                                      " ".join("%.1f" % x for x in row["load_after"])), flush=True)
        results.append(row)
    out = os.path.join(REPO, "bench", "results", "startup-%s.json" % time.strftime("%Y%m%d-%H%M%S"))
    import ansible.release

    with open(out, "w") as fp:
        json.dump({"results": results, "cpus": os.cpu_count(), "ansible_core": ansible.release.__version__,
                   "controller_python": "%d.%d.%d" % sys.version_info[:3]}, fp, indent=1)
    print("wrote", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
