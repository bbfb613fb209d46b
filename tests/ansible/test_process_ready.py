"""Multiplexer readiness: start() does not wait, the first client() does.

Each test runs a fresh Python (a process joins mitogen's tree once, so the
test process itself cannot connect to several generations of
multiplexers): real multiplexers forked by process.start(), real UNIX
sockets and service calls into them.  A slow or crashing start is made by
replacing services.MultiplexerServer before the fork (the child inherits it).
"""
import subprocess
import sys
import textwrap

import pytest

from tests.ansible import harness

PRELUDE = """
import os, sys, time
from ansible_mitogen.multiplexer import process, services

def slow_server(delay):
    original = services.MultiplexerServer
    def slow(*args, **kwargs):
        time.sleep(delay)
        return original(*args, **kwargs)
    services.MultiplexerServer = slow

def stats():
    router, context = process.client("host-a")
    return context.call_service(services.CONTEXT_SERVICE, "stats")
"""


def _run(body: str) -> str:
    proc = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(body)], capture_output=True, text=True,
                          timeout=60, cwd=harness.REPO_ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.timeout(90)
def test_start_returns_before_serving_and_first_client_waits():
    out = _run("""
        slow_server(1.5)
        started = time.monotonic()
        process.start(forks=1, count=1)
        print("start %.2f" % (time.monotonic() - started))
        print("contexts", stats()["contexts"])
        print("client %.2f" % (time.monotonic() - started))
        process.stop()
        os._exit(0)  # the client broker's threads need not be joined
    """)
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    assert float(lines["start"]) < 1.0, "start() waited for the multiplexer:\n" + out
    assert float(lines["client"]) >= 1.5, "client() answered before the multiplexer served:\n" + out
    assert lines["contexts"] == "0"


@pytest.mark.timeout(90)
def test_a_multiplexer_that_dies_before_serving_fails_the_first_client():
    out = _run("""
        def broken(*args, **kwargs):
            raise OSError("cannot listen")
        services.MultiplexerServer = broken
        process.start(forks=1, count=1)
        try:
            process.client("host-a")
        except RuntimeError as exc:
            print("raised", exc)
        process.stop()
    """)
    assert "raised ansible_mitogen multiplexer 0 (pid" in out and "failed to start" in out, out


@pytest.mark.timeout(90)
def test_a_forked_child_asks_without_taking_the_answer():
    out = _run("""
        slow_server(0.5)
        process.start(forks=1, count=1)
        pid = os.fork()
        if pid == 0:  # forked before anyone asked: it asks first
            process._wait_ready(process._multiplexers[0])
            os._exit(0)
        print("child", os.waitpid(pid, 0)[1])
        print("contexts", stats()["contexts"])  # would block if the child had read the byte
        process.stop()
        os._exit(0)
    """)
    assert out.splitlines() == ["child 0", "contexts 0"], out
