"""sudo, su and doas hops on a real target, reached over ssh (via=):
passwords through a pty, requiretty, and refused or missing passwords."""
import os

import pytest

import mitogen.core
import mitogen.master
import mitogen.parent
from tests.mitogen import funcs
from tests.mitogen.test_method_ssh import FAST, fails_within, ssh_kwargs, uid_of
from tests.testbed import users


@pytest.fixture(scope='module')
def router():
    """One router for the module, so ssh logins are shared between tests."""
    r = mitogen.master.Router()
    yield r
    r.broker.shutdown()
    r.broker.join(10)


@pytest.fixture(scope='module')
def login(router, testbed, target):
    """ssh contexts per test-bed user, created on first use, kept for the module."""
    made = {}

    def get(user):
        if user not in made:
            made[user] = router.ssh(**ssh_kwargs(testbed, target, username=user))
        return made[user]
    return get


def test_sudo_nopasswd_to_root(router, login):
    ctx = router.sudo(via=login(users.SUDO_NOPW.name))
    assert ctx.call(os.getuid) == 0
    assert ctx.name == 'sudo.root'


def test_sudo_to_other_user_then_call_chain(router, login, target):
    ctx = router.sudo(via=login(users.SUDO_NOPW.name), username=users.UNPRIVILEGED.name, set_home=True)
    assert ctx.call(os.getuid) == uid_of(target, users.UNPRIVILEGED.name)
    assert ctx.call(os.path.expanduser, '~') == '/home/%s' % users.UNPRIVILEGED.name


def test_sudo_with_password(router, login):
    ctx = router.sudo(via=login(users.SUDO_PW.name), password=users.SUDO_PW.password)
    assert ctx.call(os.getuid) == 0


def test_sudo_wrong_password(router, login):
    fails_within(FAST, mitogen.parent.PasswordError, 'sudo password is incorrect',
                 router.sudo, via=login(users.SUDO_PW.name), password='not-the-password')


def test_sudo_password_required_but_not_given(router, login):
    fails_within(FAST, mitogen.parent.PasswordError, 'sudo password is required',
                 router.sudo, via=login(users.SUDO_PW.name))


def test_sudo_requiretty(router, login, target):
    # Proof that the rule is real: without a tty sudo refuses.
    out = target.exec(['sudo', '-n', 'true'], user=users.SUDO_TTY.name)
    assert out.returncode != 0 and 'tty' in out.stderr
    ctx = router.sudo(via=login(users.SUDO_TTY.name))
    assert ctx.call(os.getuid) == 0


def test_sudo_refused_for_unprivileged_user(router, login):
    fails_within(FAST, mitogen.core.Error, 'sudo (password is required|refused)',
                 router.sudo, via=login(users.UNPRIVILEGED.name), password=users.UNPRIVILEGED.password)


def test_su_with_password(router, login, target):
    ctx = router.su(via=login(users.UNPRIVILEGED.name), username=users.SU.name, password=users.SU.password)
    assert ctx.call(os.getuid) == uid_of(target, users.SU.name)
    assert ctx.call(funcs.add, 20, 22) == 42


def test_su_wrong_password(router, login):
    fails_within(FAST, mitogen.parent.PasswordError, 'su password is incorrect',
                 router.su, via=login(users.UNPRIVILEGED.name), username=users.SU.name, password='nope')


def test_su_password_required_but_not_given(router, login):
    fails_within(FAST, mitogen.parent.PasswordError, 'su password is required',
                 router.su, via=login(users.UNPRIVILEGED.name), username=users.SU.name)


def test_su_to_account_without_shell(router, login):
    root = router.sudo(via=login(users.SUDO_NOPW.name))
    fails_within(FAST, mitogen.parent.ConnectError, 'account has no usable shell',
                 router.su, via=root, username=users.NOLOGIN.name)


def test_ssh_sudo_su_chain(router, login, target):
    """Three hops: ssh as the password-sudo user, sudo to root, su to mitogen_su."""
    root = router.sudo(via=login(users.SUDO_PW.name), password=users.SUDO_PW.password)
    ctx = router.su(via=root, username=users.SU.name, password=users.SU.password)
    assert ctx.call(os.getuid) == uid_of(target, users.SU.name)
    assert ctx.call(funcs.get_ids)[2][0] == root.context_id


def test_sudo_missing_python(router, login):
    fails_within(FAST, mitogen.parent.EofError, "python interpreter '/usr/bin/no-such-python' not found",
                 router.sudo, via=login(users.SUDO_NOPW.name), python_path='/usr/bin/no-such-python')


def test_doas_against_stub(router, tmp_path):
    """No doas on Debian targets: a stub prompts like doas and checks the password."""
    stub = tmp_path / 'doas'
    stub.write_text(DOAS_STUB)
    stub.chmod(0o755)
    ctx = router.doas(doas_path=str(stub), password='s3cret', username='op')
    assert ctx.call(os.getppid) == os.getpid()
    fails_within(FAST, mitogen.parent.PasswordError, 'doas password is incorrect',
                 router.doas, doas_path=str(stub), password='wrong', username='op')
    fails_within(FAST, mitogen.parent.PasswordError, 'doas password is required',
                 router.doas, doas_path=str(stub), username='op')


# Prompts on its controlling tty like OpenBSD doas, then execs argv after "--".
DOAS_STUB = r'''#!/bin/sh
[ "$1" = "-u" ] && [ "$2" = "op" ] && [ "$3" = "--" ] || { echo "doas stub: bad argv $*" >&2; exit 2; }
shift 3
printf 'doas (tester@host) password: ' > /dev/tty
read -r pw < /dev/tty
[ "$pw" = "s3cret" ] || { echo "doas: Authentication failed" > /dev/tty; exit 1; }
exec "$@"
'''
