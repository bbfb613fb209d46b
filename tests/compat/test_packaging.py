"""Our dependency range admits every supported ansible-core and disturbs none.

Controller-side.  pyproject.toml and the collection's meta/runtime.yml must
state exactly the range in ansible_mitogen/support.py, and a real `pip
install` of this checkout into a scratch venv that already holds
ansible-core 2.21 (what Ansible 14 users have) must leave every installed
distribution, ansible-core's files included, as they were.
"""
import hashlib
import os
import subprocess
import sys

import pytest
import yaml

from ansible_mitogen import support
from tests import versions
from tests.collection.conftest import REPO_ROOT, _copy_sources

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None


def test_pyproject_range_is_the_support_matrix():
    if tomllib is None:
        pytest.skip("tomllib needs Python 3.11")
    with open(os.path.join(REPO_ROOT, "pyproject.toml"), "rb") as fp:
        deps = tomllib.load(fp)["project"]["dependencies"]
    assert support.dependency_spec() in deps, deps
    assert support.dependency_spec() == "ansible-core>=2.17,<2.22"


def test_collection_requires_ansible_is_the_support_matrix():
    path = os.path.join(REPO_ROOT, "ansible_collections", "accel", "mitogen", "meta", "runtime.yml")
    with open(path) as fp:
        wanted = yaml.safe_load(fp)["requires_ansible"]
    assert "ansible-core" + wanted == support.dependency_spec()


def _outside() -> dict:
    """Run away from the checkout (its egg-info on '' of sys.path) and without PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("ANSIBLE_")}
    return {"cwd": "/", "env": env}


def _state(python: str) -> dict:
    """{distribution: version} plus a digest of ansible-core's installed files."""
    code = (
        "import hashlib, importlib.metadata as m, json\n"
        "dists = {d.metadata['Name'].lower(): d.version for d in m.distributions()}\n"
        "core = m.distribution('ansible-core')\n"
        "h = hashlib.sha256()\n"
        "for f in sorted(core.files, key=str):\n"
        "    p = f.locate()\n"
        "    if p.is_file() and '__pycache__' not in str(f):\n"
        "        h.update(str(f).encode()); h.update(p.read_bytes())\n"
        "print(json.dumps({'dists': dists, 'core_files': h.hexdigest()}))\n"
    )
    import json

    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, **_outside())
    return json.loads(out.stdout)


@pytest.mark.timeout(600)
def test_pip_install_next_to_ansible_core_2_21_changes_nothing_of_it(tmp_path):
    found = versions.controller_pythons(support.NEWEST)
    if not found:
        pytest.skip("no Python >= 3.12 on this machine for ansible-core 2.21")
    base = found[max(found)]
    root = str(tmp_path / "venv")
    subprocess.run([base, "-m", "venv", root], check=True, **_outside())
    pip = [os.path.join(root, "bin", "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run(pip + ["ansible-core==%d.%d.*" % support.NEWEST], check=True, **_outside())
    before = _state(os.path.join(root, "bin", "python"))
    source = tmp_path / "src"
    source.mkdir()
    _copy_sources(str(source))
    # not quiet: pip names anything it would uninstall or replace
    installed = subprocess.run([a for a in pip if a != "-q"] + [str(source)], capture_output=True, text=True,
                               **_outside())
    assert installed.returncode == 0, installed.stdout + installed.stderr
    after = _state(os.path.join(root, "bin", "python"))
    added = {k: v for k, v in after["dists"].items() if k not in before["dists"]}
    assert added == {"ansible-mitogen-accel": after["dists"]["ansible-mitogen-accel"]}, added
    assert {k: after["dists"][k] for k in before["dists"]} == before["dists"]
    assert after["core_files"] == before["core_files"], "pip rewrote ansible-core's files"
    assert "Uninstalling" not in installed.stdout + installed.stderr


def test_digest_helper_sees_files():
    """_state hashes real files: an empty digest would make the check above vacuous."""
    state = _state(sys.executable)
    assert state["core_files"] != hashlib.sha256().hexdigest()
    assert "ansible-core" in state["dists"]
