"""Command line for the test bed: `python -m tests.testbed up|down|status|images`.

For people and benchmarks working by hand; runs on the controller.  `up`
leaves its containers running and records them in a state file in the work
dir, which `down` and `status` read.
"""
import argparse
import atexit
import json
import os
import subprocess
import sys
import time

from tests.testbed import bed, cache, image

DEFAULT_WORKDIR = os.path.join(cache.cache_dir(), "cli")


def _state_path(workdir: str) -> str:
    return os.path.join(workdir, "state.json")


def _load(workdir: str) -> dict:
    try:
        with open(_state_path(workdir)) as fp:
            return json.load(fp)
    except FileNotFoundError:
        return {"sessions": []}


def _save(workdir: str, state: dict) -> None:
    with open(_state_path(workdir), "w") as fp:
        json.dump(state, fp, indent=1)


def cmd_up(args) -> int:
    os.makedirs(args.workdir, exist_ok=True)
    started = time.monotonic()
    state = _load(args.workdir)
    if state["sessions"]:
        print("targets are already up in %s; run `down` first" % args.workdir, file=sys.stderr)
        return 1
    tb = bed.Testbed.up(n=args.n, distro=args.distro, latency_ms=args.latency, workdir=args.workdir)
    atexit.unregister(tb.down)  # the CLI's targets outlive this process
    state["sessions"].append(tb.session)
    _save(args.workdir, state)
    print("%d targets up in %.1f s" % (len(tb.targets), time.monotonic() - started))
    for t in tb.targets:
        print("  %-10s %s:%d  %s" % (t.name, t.host, t.port, t.container))
    print("ssh:     ssh -F %s target-0" % tb.ssh_config)
    print("ansible: ansible -i %s all -m ping" % tb.inventory)
    return 0


def cmd_down(args) -> int:
    if args.all:
        names = bed.remove_all()
    else:
        state = _load(args.workdir)
        names = []
        for session in state["sessions"]:
            names += bed._labelled_containers(session)
        bed._docker_rm(names)
        state["sessions"] = []
        if os.path.isdir(args.workdir):
            _save(args.workdir, state)
    print("removed %d containers" % len(names))
    return 0


def cmd_status(args) -> int:
    subprocess.run(["docker", "ps", "-a", "--filter", "label=" + bed.LABEL, "--format",
                    "table {{.Names}}\t{{.Status}}\t{{.Label \"%s.port\"}}" % bed.LABEL])
    print("CLI work dir: %s (sessions: %s)" % (args.workdir, ", ".join(_load(args.workdir)["sessions"]) or "none"))
    return 0


def cmd_images(args) -> int:
    for distro in args.distro or ["bookworm"]:
        print(image.ensure(distro))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.testbed", description="Manage test-bed targets.")
    parser.add_argument("--workdir", default=DEFAULT_WORKDIR, help="where ssh_config, inventory and state live")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start N targets")
    up.add_argument("n", type=int, nargs="?", default=1)
    up.add_argument("--distro", default="bookworm", choices=sorted(image.DISTROS))
    up.add_argument("--latency", type=int, default=0, metavar="MS", help="one-way delay via the relay")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="remove the targets started by `up`")
    down.add_argument("--all", action="store_true", help="remove every test-bed container on this machine")
    down.set_defaults(func=cmd_down)
    sub.add_parser("status", help="list test-bed containers").set_defaults(func=cmd_status)
    images = sub.add_parser("images", help="build (or check) target images")
    images.add_argument("distro", nargs="*", help="one of %s" % ", ".join(sorted(image.DISTROS)))
    images.set_defaults(func=cmd_images)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
