"""Service pool, policies, FileService transfers and PushFileService."""
import hashlib
import os
import signal
import threading

import pytest

import mitogen.core
import mitogen.service
from tests.mitogen import funcs
from tests.mitogen.funcs import Counter


@pytest.fixture
def pool(router):
    p = mitogen.service.Pool(router, services=[Counter(router)], size=2)
    yield p
    p.stop()


def test_service_name_is_dotted_path():
    assert Counter.name == 'tests.mitogen.funcs.Counter'
    assert mitogen.service.FileService.name == 'mitogen.service.FileService'


def test_call_service_local_and_from_child(router, pool):
    me = router.myself()
    assert me.call_service(Counter, 'incr', by=2) == 2
    assert me.call_service('tests.mitogen.funcs.Counter', 'parents_only') == 'ok'
    with pytest.raises(mitogen.core.CallError):
        me.call_service(Counter, 'not_exposed')
    with pytest.raises(mitogen.core.CallError):
        me.call_service(Counter, 'incr', by='x')   # arg_spec
    with pytest.raises(mitogen.core.CallError):
        me.call_service('no.such.Service', 'x')


def test_child_policy(router, pool):
    ctx = router.local()
    ctx.call(funcs.start_pool)
    # Parent calling the child's auto-activated service: AllowParents passes.
    assert ctx.call_service(Counter, 'parents_only') == 'ok'


@pytest.fixture
def file_service(router):
    svc = mitogen.service.FileService(router)
    pool = mitogen.service.Pool(router, services=[svc], size=2)
    yield svc
    pool.stop()


def _make_file(path, size):
    with open(path, 'wb') as fp:
        block = os.urandom(1 << 20)
        while size > 0:
            fp.write(block[:size])
            size -= len(block)
    with open(path, 'rb') as fp:
        return hashlib.sha1(fp.read()).hexdigest()


def test_small_file(router, file_service, tmp_path):
    src = str(tmp_path / 'small')
    sha = _make_file(src, 1000)
    file_service.register(src)
    ctx = router.local()
    assert ctx.call(funcs.fetch_file_sha, src) == sha
    dest = str(tmp_path / 'dest_small')
    assert ctx.call(funcs.fetch_file, src, dest) == 1000
    assert _sha(dest) == sha


def _sha(path):
    with open(path, 'rb') as fp:
        return hashlib.sha1(fp.read()).hexdigest()


def test_large_file_via_intermediary(router, file_service, tmp_path):
    src = str(tmp_path / 'big')
    sha = _make_file(src, 50 * 1024 * 1024)
    file_service.register_prefix(str(tmp_path))
    ctx = router.local()
    dest = str(tmp_path / 'out' / 'big.copy')
    os.mkdir(os.path.dirname(dest))
    assert ctx.call(funcs.fetch_file, src, dest) == 50 * 1024 * 1024
    assert _sha(dest) == sha
    assert os.listdir(os.path.dirname(dest)) == ['big.copy']


def test_unregistered_path_refused(router, file_service, tmp_path):
    ctx = router.local()
    with pytest.raises(mitogen.core.CallError) as info:
        ctx.call(funcs.fetch_file, '/etc/passwd', str(tmp_path / 'x'))
    assert 'not registered' in str(info.value)
    assert os.listdir(str(tmp_path)) == []


def test_interrupted_transfer_leaves_nothing(router, file_service, tmp_path):
    src = str(tmp_path / 'big')
    _make_file(src, 40 * 1024 * 1024)
    file_service.register(src)
    outdir = tmp_path / 'out'
    outdir.mkdir()
    a = router.local()
    b = router.local(via=a)   # b fetches from master through a: kill a mid-transfer
    a_pid = a.call(funcs.get_pid)
    window_hit = threading.Event()
    orig_acquire = mitogen.service._Window.acquire

    def slow_acquire(self, n):
        window_hit.set()
        orig_acquire(self, n)
    mitogen.service._Window.acquire = slow_acquire
    try:
        recv = b.call_async(funcs.fetch_file, src, str(outdir / 'dest'))
        assert window_hit.wait(10)
        os.kill(a_pid, signal.SIGKILL)
        with pytest.raises(mitogen.core.ChannelError):
            recv.get(timeout=20).unpickle()
    finally:
        mitogen.service._Window.acquire = orig_acquire
    # b died with a; the partial temp file must be gone (or never renamed).
    assert not (outdir / 'dest').exists()


def test_interrupted_transfer_cleanup_in_surviving_child(router, file_service, tmp_path):
    src = str(tmp_path / 'big')
    _make_file(src, 20 * 1024 * 1024)
    file_service.register(src)
    ctx = router.local()
    outdir = tmp_path / 'out'
    outdir.mkdir()
    orig = mitogen.service.FileService._stream_file

    def broken_stream(self, fp, sender, window, stream=None):
        sender.send(mitogen.core.Blob(fp.read(200000)))
        sender.send(('error', 'disk on fire'))
        fp.close()
    mitogen.service.FileService._stream_file = broken_stream
    try:
        with pytest.raises(mitogen.core.CallError) as info:
            ctx.call(funcs.fetch_file, src, str(outdir / 'dest'))
    finally:
        mitogen.service.FileService._stream_file = orig
    assert 'disk on fire' in str(info.value)
    assert os.listdir(str(outdir)) == []


def test_push_file_service(router, tmp_path):
    src = tmp_path / 'pushed'
    src.write_bytes(b'p' * 5000)
    push = mitogen.service.PushFileService(router)
    pool = mitogen.service.Pool(router, services=[push])
    try:
        a = router.local()
        b = router.local(via=a)
        a.call(funcs.start_pool)
        b.call(funcs.start_pool)
        recv = b.call_async(funcs.wait_pushed_file, str(src))
        push.propagate_to(b, str(src))
        assert recv.get(timeout=20).unpickle() == 5000
        # The intermediary kept a copy too.
        assert a.call(funcs.wait_pushed_file, str(src)) == 5000
    finally:
        pool.stop()


def test_replacing_file_is_all_or_nothing(tmp_path):
    dest = tmp_path / 'dest'
    dest.write_bytes(b'old')
    with pytest.raises(RuntimeError):
        with mitogen.service.replacing_file(str(dest)) as fp:
            fp.write(b'half')
            raise RuntimeError('interrupted')
    assert dest.read_bytes() == b'old' and os.listdir(str(tmp_path)) == ['dest']
    with mitogen.service.replacing_file(str(dest)) as fp:
        fp.write(b'new')
    assert dest.read_bytes() == b'new' and os.listdir(str(tmp_path)) == ['dest']
