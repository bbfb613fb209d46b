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


@pytest.mark.timeout(60)
def test_context_handed_out_before_init_child_answers(service):
    # task workers' way: the first call may follow init_child at once
    reply = service.get(stack=[LOCAL], init_kwargs={"candidate_temp_dirs": ["/tmp"]}, wait_init=False)
    assert reply["msg"] is None and reply["init"] is None and reply["init_pending"]
    assert reply["context"].call(os.getpid)
    init = service.init_of(stack=[LOCAL])
    assert init["msg"] is None and init["init"]["home_dir"] and init["login_init"] == init["init"]
    again = service.get(stack=[LOCAL], wait_init=False)  # answered by now: given at once
    assert again["init"] == init["init"] and "init_pending" not in again


@pytest.mark.timeout(60)
def test_failed_init_child_fails_the_connection_and_is_forgotten(service):
    bad = {"candidate_temp_dirs": ["/tmp"], "no_such_argument": 1}  # init_child raises TypeError
    reply = service.get(stack=[LOCAL], init_kwargs=bad, wait_init=False)
    assert reply["init_pending"]
    init = service.init_of(stack=[LOCAL])
    assert init["context"] is None and init["method"] == "local" and init["depth"] == 1
    assert init["msg"].startswith("local: ") and "\n" not in init["msg"]
    assert service.stats()["contexts"] == 0
    assert _get(service, [LOCAL])["init"]["home_dir"]  # the next get() connects afresh
    waited = service.get(stack=[LOCAL, _fork("bad")], init_kwargs=bad)  # wait_init=True: as before
    assert waited["context"] is None and waited["depth"] == 2 and waited["method"] == "fork"


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
