"""Connection hooks for method authors (preexec, eof_message) and errors
crossing a via hop: real local children, failing interpreters.  Controller."""
import os

import pytest

import mitogen.core
import mitogen.local
import mitogen.parent
from tests.mitogen import funcs


class UmaskConnection(mitogen.local.Connection):
    def preexec(self):
        os.umask(0o027)


class ExplainingConnection(mitogen.local.Connection):
    def eof_message(self, output):
        return 'custom explanation'


def start(router, connection_class, **kwargs):
    conn = connection_class(mitogen.local.Options(**kwargs), router)
    return conn.connect(router.allocate_id())


def test_preexec_hook_runs_in_child(router):
    assert mitogen.local.Connection(mitogen.local.Options(), router)._preexec_fn() is None
    ctx = start(router, UmaskConnection)
    assert ctx.call(funcs.get_umask) == 0o027


def test_eof_message_default_and_override(router):
    with pytest.raises(mitogen.parent.EofError, match='child exited before it finished booting'):
        router.local(python_path='/bin/false')
    with pytest.raises(mitogen.parent.EofError, match='custom explanation'):
        start(router, ExplainingConnection, python_path='/bin/false')


@pytest.mark.parametrize('kwargs, error, text', [
    ({'python_path': '/bin/false'}, mitogen.parent.EofError, 'before it finished booting'),
    ({'python_path': ['/bin/sh', '-c', 'sleep 10', 'sh'], 'connect_timeout': 0.5},
     mitogen.core.TimeoutError, 'timed out'),
    ({'python_path': '/nonexistent/python'}, mitogen.core.StreamError, 'cannot start'),
])
def test_via_errors_keep_their_type(router, kwargs, error, text):
    via = router.local(name='hop')
    with pytest.raises(error, match=text) as info:
        router.local(via=via, **kwargs)
    assert type(info.value) is error
    assert '(via hop)' in str(info.value)
    assert via.call(funcs.add, 1, 1) == 2   # the hop survives the failed attempt


def test_via_other_errors_stay_call_errors(router):
    via = router.local()
    with pytest.raises(mitogen.core.CallError, match='unexpected keyword'):
        router.local(via=via, bogus=1)
