"""Workers stop re-importing plugins an earlier worker loaded (plugin_warmup).

Controller-side: runs playbooks/templating_lookups.yml, whose
`import_witness` lookup appends the importing pid to a file, under vanilla
and under mitogen_linear.  Vanilla imports it in every task worker that
uses it; ours in the first worker per host and once more in the strategy
process, whose later workers inherit it.
"""
import pytest

from tests.ansible import harness

PLAYBOOK = "templating_lookups.yml"
TASKS_USING_THE_LOOKUP = 3


def _imports(strategy: str, inventory: str, tmp_path) -> tuple:
    log = tmp_path / ("imports-%s.log" % strategy)
    result = harness.run_playbook(PLAYBOOK, inventory, strategy=strategy, env={"IMPORT_WITNESS_LOG": str(log)})
    assert harness.check_outcome(result, {}) is None, result.describe()
    return log.read_text().split(), len(result.recap)


@pytest.mark.timeout(300)
def test_later_workers_inherit_loaded_plugins(inventory, tmp_path):
    vanilla, hosts = _imports(harness.VANILLA, inventory, tmp_path)
    ours, _ = _imports(harness.MITOGEN, inventory, tmp_path)
    assert len(vanilla) == TASKS_USING_THE_LOOKUP * hosts
    assert len(ours) <= hosts + 1, ours
    assert len(set(ours)) == len(ours)  # each import in its own process
