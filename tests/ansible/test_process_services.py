"""ContextService against real local interpreters: reuse, sharing, reset, cap.

Runs the service in-process on the controller with a real
mitogen.master.Router; every context is a real child Python process.
"""
import os
import sys
import threading

import pytest

from ansible_mitogen.multiplexer import services

LOCAL = {"method": "local", "kwargs": {"python_path": [sys.executable]}}


def _fork(name):
    return {"method": "fork", "kwargs": {"name": name}}


@pytest.fixture
def service():
    import mitogen.master

    router = mitogen.master.Router()
    yield services.ContextService(router)
    router.broker.shutdown()
    router.broker.join()


def _get(service, stack):
    reply = service.get(stack=stack, init_kwargs={"candidate_temp_dirs": ["/tmp"]})
    assert reply["msg"] is None, reply["msg"]
    return reply


@pytest.mark.timeout(60)
def test_reuse_and_login_context(service):
    first = _get(service, [LOCAL])
    again = _get(service, [LOCAL])
    assert first["context"] == again["context"]
    child = _get(service, [LOCAL, _fork("a")])
    assert child["login_context"] == first["context"]
    assert child["context"] != first["context"]
    assert first["init"]["home_dir"] and os.path.isdir(first["init"]["good_temp_dir"])
    assert child["context"].call(os.getppid) == first["context"].call(os.getpid)


@pytest.mark.timeout(60)
def test_concurrent_requests_share_one_connection(service):
    replies = []
    stack = [LOCAL, _fork("shared")]

    def ask():
        replies.append(_get(service, stack)["context"])

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(replies) == 6 and len(set(replies)) == 1
    assert service.stats()["contexts"] == 2


@pytest.mark.timeout(60)
def test_reset_reconnects(service):
    before = _get(service, [LOCAL])["context"]
    pid = before.call(os.getpid)
    assert service.reset(stack=[LOCAL]) is True
    after = _get(service, [LOCAL])["context"]
    assert after != before and after.call(os.getpid) != pid


@pytest.mark.timeout(60)
def test_failed_connect_is_a_message_not_an_exception(service):
    reply = service.get(stack=[{"method": "local", "kwargs": {"python_path": ["/nonexistent/python"]}}])
    assert reply["context"] is None and reply["method"] == "local"
    assert reply["msg"].startswith("local: ") and "\n" not in reply["msg"]


@pytest.mark.timeout(90)
def test_interpreter_cap_evicts_least_recently_used_idle(service, monkeypatch):
    monkeypatch.setenv("MITOGEN_MAX_INTERPRETERS", "3")
    _get(service, [LOCAL])
    busy = _get(service, [LOCAL, _fork("busy")])["context"]   # refcount stays 1
    idle = _get(service, [LOCAL, _fork("idle")])["context"]
    service.put(context=idle)
    newest = _get(service, [LOCAL, _fork("new")])["context"]
    assert service.stats()["contexts"] == 3
    assert busy.call(os.getpid) and newest.call(os.getpid)
    assert _get(service, [LOCAL, _fork("idle")])["context"] != idle  # it was shut down
