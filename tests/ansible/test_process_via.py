"""mitogen_via and become connection types, under our strategy only.

Controller-side; uses the test bed.  Vanilla Ansible has no equivalent, so
these run only under mitogen_linear: a host reached as `mitogen_sudo` via
target-0 must run as the sudo user on target-0's machine, reusing
target-0's ssh hop.
"""
import pytest

import ansible_mitogen
from tests.ansible import harness

PLAYBOOK = """
- hosts: target-0
  gather_facts: false
  tasks:
    - command: hostname
      register: real
    - add_host:
        name: t0-as-user
        ansible_connection: mitogen_sudo
        ansible_user: mitogen_user
        mitogen_via: target-0
        ansible_python_interpreter: /usr/bin/python3

- hosts: t0-as-user
  gather_facts: false
  tasks:
    - command: whoami
      register: who
    - command: hostname
      register: where
    - mitogen_get_stack:
      register: stack
    - assert:
        that:
          - who.stdout == "mitogen_user"
          - where.stdout == hostvars["target-0"].real.stdout
          - stack.result | map(attribute="method") | list == ["ssh", "sudo"]
          - stack.result[1].kwargs.username == "mitogen_user"
"""


@pytest.mark.timeout(180)
def test_sudo_connection_type_via_another_host(tmp_path, inventory):
    playbook = tmp_path / "via.yml"
    playbook.write_text(PLAYBOOK)
    result = harness.run_playbook(
        str(playbook), inventory, strategy=harness.MITOGEN,
        env={"ANSIBLE_ACTION_PLUGINS": ansible_mitogen.plugin_paths()["action_plugins"]},
    )
    assert result.rc == 0, result.describe()
    assert result.recap["t0-as-user"]["ok"] == 4, result.describe()
