"""Fixtures for the Ansible playbook tests (controller side).

`inventory`: path of an inventory whose group `all` holds test-bed targets
(from the `testbed` fixture of tests/conftest.py, or $MITOGEN_TEST_INVENTORY).
`local_inventory`: localhost over the `local` connection, for process-model
tests that need no container.
"""
import os
import sys

import pytest


def _testbed_inventory(request) -> str:
    override = os.environ.get("MITOGEN_TEST_INVENTORY")
    if override:
        return override
    try:
        testbed = request.getfixturevalue("testbed")
    except pytest.FixtureLookupError:
        pytest.skip("no test bed: tests/conftest.py has no `testbed` fixture yet")
    inventory = getattr(testbed, "inventory", None)
    if callable(inventory):
        inventory = inventory()
    if not inventory:
        pytest.skip("test bed offers no inventory")
    return str(inventory)


@pytest.fixture(scope="session")
def inventory(request) -> str:
    return _testbed_inventory(request)


@pytest.fixture(scope="session")
def local_inventory(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("inv") / "local.ini"
    path.write_text(
        "[all]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable
    )
    return str(path)


@pytest.fixture(scope="session")
def engine_testbed(testbed_factory):
    """Three targets for the engine tests (several hosts, forks 3)."""
    return testbed_factory(n=3)


@pytest.fixture(scope="session")
def three_targets(request) -> str:
    """Inventory of the engine tests' targets ($MITOGEN_ENGINE_INVENTORY:
    three running targets, to iterate quickly)."""
    return os.environ.get("MITOGEN_ENGINE_INVENTORY") or request.getfixturevalue("engine_testbed").inventory
