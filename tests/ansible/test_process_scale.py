"""Many targets at once: every host reachable, every task ok.

Controller-side; starts 20 test-bed targets and runs a playbook against all
of them with forks=20 under mitogen_linear.
"""
import pytest

from tests.ansible import harness

TARGETS = 20


@pytest.mark.timeout(300)
def test_twenty_targets_all_ok(testbed_factory):
    bed = testbed_factory(n=TARGETS)
    result = harness.run_playbook("connection_trivial.yml", bed.inventory, strategy=harness.MITOGEN,
                                  args=["--forks", str(TARGETS)])
    assert result.rc == 0, result.describe()
    assert len(result.recap) == TARGETS, result.describe()
    for host, counters in result.recap.items():
        assert counters["unreachable"] == 0 and counters["failed"] == 0, (host, result.describe())
        assert counters["ok"] == 5, (host, counters)
