"""A fresh virtualenv with ansible-core and our package, as a user gets it.

Used by tests/collection/ on the controller.  Built once per session:
`python -m venv` of the Python running the tests, then one non-editable
`pip install` of ansible-core (the version we run under, from pip's cache)
and a copy of this checkout's package sources.  Subprocesses get an environment without PYTHONPATH or
ANSIBLE_* so nothing of the checkout or the caller leaks in.
"""
import os
import shutil
import subprocess
import sys
from typing import Dict, List, Optional

import ansible.release
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# What a source distribution of the package holds.
PACKAGE_SOURCES = ("pyproject.toml", "setup.py", "README.md", "mitogen", "ansible_mitogen", "ansible_collections")


class FreshVenv:
    """The session's virtualenv; `run` executes one of its tools."""

    def __init__(self, root: str, source: str):
        self.root = root
        self.source = source  # copy of the package sources that was installed
        self.python = self.bin("python")

    def bin(self, tool: str) -> str:
        return os.path.join(self.root, "bin", tool)

    def site_packages(self) -> str:
        out = self.run([self.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
        return out.stdout.strip()

    def env(self, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and k != "PYTHONPATH"}
        env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_RETRY_FILES_ENABLED="False")
        env.update(extra or {})
        return env

    def run(self, argv: List[str], cwd: Optional[str] = None, env: Optional[Dict[str, str]] = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=cwd or self.root, env=self.env(env), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout)

    def playbook(self, workdir: str, playbook: str, inventory: str, env: Optional[Dict[str, str]] = None,
                 args: List[str] = ()) -> subprocess.CompletedProcess:
        """Write playbook and inventory into `workdir` and run them from there."""
        for name, text in (("site.yml", playbook), ("inventory.ini", inventory)):
            with open(os.path.join(workdir, name), "w") as fp:
                fp.write(text)
        argv = [self.bin("ansible-playbook"), "-i", "inventory.ini", "site.yml"] + list(args)
        return self.run(argv, cwd=workdir, env=env)


def _copy_sources(dest: str) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in PACKAGE_SOURCES:
        src = os.path.join(REPO_ROOT, name)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dest, name), ignore=ignore)
        else:
            shutil.copy2(src, dest)


def make_venv(root: str) -> FreshVenv:
    """An empty venv of the Python running the tests (the CI lane's 3.13 for ansible-core 2.21).

    Without pip of its own: `pip_install` drives the running Python's pip
    into it, so a Python without ensurepip (Debian's, in the lane's
    container) works too.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", root], check=True)
    return FreshVenv(root, "")


def pip_install(venv: FreshVenv, args: List[str], timeout: float = 300) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "pip", "--python", venv.python, "install", "-q", "--disable-pip-version-check"]
    return venv.run(argv + list(args), timeout=timeout)


@pytest.fixture(scope="session")
def fresh_venv(tmp_path_factory) -> FreshVenv:
    base = tmp_path_factory.mktemp("collection")
    source, root = str(base / "src"), str(base / "venv")
    os.mkdir(source)
    _copy_sources(source)
    venv = make_venv(root)
    venv.source = source
    pip = pip_install(venv, ["ansible-core==" + ansible.release.__version__, source])
    assert pip.returncode == 0, pip.stdout
    return venv
