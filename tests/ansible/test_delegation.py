"""delegate_to and local_action with the delegated host's own settings.

Controller-side; uses the session test bed's target plus one plain
container.  The delegated host's ansible_connection (ssh, docker, local),
ansible_user and become settings must apply, under vanilla and ours with
the same recap; under ours a delegated task must also run in the
interpreter the delegated host's own tasks use (its connection is reused).
"""
import os

import pytest

from tests.ansible import harness
from tests.ansible.test_containers import vanilla_collections
from tests.testbed.docker_host import Boxes

PLAYBOOK = os.path.join(harness.PLAYBOOK_DIR, "_delegation_hosts.yml")


@pytest.fixture(scope="module")
def delegation_inventory(testbed, tmp_path_factory):
    boxes = Boxes.start(testbed.session + "d", 1)
    with open(testbed.inventory) as fp:
        t0 = [line.strip() for line in fp if line.startswith("target-0 ")][0]
    lines = [
        "[targets]", t0,
        t0.replace("target-0 ", "t0-user ").replace("ansible_user=root", "ansible_user=mitogen_user"),
        t0.replace("target-0 ", "t0-become ") + " ansible_become=true ansible_become_user=mitogen_sudo_nopw",
        "[boxes]",
        "box0 ansible_connection=docker ansible_host=%s ansible_python_interpreter=/usr/bin/python3" % boxes.names[0],
        "[controller]",
        "ctl ansible_connection=local ansible_python_interpreter=/usr/bin/python3",
    ]
    path = tmp_path_factory.mktemp("delegation") / "inventory.ini"
    path.write_text("\n".join(lines) + "\n")
    try:
        yield str(path)
    finally:
        boxes.remove()


@pytest.mark.timeout(240)
def test_delegated_host_settings_and_reuse(delegation_inventory):
    ours = harness.run_playbook(PLAYBOOK, delegation_inventory, strategy=harness.MITOGEN,
                                args=["-e", "expect_reuse=true"])
    assert harness.check_outcome(ours, harness.expectations(PLAYBOOK)) is None, ours.describe()
    collections = vanilla_collections()
    if collections is None:
        pytest.skip("community.docker unavailable: vanilla comparison not run")
    vanilla = harness.run_playbook(PLAYBOOK, delegation_inventory, strategy=harness.VANILLA,
                                   env={"ANSIBLE_COLLECTIONS_PATH": collections})
    assert harness.check_outcome(vanilla, harness.expectations(PLAYBOOK)) is None, vanilla.describe()
    assert ours.recap == vanilla.recap, (ours.recap, vanilla.recap)
