"""Bootstrap over ssh and sudo on older and newer target Pythons:
bullseye (3.9) and trixie (3.13), one test each (their images are slow to build)."""
import os
import sys

import pytest

from tests.mitogen import funcs
from tests.mitogen.test_method_ssh import ssh_kwargs
from tests.testbed import users


@pytest.mark.parametrize('distro, version', [('bullseye', (3, 9)), ('trixie', (3, 13))])
def test_ssh_then_sudo_bootstrap(router, testbed_factory, distro, version):
    tb = testbed_factory(n=1, distro=distro)
    target = tb.targets[0]
    login = router.ssh(**ssh_kwargs(tb, target, username=users.SUDO_PW.name))
    assert login.call(funcs.python_version)[:2] == version
    root = router.sudo(via=login, password=users.SUDO_PW.password)
    assert root.call(os.getuid) == 0
    # Import forwarding of a non-stdlib module works on that interpreter too.
    assert root.call(funcs.add, 40, 2) == 42
    assert root.call(funcs.get_ids)[2][:2] == [login.context_id, 0]


if __name__ == '__main__':
    sys.exit(pytest.main([__file__]))
