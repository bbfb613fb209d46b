"""Children's logging and stdout/stderr reach the master's logging."""
import logging
import time

import mitogen.core
from tests.mitogen import funcs


def _wait_for(caplog, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in caplog.text:
            return True
        time.sleep(0.02)
    return False


def test_child_logging_forwarded(router, caplog):
    caplog.set_level(logging.DEBUG)
    ctx = router.local(name='logger-child')
    ctx.call(funcs.log_message, logging.WARNING, 'warning from child')
    assert _wait_for(caplog, 'warning from child')
    rec = [r for r in caplog.records if 'warning from child' in r.getMessage()][0]
    assert rec.name == 'mitogen.ctx.logger-child'
    assert rec.levelno == logging.WARNING


def test_grandchild_logging_forwarded(router, caplog):
    caplog.set_level(logging.DEBUG)
    a = router.local(name='lg-a')
    b = router.local(via=a, name='lg-b')
    b.call(funcs.log_message, logging.ERROR, 'from grandchild')
    assert _wait_for(caplog, 'from grandchild')
    assert any(r.name == 'mitogen.ctx.lg-b' for r in caplog.records if 'from grandchild' in r.getMessage())


def test_stdout_and_stderr_forwarded(router, caplog):
    caplog.set_level(logging.DEBUG)
    ctx = router.local(name='printer')
    ctx.call(funcs.write_stdout, 'printed line')
    assert _wait_for(caplog, 'stdout: printed line')
    assert _wait_for(caplog, 'stderr: err:printed line')


def test_secret_never_in_child_logs(router, caplog):
    caplog.set_level(logging.DEBUG)
    ctx = router.local(debug=True)
    assert ctx.call(funcs.log_secret, mitogen.core.Secret('hunter2')) is True
    assert _wait_for(caplog, 'secret is [secret] / [secret]')
    assert 'hunter2' not in caplog.text
