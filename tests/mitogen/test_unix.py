"""UNIX-socket listener: other processes join the tree and reach its children."""
import os
import subprocess
import sys
import textwrap

import mitogen.unix
from tests.mitogen import funcs

CLIENT = textwrap.dedent('''
    import sys
    sys.path.insert(0, %(root)r)
    import mitogen.unix
    from tests.mitogen import funcs
    router, parent = mitogen.unix.connect(%(path)r)
    target = router.context_by_id(%(target)d)
    print(target.call(funcs.add, 1, 2), target.call(funcs.get_ppid), parent.context_id, flush=True)
    router.broker.shutdown()
    router.broker.join()
''')


def test_listener_client_reaches_children(router):
    listener = mitogen.unix.Listener(router)
    try:
        assert os.stat(listener.path).st_mode & 0o077 == 0
        target = router.local()
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        out = subprocess.check_output(
            [sys.executable, '-c', CLIENT % {'root': root, 'path': listener.path, 'target': target.context_id}],
            timeout=60)
        assert out.split() == [b'3', str(os.getpid()).encode(), b'0']
    finally:
        listener.stop()
    assert not os.path.exists(listener.path)
    assert target.call(funcs.add, 1, 1) == 2


DYING_TARGET_CLIENT = textwrap.dedent('''
    import sys
    sys.path.insert(0, %(root)r)
    import mitogen.core, mitogen.unix
    from tests.mitogen import funcs
    router, parent = mitogen.unix.connect(%(path)r)
    target = router.context_by_id(%(target)d)
    try:
        target.call(funcs.kill_self)
        print('returned', flush=True)
    except mitogen.core.ChannelError as e:
        print('ChannelError:', e, flush=True)
    router.broker.shutdown()
    router.broker.join()
''')


def test_client_call_to_dying_target_fails_instead_of_hanging(router):
    """A listener client waiting on a target the listener loses hears of it
    (DEL_ROUTE goes down to trusted clients too, also in unidirectional mode)."""
    router.unidirectional = True
    listener = mitogen.unix.Listener(router)
    try:
        target = router.local()
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        out = subprocess.check_output(
            [sys.executable, '-c', DYING_TARGET_CLIENT % {
                'root': root, 'path': listener.path, 'target': target.context_id}],
            timeout=30)
    finally:
        listener.stop()
    assert out.startswith(b'ChannelError:'), out
    assert str(target.context_id).encode() in out


EMFILE_SCRIPT = textwrap.dedent('''
    import logging, os, resource, socket, sys, time
    sys.path.insert(0, %(root)r)
    import mitogen.master, mitogen.unix

    class Count(logging.Handler):
        n = 0
        def emit(self, record):
            if 'accept' in record.getMessage():
                Count.n += 1
    logger = logging.getLogger('mitogen')
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Count())
    router = mitogen.master.Router()
    listener = mitogen.unix.Listener(router)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    hog = []
    while True:
        try:
            hog.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            break
    client.connect(listener.path)      # needs no new fd in this process
    time.sleep(1.0)
    attempts = Count.n
    for fd in hog:
        os.close(fd)
    client.settimeout(10)
    hello = client.recv(16)            # accepted once fds are free again
    print(attempts, len(hello), flush=True)
    router.broker.shutdown()
    router.broker.join()
''')


def test_listener_backs_off_while_out_of_fds():
    """EMFILE must not make the broker spin on the still-readable listening socket."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.check_output([sys.executable, '-c', EMFILE_SCRIPT % {'root': root}], timeout=60)
    attempts, hello_len = map(int, out.split())
    assert 1 <= attempts <= 8      # 0.05, 0.1, 0.2, 0.4 s backoff within 1 s
    assert hello_len == 16
