"""Every playbook in tests/ansible/playbooks/, under vanilla and under ours.

Controller-side pytest driver.  Each playbook runs once with the builtin
`linear` strategy (pipelining on) and once with `mitogen_linear` against
the test bed; both must reach the playbook's declared outcome (assert
tasks inside check behaviour) and their PLAY RECAP counters must agree.
"""
import pytest

from tests.ansible import harness

_vanilla_results = {}


def _vanilla(name: str, inventory: str) -> harness.RunResult:
    if name not in _vanilla_results:
        _vanilla_results[name] = harness.run_playbook(name, inventory, strategy=harness.VANILLA)
    return _vanilla_results[name]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", harness.list_playbooks())
def test_vanilla(name: str, inventory: str) -> None:
    result = _vanilla(name, inventory)
    problem = harness.check_outcome(result, harness.expectations(name))
    assert problem is None, "%s under vanilla: %s\n%s" % (name, problem, result.describe())


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", harness.list_playbooks())
def test_mitogen(name: str, inventory: str) -> None:
    result = harness.run_playbook(name, inventory, strategy=harness.MITOGEN)
    problem = harness.check_outcome(result, harness.expectations(name))
    assert problem is None, "%s under mitogen: %s\n%s" % (name, problem, result.describe())
    vanilla = _vanilla(name, inventory)
    assert result.recap == vanilla.recap, "recap differs:\nvanilla %r\nmitogen %r\n%s" % (
        vanilla.recap,
        result.recap,
        result.describe(),
    )
