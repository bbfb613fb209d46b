"""A hostile child cannot hurt its parents, the master, its siblings or their calls.

Each test is a working attack from a compromised target (see
tests/mitogen/hostile.py) and asserts that it fails while the tree keeps
working.  Threat model: docs/security.md.
"""
import logging
import os
import sys
import time

import pytest

import mitogen.core
import mitogen.master
import mitogen.service
from mitogen.core import Message
from tests.mitogen import funcs, hostile


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# -- routes ----------------------------------------------------------------

def test_child_cannot_claim_parent_id_and_run_code_in_parent(router, tmp_path, caplog):
    marker = str(tmp_path / 'ran-in-parent')
    login = router.local(name='login')
    become = router.local(via=login, name='become')
    with caplog.at_level(logging.ERROR, logger='mitogen'):
        become.call(hostile.hijack_parent_route, marker)
    assert not os.path.exists(marker)
    # The master's own traffic to the parent still arrives.
    assert login.call(funcs.add, 2, 3) == 5
    assert become.call(funcs.add, 1, 1) == 2


def test_child_cannot_claim_unallocated_or_foreign_ids(router):
    a = router.local()
    b = router.local()
    a.call(hostile.claim_route, b.context_id)       # a sibling's id
    a.call(hostile.claim_route, 4000000)            # an id never handed out
    a.call(hostile.claim_route, 0)                  # the master itself
    assert a.call(funcs.noop) is None               # ADD_ROUTEs are handled in order
    assert router.stream_by_id(b.context_id) is not router.stream_by_id(a.context_id)
    assert 4000000 not in router._stream_by_id
    assert 0 not in router._stream_by_id
    assert b.call(funcs.add, 1, 2) == 3


def test_grandchildren_routes_still_work(router):
    a = router.local()
    b = router.local(via=a)
    c = router.local(via=b)
    assert c.call(funcs.add, 1, 1) == 2
    # A child starting its own child allocates through ALLOCATE_ID.
    assert isinstance(b.call(funcs.start_local_child), int)
    assert router.stream_by_id(c.context_id) is router.stream_by_id(a.context_id)


# -- replies ---------------------------------------------------------------

def test_sibling_cannot_answer_pending_call(router):
    a = router.local()
    b = router.local()
    recv = b.call_async(funcs.sleep, 1)
    a.call(hostile.forge_reply, 0, recv.handle, 'forged')
    assert recv.get(timeout=30).unpickle() == 1


def test_sibling_cannot_answer_pending_calls_by_guessing(router):
    a = router.local()
    b = router.local()
    recvs = [b.call_async(funcs.sleep, 0.5) for _ in range(3)]
    first = min(r.handle for r in recvs)
    a.call(hostile.forge_replies, 0, first - 5, first + 20, 'forged')
    assert [r.get(timeout=30).unpickle() for r in recvs] == [0.5] * 3


# -- control frames --------------------------------------------------------

def test_oversized_control_frame_is_refused_without_decoding(router, caplog):
    a = router.local()
    b = router.local()
    big = mitogen.core.encode((12345, 'x' * (1024 * 1024)))
    with caplog.at_level(logging.ERROR, logger='mitogen'):
        a.call(hostile.send_control, mitogen.core.ADD_ROUTE, big, a.call(funcs.get_ids)[1])
        assert b.call(funcs.add, 1, 1) == 2
        assert _wait_for(lambda: 'exceeds' in caplog.text)
    assert 12345 not in router._stream_by_id


def test_context_references_never_grow_the_router(router):
    a = router.local()
    before = len(router._contexts)
    # In a control message: refused.
    payload = mitogen.core.encode(('x', 20, [mitogen.core.Context(None, 10 ** 7 + i) for i in range(5000)]))
    a.call(hostile.send_control, mitogen.core.FORWARD_LOG, payload)
    # In an ordinary reply: decoded, but nothing is registered.
    fakes = a.call(hostile.many_contexts, 5000)
    assert len(fakes) == 5000 and fakes[0].context_id == 10 ** 6
    assert a.call(funcs.noop) is None
    assert len(router._contexts) == before


def test_decode_refuses_expansion_bombs():
    with pytest.raises(mitogen.core.StreamError, match='decode limit'):
        mitogen.core.decode(mitogen.core.encode([set()] * 200000))
    # Ordinary data of the same size decodes fine.
    data = mitogen.core.encode([{'k': 'v', 'n': [1, 2, None]}] * 20000)
    assert len(mitogen.core.decode(data)) == 20000


def test_decode_refuses_colliding_keys():
    # 40,000 such keys took 8 s to decode (quadratic insertion); a few
    # hundred are enough to show they are refused as soon as they repeat.
    modulus = sys.hash_info.modulus
    colliding = dict((i * modulus, None) for i in range(1, 300))
    assert len(set(hash(k) for k in colliding)) == 1
    with pytest.raises(mitogen.core.StreamError, match='colliding'):
        mitogen.core.decode(mitogen.core.encode(colliding))
    with pytest.raises(mitogen.core.StreamError, match='colliding'):
        mitogen.core.decode(mitogen.core.encode(set(colliding)))
    with pytest.raises(mitogen.core.StreamError, match='colliding'):
        mitogen.core.decode(mitogen.core.encode(dict(((k, 1), None) for k in colliding)))
    assert mitogen.core.decode(mitogen.core.encode(dict((i, i) for i in range(40000))))[39999] == 39999


def test_child_stream_has_smaller_message_limit(router):
    router.max_child_message_size = 1024 * 1024
    a = router.local()
    # Down to the child: the normal limit.
    assert a.call(len, 'x' * (2 * 1024 * 1024)) == 2 * 1024 * 1024
    # Up from the child: refused, the stream closes.
    with pytest.raises(mitogen.core.ChannelError):
        a.call(funcs.echo, 'x' * (2 * 1024 * 1024))


def test_malformed_call_does_not_kill_the_child(router):
    a = router.local()
    pid = a.call(funcs.get_pid)
    for payload in (mitogen.core.encode('garbage'), b'\xff\x00junk', mitogen.core.encode((1, 2, 3, 4, 5, 6)),
                    mitogen.core.encode(([], 'os', None, 'getpid', (), {}))):
        recv = mitogen.core.Receiver(router, respondent=a)
        router.route(Message(dst_id=a.context_id, handle=mitogen.core.CALL_FUNCTION, data=payload,
                             reply_to=recv.handle))
        with pytest.raises(mitogen.core.CallError):
            recv.get(timeout=10).unpickle()
    assert a.call(funcs.get_pid) == pid


# -- services and imports --------------------------------------------------

@pytest.fixture
def evil_module(tmp_path, monkeypatch):
    """A module on the master's sys.path that leaves a marker when imported."""
    marker = tmp_path / 'imported'
    pkg = tmp_path / 'evilpkg'
    pkg.mkdir()
    code = 'open(%r, "w").write("x")\n' % (str(marker),)
    (pkg / '__init__.py').write_text(code)
    (pkg / 'sub.py').write_text(code)
    (tmp_path / 'evilmod.py').write_text(code + 'import mitogen.service\n'
                                         'class Svc(mitogen.service.Service):\n    pass\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    yield marker
    for name in ('evilpkg', 'evilpkg.sub', 'evilmod'):
        sys.modules.pop(name, None)


def test_child_cannot_make_master_import_a_service_module(router, evil_module):
    pool = mitogen.service.Pool(router, size=1)
    try:
        a = router.local()
        result = a.call(hostile.call_service, 'evilmod.Svc', 'anything')
        assert result.startswith('refused') and 'no such service' in result
        assert not evil_module.exists()
        assert 'evilmod' not in sys.modules
    finally:
        pool.stop()


def test_child_cannot_make_master_import_a_package(router, evil_module):
    a = router.local()
    assert a.call(hostile.get_module, 'evilpkg.sub') is False
    assert not evil_module.exists()
    assert 'evilpkg' not in sys.modules


# -- FileService -------------------------------------------------------------

@pytest.fixture
def file_pool(router):
    pool = mitogen.service.Pool(router, services=[mitogen.service.FileService(router)], size=2)
    yield pool.get_service(mitogen.service.FileService.name)
    pool.stop()


def _big_file(path, size=200 * 1024):
    with open(path, 'wb') as fp:
        fp.write(os.urandom(size))
    return path


def test_fetch_cannot_send_to_another_context(router, file_pool, tmp_path):
    src = _big_file(str(tmp_path / 'f'))
    file_pool.register(src)
    a = router.local()
    b = router.local()
    result = a.call(hostile.fetch_for_other, src, b.context_id, mitogen.core.SHUTDOWN)
    assert result.startswith('refused') and 'caller' in result
    assert b.call(funcs.add, 1, 1) == 2


def test_registration_is_scoped_to_its_context(router, file_pool, tmp_path):
    src = _big_file(str(tmp_path / 'f'))
    a = router.local()
    b = router.local()
    file_pool.register(src, context=a)
    assert a.call(funcs.fetch_file, src, str(tmp_path / 'a.out')) == 200 * 1024
    with pytest.raises(mitogen.core.CallError, match='not registered'):
        b.call(funcs.fetch_file, src, str(tmp_path / 'b.out'))
    file_pool.unregister(src, context=a)
    with pytest.raises(mitogen.core.CallError, match='not registered'):
        a.call(funcs.fetch_file, src, str(tmp_path / 'a2.out'))


def test_registration_dropped_when_context_goes(router, file_pool, tmp_path):
    src = _big_file(str(tmp_path / 'f'))
    a = router.local()
    file_pool.register(src, context=a)
    a.shutdown(wait=True)
    assert _wait_for(lambda: os.path.realpath(src) not in file_pool._paths)


WORKER = '''
import sys
sys.path.insert(0, %(root)r)
import mitogen.unix
from tests.mitogen import funcs
router, parent = mitogen.unix.connect(%(path)r)
target = router.context_by_id(%(target)d)
recv = target.call_async(funcs.sleep, 1.5)
print(mitogen.context_id, recv.handle, flush=True)
print(repr(recv.get().unpickle()), flush=True)
router.broker.shutdown()
router.broker.join()
'''


def test_target_cannot_answer_a_workers_call_to_another_target(router):
    """The multiplexer case: task workers are UNIX clients of a
    unidirectional router; target A forges the reply to a worker's call to B."""
    import subprocess
    import mitogen.unix
    router.unidirectional = True
    listener = mitogen.unix.Listener(router)
    try:
        a = router.local()
        b = router.local()
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        proc = subprocess.Popen([sys.executable, '-c', WORKER % {'root': root, 'path': listener.path,
                                                                 'target': b.context_id}],
                                stdout=subprocess.PIPE)
        worker_id, handle = map(int, proc.stdout.readline().split())
        a.call(hostile.forge_reply, worker_id, handle, 'forged')
        out, _ = proc.communicate(timeout=60)
        assert out.strip() == b'1.5'
    finally:
        listener.stop()


def test_host_name_starting_with_dash_is_not_an_ssh_option(router, tmp_path):
    """An inventory name like '-oProxyCommand=...' must reach ssh as a host name."""
    import mitogen.ssh
    evil = tmp_path / 'evil'
    marker = tmp_path / 'proxy-ran'
    evil.write_text('#!/bin/sh\ntouch %s\n' % (marker,))
    evil.chmod(0o755)
    host = '-oProxyCommand=%s' % (evil,)
    argv = mitogen.ssh.build_ssh_argv(mitogen.ssh.Options(hostname=host), 'CMD')
    assert argv[-3:] == ['--', host, 'CMD']
    with pytest.raises(mitogen.core.StreamError):
        router.ssh(hostname=host, connect_timeout=15, check_host_keys='ignore')
    assert not marker.exists()
