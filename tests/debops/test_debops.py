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


# Both runs take ~8-10 minutes of a 2-core CI machine; DEBOPS_TEST_PASSES=first
# halves that when the budget is tight.
SELECTED_PASSES = os.environ.get("DEBOPS_TEST_PASSES", ",".join(debops_run.PASSES)).split(",")


def _reference(which: str):
    if which not in SELECTED_PASSES:
        pytest.skip("DEBOPS_TEST_PASSES=%s" % ",".join(SELECTED_PASSES))
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


def _changed_tasks_diff(which: str, stdout: str) -> str:
    """Which tasks changed under one engine only: the recap counts, this names."""
    doc = debops_run.load_reference_doc(which) or {}
    if "changed_tasks" not in doc:
        return "(reference has no changed_tasks)"
    ours, vanilla = debops_run.tasks_with(stdout, "changed"), doc["changed_tasks"]
    return "changed only under ours: %r\nchanged only under vanilla: %r" % (
        [t for t in ours if t not in vanilla], [t for t in vanilla if t not in ours])


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("which", debops_run.PASSES)
def test_recap_matches_vanilla_reference(request, which):
    wanted = _reference(which)  # before any container starts
    result = _run(request.getfixturevalue("runs"), request.getfixturevalue("debops_target"), which)
    assert result.recap, result.describe()
    got = debops_run.host_neutral(result)
    assert got == wanted, "%s run: ours %r, vanilla %r\n%s\n%s" % (
        which, got, wanted, _changed_tasks_diff(which, result.stdout), result.describe())


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("which", debops_run.PASSES)
def test_same_tasks_change_as_vanilla(request, which):
    _reference(which)
    doc = debops_run.load_reference_doc(which) or {}
    if "changed_tasks" not in doc:
        pytest.skip("reference %s lists no changed_tasks" % debops_run.reference_path(which))
    result = _run(request.getfixturevalue("runs"), request.getfixturevalue("debops_target"), which)
    got = debops_run.tasks_with(result.stdout, "changed")
    assert got == doc["changed_tasks"], _changed_tasks_diff(which, result.stdout)


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


def test_tasks_with_names_each_changed_or_failed_task_once():
    stdout = "\n".join([
        "TASK [apt : Install packages] ****",
        "changed: [target-0] => (item=a)",
        "changed: [target-0] => (item=b)",
        "TASK [apt : Check] ****",
        "ok: [target-0]",
        "RUNNING HANDLER [sshd : Test sshd configuration and restart] ****",
        "changed: [target-0]",
        "TASK [cron : Boom] ****",
        "fatal: [target-0]: FAILED! => {}",
    ])
    assert debops_run.tasks_with(stdout, "changed") == [
        "apt : Install packages", "sshd : Test sshd configuration and restart"]
    assert debops_run.tasks_with(stdout, "failed") == ["cron : Boom"]
