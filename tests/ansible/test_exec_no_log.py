"""no_log: a secret never shows in ansible-playbook output, even at -vvvv.

Controller-side: runs tests/ansible/playbooks/exec_no_log.yml against the
test bed under vanilla and under mitogen_linear with -vvvv and greps the
whole output (stdout and stderr, which carry our debug logging too).
"""
import pytest

from tests.ansible import harness

SECRET = "s3cr3t-do-not-print-4711"


@pytest.mark.timeout(300)
@pytest.mark.parametrize("strategy", [harness.VANILLA, harness.MITOGEN])
def test_secret_absent_at_vvvv(strategy: str, inventory: str) -> None:
    result = harness.run_playbook("exec_no_log.yml", inventory, strategy=strategy, args=["-vvvv"],
                                  env={"MITOGEN_LOG_LEVEL": "DEBUG"})
    assert result.rc == 0, result.describe()
    # the module really ran with the secret (the play asserts on its output)
    assert "VISIBLE!" in result.stdout
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr
