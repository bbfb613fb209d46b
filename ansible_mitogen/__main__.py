"""`python -m ansible_mitogen [paths|doctor]`: help for writing ansible.cfg.

Runs on the controller, by hand.  `paths` (the default) prints the strategy
plugin directory alone on the first line, so `strategy_plugins = $(python -m
ansible_mitogen | head -1)` works, then `setting = path` lines and the
collection's FQCN way.  `doctor` checks whether ansible uses us (doctor.py).
"""
import sys
from typing import List, Optional

from ansible_mitogen import collection, plugin_paths

USAGE = "usage: python -m ansible_mitogen [paths|doctor]\n"


def print_paths() -> int:
    paths = plugin_paths()
    print(paths["strategy_plugins"])
    for setting, path in paths.items():
        print("%s = %s" % (setting, path))
    print("# or, with no path at all (collection %s), a builtin strategy accelerated:" % collection.COLLECTION)
    print("vars_plugins_enabled = host_group_vars, %s" % collection.fqcn("accelerate"))
    print("# or our strategy plugin:")
    print("strategy = %s" % collection.fqcn("mitogen_linear"))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "paths"
    if command in ("paths", "--paths"):
        return print_paths()
    if command == "doctor":
        from ansible_mitogen import doctor

        return doctor.main(args[1:])
    sys.stderr.write(USAGE)
    return 0 if command in ("-h", "--help", "help") else 2


if __name__ == "__main__":
    sys.exit(main())
