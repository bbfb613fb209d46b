"""mitogen.utils helpers, the mitogen.main() decorator and scripts' __main__ functions."""
import logging
import os
import subprocess
import sys
import textwrap

import pytest

import mitogen.core
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
