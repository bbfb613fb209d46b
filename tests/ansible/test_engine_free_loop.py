"""The free strategy's pause between passes (engine.strategy_hooks.FreeLoopPause).

Controller side, in the test process, no target: each test plays what the
strategy thread and the other threads of a run do around one pause of
ansible-core's free loop (`free.time.sleep` after a pass), through the
hooks `strategy_hooks.install()` puts on ansible-core, and asserts whether
the pause waits or lets the next pass run.  A pause that waits when the
next pass could do something would stall the run (until MAX_WAIT, which the
tests make an hour): every test bounds its join, none measures time.
"""
import threading
import time
import types

import pytest

from ansible_mitogen.engine import offload, strategy_hooks, worker

HANG = 30.0  # a join longer than this is the pause waiting for nothing


@pytest.fixture
def loop(monkeypatch):
    """free.py's pause once the hooks are in, at the start of a pass, and a
    strategy's result queue and its empty pass."""
    from ansible.plugins.strategy import StrategyBase, free

    strategy_hooks.install()
    monkeypatch.setattr(strategy_hooks.FREE_LOOP, "workers", [], raising=False)
    monkeypatch.setattr(strategy_hooks, "MAX_WAIT", 0.01)
    free.time.sleep(0.001)  # the pause before this pass: whatever came before is seen
    monkeypatch.setattr(strategy_hooks, "MAX_WAIT", 3600.0)
    strategy = types.SimpleNamespace(_results=strategy_hooks._ArrivalDeque((), threading.Event()))
    return types.SimpleNamespace(
        time=free.time, results=strategy._results,
        empty_pass=lambda: StrategyBase._process_pending_results(strategy, iterator=None))


def _pause_in_thread(loop) -> threading.Thread:
    thread = threading.Thread(target=loop.time.sleep, args=(0.001,), daemon=True)
    thread.start()
    return thread


def _waiting(thread: threading.Thread) -> bool:
    """Whether `thread` is inside the pause's wait (not on its way out)."""
    condition = strategy_hooks.FREE_LOOP._lock
    while thread.is_alive():
        with condition:
            if condition._waiters:
                return True
        thread.join(0.01)
    return False


def _ended(thread: threading.Thread) -> bool:
    thread.join(HANG)
    return not thread.is_alive()


def test_a_pass_that_did_nothing_waits_until_a_result_arrives(loop):
    assert loop.empty_pass() == []
    thread = _pause_in_thread(loop)
    assert _waiting(thread)
    loop.results.append("a result")  # ansible-core's result thread
    assert _ended(thread)


def test_a_result_that_arrived_after_the_pass_looked_ends_the_pause_at_once(loop):
    assert loop.empty_pass() == []
    loop.results.append("a result")  # between the look and the pause
    assert _ended(_pause_in_thread(loop))


def test_a_slot_freed_after_the_pass_ends_the_pause(loop):
    # A result processed before its executor thread frees the slot: the pass
    # that follows finds a throttled task's slots still busy and starts nothing.
    assert loop.empty_pass() == []
    worker.ExecutorWorker.finish(types.SimpleNamespace(_done=threading.Event()))
    assert _ended(_pause_in_thread(loop))


def test_a_slot_freed_during_the_pause_ends_it(loop):
    assert loop.empty_pass() == []
    thread = _pause_in_thread(loop)
    assert _waiting(thread)
    worker.ExecutorWorker.finish(types.SimpleNamespace(_done=threading.Event()))
    assert _ended(thread)


def test_tasks_held_for_an_executor_process_keep_the_loop_polling(loop, monkeypatch):
    # They start when a pass finds them BATCH_AGE old; nothing signals that.
    offloader = offload.Offloader()
    offloader._held.append(object())
    offloader._held_since = time.monotonic() + 3600  # not BATCH_AGE old whenever the pass looks
    monkeypatch.setattr(offload, "OFFLOADER", offloader)
    assert loop.empty_pass() == []
    assert _ended(_pause_in_thread(loop))


def test_a_running_forked_worker_keeps_the_loop_polling(loop):
    # Its exit frees a slot without a word to the loop.
    forked = types.SimpleNamespace(in_thread=False, is_alive=lambda: True)
    strategy_hooks.FREE_LOOP.workers = [None, forked]
    assert loop.empty_pass() == []
    assert _ended(_pause_in_thread(loop))
    forked.is_alive = lambda: False
    thread = _pause_in_thread(loop)
    assert _waiting(thread)
    loop.results.append("a result")
    assert _ended(thread)


def test_the_rest_of_time_is_the_real_module(loop):
    assert loop.time.monotonic is time.monotonic
