"""mitogen.utils helpers, the mitogen.main() decorator and scripts' __main__ functions."""
import logging
import os
import subprocess
import sys
import textwrap

import pytest

import mitogen.core
import mitogen.master
import mitogen.utils
from tests.mitogen import funcs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_run_with_router():
    def body(router, x):
        return router.local().call(funcs.add, x, 1)
    assert mitogen.utils.run_with_router(body, 41) == 42


def test_with_router():
    @mitogen.utils.with_router
    def body(router):
        return router.fork().call(funcs.get_ppid)
    assert body() == os.getpid()


def test_cast():
    class S(str):
        pass

    class D(dict):
        pass
    out = mitogen.utils.cast(D(a=[S('x'), (1, 2.0)], b=True))
    assert out == {'a': ['x', (1, 2.0)], 'b': True}
    assert type(out) is dict and type(out['a'][0]) is str
    s = mitogen.core.Secret('pw')
    assert mitogen.utils.cast(s) is s


def test_log_to_file(tmp_path):
    path = str(tmp_path / 'log')
    logger = logging.getLogger('mitogen')
    saved = logger.handlers[:], logger.level, logger.propagate
    try:
        mitogen.utils.log_to_file(path, level='DEBUG')
        logging.getLogger('mitogen.test').debug('hello file')
        for h in logger.handlers:
            h.flush()
        assert 'hello file' in open(path).read()
    finally:
        for h in logger.handlers:
            if h not in saved[0]:
                h.close()
        logger.handlers[:], logger.level, logger.propagate = saved


SCRIPT = textwrap.dedent('''
    import os, sys
    sys.path.insert(0, %(root)r)
    import mitogen

    RAN_IN = []

    def where():
        return os.getpid(), __name__

    if __name__ == '__main__':
        print('main block', flush=True)

    @mitogen.main(log_level='WARNING')
    def main(router):
        ctx = router.local()
        pid, name = ctx.call(where)
        print(pid != os.getpid(), name, flush=True)
''')


def test_main_decorator_and_main_module_functions(tmp_path):
    script = tmp_path / 'script.py'
    script.write_text(SCRIPT % {'root': ROOT})
    out = subprocess.check_output([sys.executable, str(script)], timeout=60, cwd=str(tmp_path))
    # The child imported the script as __mitogen_main__: its main block did not run again.
    assert out.decode().split('\n')[:2] == ['main block', 'True __mitogen_main__']


def test_child_code_can_start_grandchildren(router):
    ctx = router.local()
    ok, name = ctx.call(funcs.start_grandchild_with_router_local)
    assert ok and name == 'gc-from-child'


def test_bad_magic_closes_stream(router, caplog):
    ctx = router.local()
    stream = router.stream_by_id(ctx.context_id)
    latch = mitogen.core.Latch()
    mitogen.core.listen(stream, 'disconnect', lambda: latch.put(1))
    with caplog.at_level(logging.ERROR, logger='mitogen'):
        ctx.call_no_reply(funcs.send_bad_magic)
        latch.get(timeout=10)
    assert 'bad frame magic' in caplog.text
    with pytest.raises(mitogen.core.ChannelError):
        ctx.call(funcs.noop)


MAIN_SCRIPT = textwrap.dedent('''
    import os, sys
    sys.path.insert(0, %(root)r)
    import mitogen, mitogen.core

    @mitogen.main(log_level=%(level)r, profiling=%(profiling)r)
    def main(router):
        ctx = router.local()
        print(os.getpid(), ctx.call(os.getpid), ctx.context_id, flush=True)
        if %(fail)r:
            raise RuntimeError('script failed')
        return 'result'

    print('bound to', main, flush=True)
''')


def run_main_script(tmp_path, level='INFO', profiling=False, fail=False):
    script = tmp_path / 'main_script.py'
    script.write_text(MAIN_SCRIPT % {'root': ROOT, 'level': level, 'profiling': profiling, 'fail': fail})
    proc = subprocess.run([sys.executable, str(script)], timeout=60, cwd=str(tmp_path),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    master_pid, child_pid, child_id = proc.stdout.split('\n')[0].split()
    return proc, int(master_pid), int(child_pid), child_id


def test_main_logs_at_level_and_binds_result(tmp_path):
    proc = run_main_script(tmp_path, level='DEBUG')[0]
    assert proc.returncode == 0
    assert 'bound to result' in proc.stdout
    assert ' D mitogen' in proc.stderr and 'spawning' in proc.stderr
    quiet = run_main_script(tmp_path, level='WARNING')[0]
    assert 'spawning' not in quiet.stderr


def test_main_tears_down_children_when_function_raises(tmp_path):
    proc, _, child_pid, _ = run_main_script(tmp_path, fail=True)
    assert proc.returncode == 1 and 'RuntimeError: script failed' in proc.stderr
    assert not os.path.exists('/proc/%d' % child_pid)


def test_main_profiling_writes_stats_for_master_and_children(tmp_path):
    proc, master_pid, child_pid, child_id = run_main_script(tmp_path, profiling=True)
    stats = ['/tmp/mitogen.stats.%d.0' % master_pid, '/tmp/mitogen.stats.%d.%s' % (child_pid, child_id)]
    try:
        assert proc.returncode == 0, proc.stderr
        for path in stats:
            assert os.path.getsize(path) > 0
    finally:
        for path in stats:
            if os.path.exists(path):
                os.unlink(path)


def test_master_router_owns_a_broker_unless_given_one():
    own = mitogen.master.Router()
    shared = mitogen.master.Broker()
    given = mitogen.master.Router(shared)
    try:
        assert own.broker is not shared and own.broker._thread.is_alive()
        assert given.broker is shared
    finally:
        for broker in (own.broker, shared):
            broker.shutdown()
            broker.join(10)
