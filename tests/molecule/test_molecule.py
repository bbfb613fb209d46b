"""`molecule test` of the example role, converging under our strategy.

Controller side.  The scenario (motd_banner/molecule/default) uses the docker
driver on the pre-built `mitogen-testbed:bookworm` image with host
networking; converge, idempotence and verify run with `strategy:
mitogen_linear`.  Passing means molecule's idempotence check saw changed=0
on the second converge under our strategy.
"""
import os
import shutil
import subprocess
import sys
import uuid

import pytest

import ansible_mitogen
from tests.debops import collection_cache
from tests.testbed import image

HERE = os.path.dirname(os.path.abspath(__file__))
ROLE_DIR = os.path.join(HERE, "motd_banner")


def molecule_env() -> dict:
    venv_bin = os.path.dirname(sys.executable)
    env = dict(os.environ)
    env.update(
        PATH=os.pathsep.join((venv_bin, env.get("PATH", ""))),
        MITOGEN_STRATEGY_PLUGINS=ansible_mitogen.plugin_paths()["strategy_plugins"],
        # community.docker (the driver's modules and connection) comes from
        # the same offline collection cache as DebOps' collections.
        ANSIBLE_COLLECTIONS_PATH=collection_cache.collections_path(),
        MOLECULE_INSTANCE_SUFFIX=uuid.uuid4().hex[:8],
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        NO_COLOR="1",
        PY_COLORS="0",
    )
    return env


@pytest.fixture(scope="module")
def molecule_run(testbed_factory):
    testbed_factory  # docker must be usable (skip locally / fail in CI otherwise)
    if shutil.which("molecule", path=os.path.dirname(sys.executable)) is None:
        pytest.fail("molecule is not installed in the venv (tests/molecule/requirements.txt)")
    image.ensure("bookworm")
    env = molecule_env()
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "molecule"), "test"],
        cwd=ROLE_DIR, env=env, capture_output=True, text=True, timeout=600,
    )
    return proc


def test_molecule_test_passes(molecule_run):
    out = molecule_run.stdout + molecule_run.stderr
    assert molecule_run.returncode == 0, out[-6000:]
    assert "idempotence: Executed: Successful" in out, out[-6000:]


def test_converge_ran_under_our_strategy(molecule_run):
    out = molecule_run.stdout + molecule_run.stderr
    # The play-level `strategy: mitogen_linear` loaded our plugin (an unknown
    # strategy aborts the play) and the converge post-task reported back.
    assert out.count("engine process:") >= 2, out[-6000:]
    assert "ERROR! Invalid play strategy" not in out
