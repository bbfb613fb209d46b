"""Generic prompt machinery of mitogen.parent.Connection, with fake sudo/su programs.

The fake programs are POSIX sh scripts (run by dash where available) that
prompt like sudo (on /dev/tty) or su (on stdin), then exec the boot command.
"""
import os
import shutil

import pytest

import mitogen.core
import mitogen.local
import mitogen.parent
from tests.mitogen import funcs

SH = shutil.which('dash') or '/bin/sh'

FAKE_SUDO = r'''
( : < /dev/tty ) 2>/dev/null || { echo "no tty present" >&2; exit 5; }
n=0
while :; do
  printf '[fake] password for me: ' > /dev/tty
  IFS= read -r pw < /dev/tty
  [ "$pw" = "$PW" ] && exec "$@"
  n=$((n+1))
  echo "Sorry, try again." > /dev/tty
  [ $n -ge 3 ] && exit 1
done
'''

FAKE_SU = r'''
printf 'Password: '
IFS= read -r pw
if [ "$pw" != "$PW" ]; then echo "su: Authentication failure"; exit 1; fi
exec "$@"
'''


@pytest.fixture
def scripts(tmp_path):
    paths = {}
    for name, text in (('sudo', FAKE_SUDO), ('su', FAKE_SU)):
        path = tmp_path / name
        path.write_text(text)
        paths[name] = str(path)
    return paths


class FakeSudo(mitogen.parent.Connection):
    use_tty = True
    name_prefix = 'fakesudo'
    password_patterns = (rb'password for',)
    failure_patterns = ((rb'no tty present', 'fake sudo needs a tty'),)
    script = None

    def get_argv(self):
        return [SH, self.script] + self.get_boot_command()

    def get_env(self):
        return dict(os.environ, PW='s3cret')


class FakeSu(FakeSudo):
    use_tty = False
    stdio_over_tty = True
    password_patterns = (rb'password:',)
    failure_patterns = ((rb'authentication failure', 'fake su refused'),)


def _connect(router, cls, script, **kwargs):
    cls = type(cls.__name__, (cls,), {'script': script})
    options = mitogen.local.Options(connect_timeout=10, **kwargs)
    return cls(options, router).connect(router.allocate_id())


def test_tty_prompt_answered(router, scripts):
    ctx = _connect(router, FakeSudo, scripts['sudo'], password=mitogen.core.Secret('s3cret'))
    assert ctx.call(funcs.add, 1, 2) == 3
    assert ctx.name.startswith('fakesudo.')


def test_tty_wrong_password(router, scripts):
    with pytest.raises(mitogen.parent.PasswordError) as info:
        _connect(router, FakeSudo, scripts['sudo'], password='wrong')
    assert 'refused' in str(info.value)


def test_tty_missing_password(router, scripts):
    with pytest.raises(mitogen.parent.PasswordError) as info:
        _connect(router, FakeSudo, scripts['sudo'])
    assert 'required' in str(info.value)


def test_requiretty_failure_pattern(router, scripts):
    cls = type('NoTty', (FakeSudo,), {'use_tty': False})
    with pytest.raises(mitogen.parent.ConnectError) as info:
        _connect(router, cls, scripts['sudo'], password='s3cret')
    assert 'needs a tty' in str(info.value)


def test_stdio_over_tty(router, scripts):
    ctx = _connect(router, FakeSu, scripts['su'], password='s3cret')
    # Binary-safe transport over the raw pty: send every byte value.
    data = bytes(range(256)) * 512
    assert ctx.call(funcs.echo, data) == data


def test_stdio_over_tty_wrong_password(router, scripts):
    with pytest.raises(mitogen.core.StreamError) as info:
        _connect(router, FakeSu, scripts['su'], password='nope')
    assert 'fake su refused' in str(info.value) or 'exited' in str(info.value)


def test_no_fd_leak_after_failed_connects(router, scripts):
    before = set(os.listdir('/proc/self/fd'))
    for _ in range(3):
        with pytest.raises(mitogen.parent.PasswordError):
            _connect(router, FakeSudo, scripts['sudo'])
    assert set(os.listdir('/proc/self/fd')) - before == set()


class ViaShell(mitogen.parent.Connection):
    """Like ssh: the boot command travels as one string through a POSIX sh."""
    name_prefix = 'viash'

    def get_argv(self):
        return [SH, '-c', mitogen.parent.shell_join(self.get_boot_command())]


def test_boot_command_survives_posix_shell(router):
    options = mitogen.local.Options(connect_timeout=10)
    ctx = ViaShell(options, router).connect(router.allocate_id())
    assert ctx.call(funcs.add, 2, 2) == 4
    assert len(mitogen.parent.get_stage1_argument()) < 2048


class FakeSuOnPipes(FakeSudo):
    """Prompts and answers on stdin/stdout; refusal recognised by incorrect_patterns."""
    use_tty = False
    password_patterns = (rb'password:',)
    failure_patterns = ()
    incorrect_patterns = (rb'authentication failure',)
    password_incorrect_msg = 'fake su: wrong password'


def test_incorrect_patterns_raise_password_error(router, scripts):
    with pytest.raises(mitogen.parent.PasswordError, match='fake su: wrong password'):
        _connect(router, FakeSuOnPipes, scripts['su'], password='nope')
    ctx = _connect(router, FakeSuOnPipes, scripts['su'], password='s3cret')
    assert ctx.call(funcs.add, 2, 3) == 5
