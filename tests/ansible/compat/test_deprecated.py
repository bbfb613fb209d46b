"""Restoring deprecated behaviours (ansible_mitogen/compat/deprecated.py).

Controller-side, localhost over `local`.  corpus/deprecated_behaviours.yml
relies on truthy conditionals and top-level facts.  With
`[accel_mitogen] restore_deprecated = true` it passes under our activation,
printing no deprecation for injected facts; without the setting, and under
vanilla with it, ansible-core 2.19+ fails on the string conditional.
"""
import os

import ansible.release
import pytest

from ansible_mitogen import support
from tests.ansible import harness
from tests.ansible.compat.test_corpus import CORPUS, ENTRY_POINT

PLAYBOOK = os.path.join(CORPUS, "deprecated_behaviours.yml")
BROKEN = "Conditional result"
FACTS_DEPRECATION = "top-level facts will not be auto injected"
STRICT = support.parse(ansible.release.__version__) >= (2, 19)


@pytest.fixture
def restore_cfg(tmp_path) -> str:
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[accel_mitogen]\nrestore_deprecated = true\n")
    return str(cfg)


def _run(inventory: str, accelerated: bool, cfg: str = "") -> harness.RunResult:
    env = dict(ENTRY_POINT if accelerated else {}, ANSIBLE_DEPRECATION_WARNINGS="True")
    if cfg:
        env["ANSIBLE_CONFIG"] = cfg
    return harness.run_playbook(PLAYBOOK, inventory, strategy=harness.VANILLA, env=env)


def test_restored_under_our_activation(local_inventory, restore_cfg):
    result = _run(local_inventory, True, restore_cfg)
    problem = harness.check_outcome(result, harness.expectations(PLAYBOOK))
    assert problem is None, "%s\n%s" % (problem, result.describe())
    out = result.stdout + result.stderr
    assert FACTS_DEPRECATION not in out, result.describe()


@pytest.mark.skipif(not STRICT, reason="ansible-core < 2.19 accepts truthy conditionals itself")
@pytest.mark.parametrize("accelerated, with_setting", [(True, False), (False, True)],
                         ids=["ours-without-setting", "vanilla-with-setting"])
def test_not_restored_otherwise(local_inventory, restore_cfg, accelerated, with_setting):
    result = _run(local_inventory, accelerated, restore_cfg if with_setting else "")
    assert result.rc != 0 and BROKEN in result.stdout + result.stderr, result.describe()


@pytest.mark.skipif(support.parse(ansible.release.__version__) < (2, 20),
                    reason="ansible-core < 2.20 does not deprecate injected facts")
def test_vanilla_deprecates_injected_facts(local_inventory):
    """The premise of the check above: vanilla warns on every top-level fact."""
    env = {"ANSIBLE_DEPRECATION_WARNINGS": "True", "ANSIBLE_ALLOW_BROKEN_CONDITIONALS": "True"}
    result = harness.run_playbook(PLAYBOOK, local_inventory, strategy=harness.VANILLA, env=env)
    assert result.rc == 0, result.describe()
    assert FACTS_DEPRECATION in result.stdout + result.stderr, result.describe()
