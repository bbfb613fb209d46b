"""`python -m ansible_mitogen [paths]`: print where our Ansible plugins live.

Runs on the controller, for users writing ansible.cfg.  The first line is
the strategy plugin directory alone, so `strategy_plugins = $(python -m
ansible_mitogen | head -1)` works; the other lines are `setting = path`.
"""
import sys
from typing import List, Optional

from ansible_mitogen import plugin_paths


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] not in ("paths", "--paths"):
        sys.stderr.write("usage: python -m ansible_mitogen [paths]\n")
        return 2
    paths = plugin_paths()
    print(paths["strategy_plugins"])
    for setting, path in paths.items():
        print("%s = %s" % (setting, path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
