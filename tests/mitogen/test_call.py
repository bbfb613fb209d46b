"""Calls into real local/fork children: results, errors, chains, via chains."""
import os

import pytest

import mitogen.core
import mitogen.parent
from tests.mitogen import funcs


def test_call_returns_result(local):
    assert local.call(funcs.add, 2, b=3) == 5
    assert local.call(funcs.echo, {'a': [1, 2.5, None, (b'x', True)]}) == {'a': [1, 2.5, None, (b'x', True)]}
    assert local.call(funcs.get_pid) != os.getpid()
    assert local.call(funcs.get_ppid) == os.getpid()


def test_call_builtin_and_classmethods(local):
    assert local.call(os.getppid) == os.getpid()
    assert local.call(funcs.Klass.class_method, 1) == ('class', 1)
    assert local.call(funcs.Klass.static_method, 2) == ('static', 2)


def test_context_ids(router, local):
    cid, pid, pids = local.call(funcs.get_ids)
    assert cid == local.context_id and pid == 0 and pids == [0]
    assert local.name.startswith('local.')


def test_call_async_and_no_reply(local, tmp_path):
    recvs = [local.call_async(funcs.add, i, 1) for i in range(5)]
    assert [r.get().unpickle() for r in recvs] == [1, 2, 3, 4, 5]
    path = str(tmp_path / 'out')
    local.call_no_reply(funcs.append_to, path, 'x')
    local.call(funcs.noop)  # calls run in order, so the no_reply one is done
    assert open(path).read() == 'x'


def test_remote_exception_carries_traceback(local):
    with pytest.raises(mitogen.core.CallError) as info:
        local.call(funcs.raise_value_error, 'kaboom')
    err = info.value
    assert err.type_name == 'builtins.ValueError'
    assert 'kaboom' in str(err)
    assert 'raise_value_error' in err.remote_tb and 'Traceback' in str(err)


def test_unimportable_function(local):
    msg = mitogen.core.Message.pickled((None, 'no_such_module_xyz', None, 'f', (), mitogen.core.Kwargs()),
                                       handle=mitogen.core.CALL_FUNCTION)
    with pytest.raises(mitogen.core.CallError) as info:
        local.send_async(msg).get(timeout=10).unpickle()
    assert 'no_such_module_xyz' in str(info.value)


def test_unserializable_result_is_call_error(local):
    with pytest.raises(mitogen.core.CallError) as info:
        local.call(funcs.return_unserializable)
    assert 'cannot serialize' in str(info.value)


def test_nested_function_refused(local):
    def inner():
        pass
    with pytest.raises(TypeError):
        local.call(inner)


def test_call_chain_pipelined(local, tmp_path):
    path = str(tmp_path / 'chain')
    chain = mitogen.parent.CallChain(local, pipelined=True)
    chain.call_no_reply(funcs.append_to, path, 'a')
    chain.call_no_reply(funcs.raise_value_error, 'first')
    chain.call_no_reply(funcs.append_to, path, 'b')   # skipped: chain already failed
    with pytest.raises(mitogen.core.CallError) as info:
        chain.call(funcs.add, 1, 1)
    assert 'first' in str(info.value)
    assert open(path).read() == 'a'
    chain.reset()
    assert chain.call(funcs.add, 1, 1) == 2


def test_call_chain_remembers_a_failed_call_until_reset(local):
    chain = mitogen.parent.CallChain(local, pipelined=True)
    assert chain.call(funcs.add, 1, 1) == 2
    clean_id = chain.chain_id
    chain.reset()  # nothing to forget: no message, same chain
    assert chain.chain_id == clean_id
    with pytest.raises(mitogen.core.CallError):
        chain.call(funcs.raise_value_error, 'first')
    with pytest.raises(mitogen.core.CallError) as info:
        chain.call(funcs.add, 1, 1)
    assert 'first' in str(info.value)
    chain.reset()
    assert chain.chain_id != clean_id
    assert chain.call(funcs.add, 1, 1) == 2


def test_call_chain_plain(local):
    chain = mitogen.parent.CallChain(local)
    assert chain.call(funcs.add, 1, 2) == 3
    assert chain.call_async(funcs.add, 2, 2).get().unpickle() == 4


def test_call_after_runs_first_while_the_call_travels(local, tmp_path):
    path = str(tmp_path / 'after')
    chain = mitogen.parent.CallChain(local, pipelined=True)
    seen = []
    assert chain.call_after(lambda: seen.append('first'), funcs.add, 1, 2) == 3
    assert seen == ['first']

    def fails():
        raise RuntimeError('init failed')

    with pytest.raises(RuntimeError, match='init failed'):
        chain.call_after(fails, funcs.append_to, path, 'x')
    assert chain.call(funcs.add, 2, 2) == 4  # the call itself was sent and ran
    assert open(path).read() == 'x'


def test_fork_child(router):
    ctx = router.fork()
    assert ctx.call(funcs.get_ppid) == os.getpid()
    assert ctx.call(funcs.add, 1, 2) == 3
    assert ctx.name.startswith('fork.')


def test_via_chain_three_levels(router):
    a = router.local(name='a')
    b = router.local(via=a, name='b')
    c = router.local(via=b, name='c')
    assert c.call(funcs.get_ppid) == b.call(funcs.get_pid)
    assert b.call(funcs.get_ppid) == a.call(funcs.get_pid)
    cid, pid, pids = c.call(funcs.get_ids)
    assert pids == [b.context_id, a.context_id, 0]
    with pytest.raises(mitogen.core.CallError):
        c.call(funcs.raise_value_error, 'deep')


def test_argv0_is_descriptive(router):
    ctx = router.local()
    assert ctx.call(funcs.argv0).startswith('python(mitogen:')
    ctx2 = router.local(remote_name='custom-name')
    assert ctx2.call(funcs.argv0) == 'custom-name'


def test_shutdown_wait(router):
    ctx = router.local()
    pid = ctx.call(funcs.get_pid)
    ctx.shutdown(wait=True)
    with pytest.raises(mitogen.core.ChannelError):
        ctx.call(funcs.noop)
    _wait_gone(pid)


def _wait_gone(pid, timeout=5.0):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open('/proc/%d/stat' % pid) as fp:
                fp.read()
        except (FileNotFoundError, ProcessLookupError):  # reaped, even mid-read
            return
        time.sleep(0.02)
    raise AssertionError('process %d still exists' % pid)


def test_child_that_fails_to_start(router):
    with pytest.raises(mitogen.core.StreamError) as info:
        router.local(python_path=['/bin/sh', '-c', 'echo no python here >&2; exit 3', '--'])
    assert 'no python here' in str(info.value)


def test_missing_interpreter(router):
    with pytest.raises(mitogen.core.StreamError):
        router.local(python_path=['/nonexistent/python'])


def test_connect_timeout(router):
    import time
    t0 = time.monotonic()
    with pytest.raises(mitogen.core.TimeoutError):
        router.local(python_path=['/bin/sh', '-c', 'sleep 30', '--'], connect_timeout=0.5)
    assert time.monotonic() - t0 < 3


def test_unknown_method_gives_clear_error(router):
    with pytest.raises(mitogen.core.Error) as info:
        router.connect('no_such_method')
    assert 'no_such_method' in str(info.value)


def test_many_threads_share_a_context(local):
    import threading
    errors = []

    def worker(n):
        try:
            for i in range(100):
                assert local.call(funcs.add, n, i) == n + i
        except Exception as e:   # pragma: no cover - reported below
            errors.append(e)
    threads = [threading.Thread(target=worker, args=(n * 1000,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []


def test_large_message_round_trip(local):
    data = os.urandom(20 * 1024 * 1024)
    assert local.call(funcs.echo, data) == data
