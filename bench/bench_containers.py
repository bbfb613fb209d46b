"""20 containers behind one ssh host over a slow link: vanilla vs ours.

Runs on the controller.  One test-bed target (`DockerHostTestbed`: docker
CLI + socket inside) sits behind the test bed's latency relay (9 ms each
way, byte counters); 20 plain containers are entered from it.

* vanilla: community.docker.docker with `ansible_docker_extra_args=-H
  ssh://target-0`, i.e. every docker exec tunnels to the daemon through a
  fresh ssh connection over the relay;
* ours: `ansible_connection=docker` + `mitogen_via=target-0`: one ssh
  connection, 20 container contexts behind it;
* ours without the source relay (`mitogen_source_relay=false`), to show
  what module sources cost when each container fetches its own copy.

Records wall time, bytes through the relay and ssh connections made, prints
ratios and writes JSON to bench/results/containers-<time>.json.

    .venv/bin/python bench/bench_containers.py [--containers 20] [--delay-ms 9]
"""
import argparse
import glob
import json
import os
import stat
import sys
import tempfile
import time
from typing import Dict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.ansible import harness  # noqa: E402
from tests.debops import collection_cache  # noqa: E402
from tests.testbed.docker_host import Boxes, DockerHostTestbed  # noqa: E402

PLAYBOOK = """
- hosts: boxes
  gather_facts: false
  tasks:
    - command: /bin/true
    - command: hostname
    - copy:
        content: "{{ inventory_hostname }}\\n"
        dest: /tmp/bench-containers
    - stat:
        path: /tmp/bench-containers
    - lineinfile:
        path: /tmp/bench-containers
        line: second
    - file:
        path: /tmp/bench-containers
        state: absent
"""


def relay_totals(workdir: str) -> Dict[str, int]:
    """Bytes through the relay and ssh connections made, since the last reset."""
    totals = {"to_target": 0, "from_target": 0, "connections": 0}
    for path in glob.glob(os.path.join(workdir, "relay-*.json")):
        with open(path) as fp:
            stats = json.load(fp)
        totals["to_target"] += stats["to_target"]
        totals["from_target"] += stats["from_target"]
        totals["connections"] += 1
    return totals


def reset_relay_stats(workdir: str) -> None:
    for path in glob.glob(os.path.join(workdir, "relay-*.json")):
        os.unlink(path)


def ssh_wrapper_dir(ssh_config: str) -> str:
    """A PATH entry whose `ssh` reads the test bed's ssh_config: the docker
    CLI's ssh:// transport runs plain `ssh` and has no option for it."""
    directory = tempfile.mkdtemp(prefix="bench-containers-ssh-")
    path = os.path.join(directory, "ssh")
    with open(path, "w") as fp:
        fp.write('#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' % ssh_config)
    os.chmod(path, stat.S_IRWXU)
    return directory


def write_inventory(path: str, tb, boxes, mode: str) -> None:
    with open(tb.inventory) as fp:
        t0 = [line.strip() for line in fp if line.startswith("target-0 ")][0]
    lines = ["[targets]", t0, "[boxes]"]
    for i, name in enumerate(boxes.names):
        lines.append("box%d ansible_host=%s" % (i, name))
    lines += ["[boxes:vars]", "ansible_python_interpreter=/usr/bin/python3"]
    if mode == "vanilla":
        lines += ["ansible_connection=community.docker.docker", "ansible_docker_extra_args=-H ssh://root@target-0"]
    else:
        lines += ["ansible_connection=docker", "mitogen_via=target-0"]
        if mode == "ours-no-relay":
            lines.append("mitogen_source_relay=false")
    with open(path, "w") as fp:
        fp.write("\n".join(lines) + "\n")


def run(mode: str, tb, boxes, workdir: str, env: Dict[str, str]) -> Dict[str, object]:
    inventory = os.path.join(workdir, "inventory-%s.ini" % mode)
    write_inventory(inventory, tb, boxes, mode)
    playbook = os.path.join(workdir, "playbook.yml")
    with open(playbook, "w") as fp:
        fp.write(PLAYBOOK)
    reset_relay_stats(tb.workdir)
    strategy = harness.VANILLA if mode == "vanilla" else harness.MITOGEN
    result = harness.run_playbook(playbook, inventory, strategy=strategy, args=["-f", "20"], env=env, timeout=1800)
    time.sleep(1.5)  # relays write their final counts when ssh exits
    if result.rc != 0:
        raise SystemExit("%s run failed:\n%s" % (mode, result.describe()))
    out: Dict[str, object] = {"wall_s": round(result.seconds, 2), "recap": result.totals()}
    out.update(relay_totals(tb.workdir))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=20)
    parser.add_argument("--delay-ms", type=int, default=9)
    args = parser.parse_args()
    collections = collection_cache.collections_path()
    workdir = tempfile.mkdtemp(prefix="bench-containers-")
    with DockerHostTestbed.up(n=1, latency_ms=args.delay_ms) as tb:
        boxes = Boxes.start(tb.session, args.containers)
        try:
            vanilla_env = {
                "ANSIBLE_COLLECTIONS_PATH": collections,
                "PATH": ssh_wrapper_dir(tb.ssh_config) + os.pathsep + os.environ["PATH"],
            }
            results = {
                "ours": run("ours", tb, boxes, workdir, {}),
                "ours-no-relay": run("ours-no-relay", tb, boxes, workdir, {}),
                "vanilla": run("vanilla", tb, boxes, workdir, vanilla_env),
            }
        finally:
            boxes.remove()
    report(results, args)


def report(results: Dict[str, Dict[str, object]], args) -> None:
    doc = {"benchmark": "containers", "containers": args.containers, "delay_ms": args.delay_ms,
           "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
           "load_avg": os.getloadavg(), "results": results}
    print("%-14s %8s %12s %12s %6s" % ("mode", "wall s", "to target", "from target", "ssh"))
    for mode, r in results.items():
        print("%-14s %8.1f %12d %12d %6d" % (mode, r["wall_s"], r["to_target"], r["from_target"], r["connections"]))
    ours, vanilla, no_relay = results["ours"], results["vanilla"], results["ours-no-relay"]
    print("vanilla/ours: wall x%.1f, bytes to target x%.1f" % (
        vanilla["wall_s"] / ours["wall_s"], vanilla["to_target"] / max(1, ours["to_target"])))
    print("source relay saves %d bytes to the target (%.0f%%)" % (
        no_relay["to_target"] - ours["to_target"],
        100.0 * (no_relay["to_target"] - ours["to_target"]) / max(1, no_relay["to_target"])))
    path = os.path.join(REPO, "bench", "results", time.strftime("containers-%Y%m%d-%H%M%S.json", time.gmtime()))
    with open(path, "w") as fp:
        json.dump(doc, fp, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
