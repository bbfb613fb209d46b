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
