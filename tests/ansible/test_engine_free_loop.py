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
def free_time(monkeypatch):
    """free.py's `time` once the hooks are in, at the start of a pass."""
    from ansible.plugins.strategy import StrategyBase, free

    strategy_hooks.install()
    monkeypatch.setattr(strategy_hooks.FREE_LOOP, "workers", [], raising=False)
    monkeypatch.setattr(strategy_hooks, "MAX_WAIT", 0.01)
    free.time.sleep(0.001)  # the pause before this pass: whatever came before is seen
    monkeypatch.setattr(strategy_hooks, "MAX_WAIT", 3600.0)
    pause = free.time
    pause.strategy = types.SimpleNamespace(_results=strategy_hooks._ArrivalDeque((), threading.Event()))
    pause.empty_pass = lambda: StrategyBase._process_pending_results(pause.strategy, iterator=None)
    return pause


def _pause_in_thread(free_time) -> threading.Thread:
    thread = threading.Thread(target=free_time.sleep, args=(0.001,), daemon=True)
    thread.start()
    return thread


def _waiting(free_time, thread: threading.Thread) -> bool:
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


def test_a_pass_that_did_nothing_waits_until_a_result_arrives(free_time):
    assert free_time.empty_pass() == []
    thread = _pause_in_thread(free_time)
    assert _waiting(free_time, thread)
    free_time.strategy._results.append("a result")  # ansible-core's result thread
    assert _ended(thread)


def test_a_result_that_arrived_after_the_pass_looked_ends_the_pause_at_once(free_time):
    assert free_time.empty_pass() == []
    free_time.strategy._results.append("a result")  # between the look and the pause
    assert _ended(_pause_in_thread(free_time))


def test_a_slot_freed_after_the_pass_ends_the_pause(free_time):
    # A result processed before its executor thread frees the slot: the pass
    # that follows finds a throttled task's slots still busy and starts nothing.
    assert free_time.empty_pass() == []
    worker.ExecutorWorker.finish(types.SimpleNamespace(_done=threading.Event()))
    assert _ended(_pause_in_thread(free_time))


def test_a_slot_freed_during_the_pause_ends_it(free_time):
    assert free_time.empty_pass() == []
    thread = _pause_in_thread(free_time)
    assert _waiting(free_time, thread)
    worker.ExecutorWorker.finish(types.SimpleNamespace(_done=threading.Event()))
    assert _ended(thread)


def test_tasks_held_for_an_executor_process_keep_the_loop_polling(free_time, monkeypatch):
    # They start when a pass finds them BATCH_AGE old; nothing signals that.
    offloader = offload.Offloader()
    offloader._held.append(object())
    offloader._held_since = time.monotonic() + 3600  # not BATCH_AGE old whenever the pass looks
    monkeypatch.setattr(offload, "OFFLOADER", offloader)
    assert free_time.empty_pass() == []
    assert _ended(_pause_in_thread(free_time))


def test_a_running_forked_worker_keeps_the_loop_polling(free_time):
    # Its exit frees a slot without a word to the loop.
    forked = types.SimpleNamespace(in_thread=False, is_alive=lambda: True)
    strategy_hooks.FREE_LOOP.workers = [None, forked]
    assert free_time.empty_pass() == []
    assert _ended(_pause_in_thread(free_time))
    forked.is_alive = lambda: False
    thread = _pause_in_thread(free_time)
    assert _waiting(free_time, thread)
    free_time.strategy._results.append("a result")
    assert _ended(thread)


def test_the_rest_of_time_is_the_real_module(free_time):
    assert free_time.monotonic is time.monotonic
