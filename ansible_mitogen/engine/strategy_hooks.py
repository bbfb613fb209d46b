"""The strategy side of the engine, installed on ansible-core's StrategyBase.

Runs in the controller's strategy process.  Once the engine is installed,
every strategy of the run (ours, and builtin ones a play names or the
vars-plugin entry point accelerates) starts ExecutorWorkers, so every one
must apply results under the state lock; the hooks therefore go on
StrategyBase itself, not on our subclasses:

* `_queue_task` first absorbs plugin loads reported by forked workers and
  waits for a free executor slot on a condition (ansible-core polls every
  0.1 ms, which would take the interpreter lock from the executors);
* tasks held for an executor process (offload.py) start when a batch is
  full, when `_process_pending_results` finds the batch BATCH_AGE old, and
  before `_wait_on_pending_results` or a slot wait;
* `_wait_on_pending_results` sleeps until a result (or, on 2.21, an
  inventory request) arrives, instead of ansible-core's loop that wakes
  every millisecond: the result thread's append wakes it (`_ArrivalDeque`),
  and it still looks for dead workers and a stopped run every MAX_WAIT;
* the free strategy's pause between passes over its hosts (1 ms, whose
  passes would take the interpreter lock from the executors a thousand
  times a second) waits instead, after a pass that could change nothing,
  until something the next pass reads changes (`FreeLoopPause`);
* `_process_pending_results` and the other methods that change what
  executors read (GUARDED_METHODS) run with the state lock held exclusively;
* ansible-core's result thread looks each arriving result's host up in the
  inventory (READING_METHODS): it holds the lock shared meanwhile, so a
  `meta: refresh_inventory` rebuilding the inventory is never seen half done;
  when no result is waiting, `_process_pending_results` returns at once, as
  ansible-core would, without taking the lock.
"""
import collections
import functools
import os
import threading
import time
from typing import Any, Optional

from ansible.errors import AnsibleError

from ansible_mitogen.controller import plugin_warmup
from ansible_mitogen.engine import ast_lock, offload, worker
from ansible_mitogen.engine.state_lock import STATE

#: StrategyBase methods that change what executors read.
GUARDED_METHODS = ("_execute_meta", "_load_included_file", "_copy_included_file", "_process_rpc_queue")
#: Methods ansible-core's result thread calls that read the inventory
#: (2.17/2.18, 2.19/2.20, 2.21).
READING_METHODS = ("normalize_task_result", "_convert_wire_task_result_to_raw",
                   "_convert_wire_task_result_to_host_task_result")
_MARK = "_mitogen_engine_hook"
#: Longest sleep of the strategy thread between looks at its workers (s).
MAX_WAIT = 0.05


class _ArrivalDeque(collections.deque):
    """StrategyBase._results, which also wakes the waiting strategy thread."""

    def __init__(self, items: Any, arrived: threading.Event) -> None:
        super().__init__(items)
        self.arrived = arrived

    def append(self, item: Any) -> None:
        super().append(item)
        self.arrived.set()
        FREE_LOOP.changed()


class FreeLoopPause:
    """The `time` module as ansible-core's free strategy module sees it.

    free.py calls `time.sleep(1 ms)` after each pass over its hosts.  What a
    pass does depends only on state that changes in a few places, each of
    which calls `changed()` once the change is visible: a result or (2.21)
    an inventory request queued for the strategy, an executor thread's slot
    freed (a throttled task may start), and, in the strategy thread, a task
    queued, a meta task run, results or requests processed.  `sleep` looks,
    under the same lock, whether the generation moved since the pass began:
    if so it sleeps the 1 ms as ansible-core does; if not, the next pass
    would do exactly what this one did, nothing, so it waits until the
    generation moves (at most MAX_WAIT, a safety net).  State whose changes
    nobody signals keeps ansible-core's 1 ms poll: a forked worker's exit,
    and tasks held for an executor process (started when BATCH_AGE old)."""

    def __init__(self) -> None:
        self._lock = threading.Condition(threading.Lock())
        self.generation = 0
        self._seen = 0  # the generation the current pass began at
        #: The running strategy's worker slots.
        self.workers: list = []

    def changed(self) -> None:
        with self._lock:
            self.generation += 1
            self._lock.notify_all()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            idle = self.generation == self._seen and not _unsignalled(self.workers)
            if idle:
                self._lock.wait_for(lambda: self.generation != self._seen, MAX_WAIT)
            self._seen = self.generation
        if not idle:
            time.sleep(seconds)

    def after_fork_in_child(self) -> None:
        # The fork may have copied the lock held by another thread.
        self._lock = threading.Condition(threading.Lock())

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def _unsignalled(workers: list) -> bool:
    """Whether the next pass may find a change nobody signals."""
    return offload.OFFLOADER.holds_tasks() or any(
        slot is not None and not getattr(slot, "in_thread", False) and slot.is_alive() for slot in workers)


FREE_LOOP = FreeLoopPause()
os.register_at_fork(after_in_child=FREE_LOOP.after_fork_in_child)


def install() -> None:
    from ansible.plugins.strategy import StrategyBase, free

    if getattr(StrategyBase._process_pending_results, _MARK, False):
        return
    for name in GUARDED_METHODS:
        original = getattr(StrategyBase, name, None)
        if original is not None:
            setattr(StrategyBase, name, _marked(_exclusive(original)))
    for name in READING_METHODS:
        original = getattr(StrategyBase, name, None)
        if original is not None:
            setattr(StrategyBase, name, _marked(_shared(original)))
    StrategyBase._queue_task = _marked(_queue_task(StrategyBase._queue_task))
    StrategyBase._process_pending_results = _marked(_process_pending_results(StrategyBase._process_pending_results))
    StrategyBase.__init__ = _marked(_init(StrategyBase.__init__))
    StrategyBase._wait_on_pending_results = _marked(_wait_on_pending_results)
    StrategyBase._execute_meta = _marked(_changing(StrategyBase._execute_meta))
    worker.ExecutorWorker.finish = _changing(worker.ExecutorWorker.finish)
    free.time = FREE_LOOP
    ast_lock.install()


def _marked(func: Any) -> Any:
    setattr(func, _MARK, True)
    return func


def _exclusive(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with STATE.exclusive():
            return method(*args, **kwargs)

    return wrapper


def _shared(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with STATE.shared():
            return method(*args, **kwargs)

    return wrapper


def _changing(method: Any) -> Any:
    """`method`, telling the free loop once it is done (FreeLoopPause)."""
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        finally:
            FREE_LOOP.changed()

    return wrapper


def _queue_task(original: Any) -> Any:
    @functools.wraps(original)
    def queue_task(self: Any, host: Any, task: Any, task_vars: Any, play_context: Any) -> Any:
        # Before a fork, so a forked worker inherits what earlier ones loaded.
        plugin_warmup.absorb()
        offload.OFFLOADER.forks = len(self._workers)
        worker.wait_for_free_slot(self._workers, slot_limit(self, task, task_vars))
        try:
            return original(self, host, task, task_vars, play_context)
        finally:
            FREE_LOOP.changed()

    return queue_task


def _process_pending_results(original: Any) -> Any:
    @functools.wraps(original)
    def process_pending_results(self: Any, iterator: Any, one_pass: bool = False,
                                max_passes: Optional[int] = None) -> Any:
        offload.OFFLOADER.flush(min_age=offload.BATCH_AGE)
        if not self._results and not _rpc_pending(self):
            return []  # what ansible-core returns too, minus the state lock
        try:
            with STATE.exclusive():
                return original(self, iterator, one_pass=one_pass, max_passes=max_passes)
        finally:
            FREE_LOOP.changed()

    return process_pending_results


def _init(original: Any) -> Any:
    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        arrived = threading.Event()
        self._results = _ArrivalDeque(self._results, arrived)
        FREE_LOOP.workers = self._workers
        rpc_queue = getattr(self, "_rpc_queue", None)  # ansible-core 2.21
        if rpc_queue is not None:
            rpc_queue.put = _setting_after(rpc_queue.put, arrived)

    return init


def _setting_after(put: Any, event: threading.Event) -> Any:
    @functools.wraps(put)
    def put_and_set(*args: Any, **kwargs: Any) -> None:
        put(*args, **kwargs)
        event.set()
        FREE_LOOP.changed()

    return put_and_set


def _wait_on_pending_results(self: Any, iterator: Any) -> list:
    """Process results until none is pending (what ansible-core's method
    does), sleeping until one arrives instead of polling every millisecond."""
    offload.OFFLOADER.flush()  # nothing else is queued before this wait
    arrived = self._results.arrived
    results = []
    while self._pending_results > 0 and not self._tqm._terminated:
        if self._tqm.has_dead_workers():
            raise AnsibleError("A worker was found in a dead state")
        arrived.clear()  # before looking: a later arrival wakes the wait below
        results.extend(self._process_pending_results(iterator))
        if self._pending_results > 0:
            arrived.wait(MAX_WAIT)
    return results


def slot_limit(strategy: Any, task: Any, task_vars: Any) -> int:
    """How many worker slots _queue_task may use for `task` (its throttle)."""
    limit = len(strategy._workers)
    throttle = _throttle(task, task_vars, strategy._loader)
    if throttle and throttle > 0 and strategy.ALLOW_BASE_THROTTLING and not task.run_once:
        limit = min(limit, throttle)
    return limit


def _throttle(task: Any, task_vars: Any, loader: Any) -> Optional[int]:
    try:
        from ansible.template import Templar

        return int(Templar(loader, variables=task_vars).template(task.throttle))
    except Exception:  # ansible-core's _queue_task raises the proper error
        return None


def _rpc_pending(strategy: Any) -> bool:
    rpc_queue = getattr(strategy, "_rpc_queue", None)  # ansible-core 2.21
    return rpc_queue is not None and not rpc_queue.empty()
