"""mitogen_get_stack reports the hops of a connection with secrets masked.

Controller-side; runs ansible-playbook over the local connection, so it
needs no container.
"""
import pytest

import ansible_mitogen
from tests.ansible import harness

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - mitogen_get_stack:
      register: plain
    - mitogen_get_stack:
      vars:
        ansible_connection: mitogen_sudo
        ansible_user: nobody
        ansible_password: s3cret-value
        mitogen_mask_remote_name: true
      register: sudo
    - assert:
        that:
          - plain.result | length == 1
          - plain.result[0].method == "local"
          - plain.result[0].kwargs.remote_name.startswith("python(mitogen:")
          - sudo.result | length == 1
          - sudo.result[0].method == "sudo"
          - sudo.result[0].kwargs.username == "nobody"
          - sudo.result[0].kwargs.password == "********"
          - sudo.result[0].kwargs.remote_name == "python(mitogen:ansible)"
"""


@pytest.mark.timeout(120)
def test_get_stack_masks_password(tmp_path, local_inventory):
    playbook = tmp_path / "stack.yml"
    playbook.write_text(PLAYBOOK)
    result = harness.run_playbook(str(playbook), local_inventory, strategy=harness.MITOGEN, args=["-vvv"],
                                  # tasks are parsed before the strategy loads: users add this to ansible.cfg
                                  env={"ANSIBLE_ACTION_PLUGINS": ansible_mitogen.plugin_paths()["action_plugins"]})
    assert result.rc == 0, result.describe()
    assert result.recap["localhost"]["ok"] == 3, result.describe()
    assert "s3cret-value" not in result.stdout + result.stderr


STRATEGY_PLAYBOOK = """
- hosts: all
  gather_facts: false
  {keyword}
  tasks:
    - mitogen_get_stack:
      register: stack
    - assert:
        that: stack.result[0].method == "local"
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("env_strategy,play_strategy", [
    ("mitogen", None),
    ("mitogen_free", None),
    ("linear", "mitogen_host_pinned"),
])
def test_every_strategy_activates(tmp_path, local_inventory, env_strategy, play_strategy):
    playbook = tmp_path / "strategy.yml"
    keyword = "strategy: %s" % play_strategy if play_strategy else ""
    playbook.write_text(STRATEGY_PLAYBOOK.format(keyword=keyword))
    result = harness.run_playbook(str(playbook), local_inventory, strategy=env_strategy,
                                  env={"ANSIBLE_ACTION_PLUGINS": ansible_mitogen.plugin_paths()["action_plugins"]})
    assert result.rc == 0, result.describe()
    assert result.recap["localhost"]["ok"] == 2, result.describe()
