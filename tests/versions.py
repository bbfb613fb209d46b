"""Pythons on this machine and cached virtualenvs of each ansible-core release.

Controller-side helper for the version-matrix tests, the CI lane and the
benchmarks.  `find_pythons()` looks in the usual places (pyenv, /usr/bin,
/usr/local/bin); `ansible_venv(core, python)` builds once per machine a venv
holding only ansible-core `core`.* (our code comes from the checkout through
PYTHONPATH, as tests/ansible/harness.py sets it), cached under the test
bed's cache directory and shared by concurrent sessions under a lock.

Command line, used by mk/lane.mk:
    python -m tests.versions python 3.12+      # path of the newest Python >= 3.12
    python -m tests.versions lane-python 2.21 3.13   # 3.13, else the newest 2.21 supports
    python -m tests.versions venv 2.21 3.13    # build (if needed) and print the venv
"""
import glob
import os
import re
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

from ansible_mitogen import support
from tests.testbed import cache

Version = Tuple[int, int]
_SEARCH = ("/root/.pyenv/versions/*/bin/python3", "/usr/bin/python3.*", "/usr/local/bin/python3.*",
           os.path.expanduser("~/.pyenv/versions/*/bin/python3"))
_NAME = re.compile(r"python3(\.\d+)?$")


def _version_of(python: str) -> Optional[Version]:
    try:
        out = subprocess.run([python, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None  # broken, or without the venv module
    return support.parse(out.stdout.strip())


def find_pythons() -> Dict[Version, str]:
    """{(3, 13): '/root/.pyenv/versions/3.13.0/bin/python3', ...}, one per minor."""
    found: Dict[Version, str] = {}
    candidates: List[str] = []
    for pattern in _SEARCH:
        candidates += sorted(glob.glob(pattern))
    for path in candidates:
        if not _NAME.search(os.path.basename(path)) or not os.access(path, os.X_OK):
            continue
        version = _version_of(path)
        if version is not None and version not in found:
            found[version] = path
    return found


def controller_pythons(core: Version) -> Dict[Version, str]:
    """The Pythons found here on which ansible-core `core` may run."""
    low, high = support.ANSIBLE_CORE[core].controller
    return {v: p for v, p in find_pythons().items() if low <= v <= high}


def target_pythons(core: Version) -> Dict[Version, str]:
    """The Pythons found here that ansible-core `core` (and our target code) supports on a target."""
    low, high = support.ANSIBLE_CORE[core].target
    return {v: p for v, p in find_pythons().items() if low <= v <= high}


def ansible_venv(core: Version, python: str) -> str:
    """Root of a venv with the newest ansible-core `core` release and pytest, built once."""
    py = _version_of(python)
    if py is None:
        raise RuntimeError("%s is not a usable Python" % python)
    root = os.path.join(cache.cache_dir(), "venvs", "ansible-core-%d.%d-py%d.%d" % (core + py))
    marker = os.path.join(root, ".complete")
    with cache.locked("venv-%d.%d-py%d.%d" % (core + py)):
        if not os.path.exists(marker):
            subprocess.run([python, "-m", "venv", "--clear", root], check=True)
            pip = [os.path.join(root, "bin", "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            # pytest: the CI lane runs the suites with this venv's interpreter.
            subprocess.run(pip + ["ansible-core==%d.%d.*" % core, "pytest", "pytest-timeout", "PyYAML"],
                           check=True)
            open(marker, "w").close()
    return root


def main(argv: List[str]) -> int:
    if len(argv) == 2 and argv[0] == "python":
        want = support.parse(argv[1].rstrip("+"))
        found = sorted(v for v in find_pythons() if v >= want)
        if not found:
            print("no Python %s found on this machine" % argv[1], file=sys.stderr)
            return 1
        print(find_pythons()[found[-1]])
        return 0
    if len(argv) == 3 and argv[0] == "lane-python":
        # Python WANT if found, else the newest one ansible-core CORE supports.
        core, want = support.parse(argv[1]), support.parse(argv[2])
        found = controller_pythons(core)
        if not found:
            print("no Python for ansible-core %s found on this machine" % argv[1], file=sys.stderr)
            return 1
        print(found.get(want) or found[max(found)])
        return 0
    if len(argv) == 3 and argv[0] == "venv":
        core, py = support.parse(argv[1]), support.parse(argv[2])
        python = find_pythons().get(py)
        if python is None:
            print("no Python %s found on this machine" % argv[2], file=sys.stderr)
            return 1
        print(ansible_venv(core, python))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
