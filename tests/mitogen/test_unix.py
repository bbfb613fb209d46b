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
