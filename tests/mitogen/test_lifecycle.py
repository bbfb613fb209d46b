"""Process lifecycle: children die with their parents, no zombies, no fd leaks, no hangs."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import mitogen.core
import mitogen.master
from tests.mitogen import funcs


def _alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as fp:
            return fp.read().rsplit(') ', 1)[1][0] != 'Z'
    except (FileNotFoundError, ProcessLookupError):
        # ProcessLookupError: reaped between open() and read().
        return False


def _wait_dead(pid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


def _children_of(pid):
    out = []
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/stat' % name) as fp:
                    if int(fp.read().rsplit(') ', 1)[1].split()[1]) == pid:
                        out.append(int(name))
            except (OSError, IndexError):  # gone while listing
                pass
    return out


def test_child_exits_when_parent_killed_while_busy(router):
    a = router.local()
    b = router.local(via=a)
    a_pid = a.call(funcs.get_pid)
    b_pid = b.call(funcs.get_pid)
    recv = b.call_async(funcs.sleep, 60)   # b's main thread is busy
    os.kill(a_pid, signal.SIGKILL)
    assert _wait_dead(b_pid), 'grandchild survived its parent'
    with pytest.raises(mitogen.core.ChannelError):
        recv.get(timeout=10)


def test_parent_loss_ends_what_the_child_started_but_not_daemons(router):
    ctx = router.local()
    attached, detached = ctx.call(funcs.start_sleepers, 60)
    try:
        router.broker.shutdown()   # the child sees its parent go away
        router.broker.join(10)
        assert _wait_dead(attached), 'a process the child started outlived it'
        assert _alive(detached), 'a detached daemon was killed'
    finally:
        try:
            os.kill(detached, signal.SIGKILL)
        except OSError:
            pass


def test_child_killed_mid_call_gives_error(router):
    ctx = router.local()
    pid = ctx.call(funcs.get_pid)
    recv = ctx.call_async(funcs.sleep, 60)
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(mitogen.core.ChannelError):
        recv.get(timeout=10)
    assert time.monotonic() - t0 < 5
    assert _wait_dead(pid)   # reaped: not even a zombie
    with pytest.raises(mitogen.core.ChannelError):
        ctx.call(funcs.noop)


def test_no_zombies_or_fd_leaks_after_shutdown():
    before_fds = set(os.listdir('/proc/self/fd'))
    router = mitogen.master.Router()
    ctxs = [router.local() for _ in range(3)] + [router.fork()]
    pids = [c.call(funcs.get_pid) for c in ctxs]
    router.broker.shutdown()
    router.broker.join(10)
    for pid in pids:
        assert not _alive(pid)
        assert not os.path.exists('/proc/%d' % pid), 'zombie %d' % pid
    assert set(os.listdir('/proc/self/fd')) - before_fds == set()


def test_context_shutdown_reaps(router):
    before_fds = set(os.listdir('/proc/self/fd'))
    ctx = router.local()
    pid = ctx.call(funcs.get_pid)
    ctx.shutdown(wait=True)
    deadline = time.monotonic() + 5
    while os.path.exists('/proc/%d' % pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not os.path.exists('/proc/%d' % pid)
    assert set(os.listdir('/proc/self/fd')) - before_fds == set()


def test_child_fds_are_minimal(router):
    ctx = router.local()
    # stdio, transport in/out, epoll, wake pipe (2), stdout/stderr pipes, listdir's own fd
    assert len(ctx.call(funcs.open_fds)) <= 12


MASTER_SCRIPT = textwrap.dedent('''
    import faulthandler, os, signal, sys, time
    sys.path.insert(0, %(root)r)
    faulthandler.register(signal.SIGUSR1)  # the test asks for the stacks of a master that does not end
    # as in a terminal: a test run started in the background inherits SIGINT
    # ignored, and Python then never raises KeyboardInterrupt (seen in CI)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import mitogen.master
    from tests.mitogen import funcs
    router = mitogen.master.Router()
    a = router.local()
    b = router.local(via=a)
    print(a.call(funcs.get_pid), b.call(funcs.get_pid), flush=True)
    time.sleep(60)
''')


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT])
def test_signal_on_master_tears_down_tree(sig):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.Popen([sys.executable, '-c', MASTER_SCRIPT % {'root': root}], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd='/')
    try:
        line = proc.stdout.readline()
        a_pid, b_pid = map(int, line.split())
        assert _alive(a_pid) and _alive(b_pid)
        proc.send_signal(sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGUSR1)
            time.sleep(1)
            proc.kill()
            pytest.fail('master still running 10 s after %s; its stderr:\n%s'
                        % (sig.name, proc.communicate()[1].decode(errors='replace')))
        assert _wait_dead(a_pid) and _wait_dead(b_pid)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_connect_with_fd_numbers_above_1024(router):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip('fd limit too low')
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096), hard))
    fds = [os.open('/dev/null', os.O_RDONLY) for _ in range(1100)]
    try:
        ctx = router.local()
        assert ctx.call(funcs.add, 1, 1) == 2
        assert router.stream_by_id(ctx.context_id).rfd > 1024
    finally:
        for fd in fds:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
