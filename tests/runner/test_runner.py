"""ansible-runner drives the same playbook under vanilla and under our strategy.

Controller side, against one test-bed target.  Our strategy is enabled only
through runner's envvars (ANSIBLE_STRATEGY, ANSIBLE_STRATEGY_PLUGINS); the
test then demands that what runner reports (events, per-host results, stats,
artifact files) is the same as for vanilla Ansible.
"""
import pytest

# Installed from tests/debops/requirements.txt (make realworld-deps).
pytest.importorskip("ansible_runner", reason="ansible-runner missing: pip install -r tests/debops/requirements.txt")

from tests.ansible import harness  # noqa: E402
from tests.runner import runner_compare  # noqa: E402


@pytest.fixture(scope="module")
def summaries(testbed, tmp_path_factory):
    """{strategy: summary} of one runner run each, vanilla first."""
    out = {}
    for strategy in (harness.VANILLA, harness.MITOGEN):
        private_data_dir = str(tmp_path_factory.mktemp("runner-" + strategy))
        runner_compare.prepare(private_data_dir, testbed.inventory)
        runner = runner_compare.run(private_data_dir, strategy, ident=strategy.replace("_", "-"))
        out[strategy] = runner_compare.summary(runner)
    return out


def test_vanilla_run_is_a_valid_reference(summaries):
    vanilla = summaries[harness.VANILLA]
    assert vanilla["status"] == "successful", vanilla
    # The playbook is built to produce each outcome kind at least once.
    for key in ("changed", "ignored", "rescued", "skipped", "ok"):
        assert sum(vanilla["stats"][key].values()) >= 1, key


def test_runner_status_and_rc_match(summaries):
    ours = summaries[harness.MITOGEN]
    assert (ours["status"], ours["rc"]) == (summaries[harness.VANILLA]["status"], summaries[harness.VANILLA]["rc"])


def test_event_types_and_counts_match(summaries):
    assert summaries[harness.MITOGEN]["event_counts"] == summaries[harness.VANILLA]["event_counts"]


def test_host_results_match(summaries):
    assert summaries[harness.MITOGEN]["host_results"] == summaries[harness.VANILLA]["host_results"]


def test_stats_match(summaries):
    assert summaries[harness.MITOGEN]["stats"] == summaries[harness.VANILLA]["stats"]


def test_artifacts_match(summaries):
    assert summaries[harness.MITOGEN]["artifacts"] == summaries[harness.VANILLA]["artifacts"]
