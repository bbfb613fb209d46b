"""DebOps common.yml under mitogen_linear gives vanilla's PLAY RECAP.

Controller side, one fresh DebOps-ready test-bed target (tests/debops/
image.py).  The vanilla recaps of a first and an idempotent second run are
stored in reference/*.json (`make -f mk/debops.mk debops-reference`); CI
runs only our engine and compares, counter by counter.
"""
import os

import pytest

from tests.ansible import harness
from tests.debops import debops_run, image


@pytest.fixture(scope="module")
def debops_target(testbed_factory, tmp_path_factory):
    testbed_factory  # docker must be usable: skip locally, fail in CI
    tb = image.up(1)
    yield tb, str(tmp_path_factory.mktemp("debops-secret"))
    tb.down()


@pytest.fixture(scope="module")
def runs(debops_target):
    """Our engine's runs on the shared target, filled in order by _run()."""
    return {}


def _reference(which: str):
    wanted = debops_run.load_reference(which)
    if wanted is None:
        pytest.skip("no %s (make -f mk/debops.mk debops-reference)" % debops_run.reference_path(which))
    return wanted


def _run(runs, debops_target, which: str) -> harness.RunResult:
    """The `which` run, doing the earlier passes first (a second run needs a first)."""
    tb, secret_root = debops_target
    for name in debops_run.PASSES[: debops_run.PASSES.index(which) + 1]:
        if name not in runs:
            runs[name] = debops_run.run_common(tb.inventory, harness.MITOGEN, secret_root, timeout=900)
    return runs[which]


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("which", debops_run.PASSES)
def test_recap_matches_vanilla_reference(request, which):
    wanted = _reference(which)  # before any container starts
    result = _run(request.getfixturevalue("runs"), request.getfixturevalue("debops_target"), which)
    assert result.recap, result.describe()
    got = debops_run.host_neutral(result)
    assert got == wanted, "%s run: ours %r, vanilla %r\n%s" % (which, got, wanted, result.describe())


@pytest.mark.timeout(1800)
def test_second_run_is_idempotent(request):
    if _reference("second").get("changed") != 0:
        pytest.skip("vanilla's second run changes things too")
    result = _run(request.getfixturevalue("runs"), request.getfixturevalue("debops_target"), "second")
    assert debops_run.host_neutral(result)["changed"] == 0, result.describe()


def test_reference_files_are_well_formed():
    for which in debops_run.PASSES:
        path = debops_run.reference_path(which)
        if os.path.exists(path):
            recap = debops_run.load_reference(which)
            assert set(recap) == set(harness.COUNTERS), path
            assert recap["failed"] == 0 and recap["unreachable"] == 0, path
