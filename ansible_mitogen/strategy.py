"""Shared body of our strategy plugins: the builtin scheduling on our engine.

Runs in the controller's strategy process.  Each file in
plugins/strategy/ subclasses `wrap(builtin StrategyModule)`.  The builtin
scheduling is untouched; activation installs the connection and action
hooks and the engine (ansible_mitogen.engine), which runs tasks on
long-lived executor threads instead of one forked worker per task.  The
methods here are the engine's strategy-side half: results and other state
changes are applied with the state lock held exclusively, and queueing
waits for a free executor instead of polling.
"""
from typing import Any, Optional, Type

from ansible_mitogen import activation, engine, plugin_warmup
from ansible_mitogen.engine import worker
from ansible_mitogen.engine.state_lock import STATE


def wrap(builtin: Type[Any]) -> Type[Any]:
    """A StrategyModule subclass of `builtin` that activates us first."""

    class StrategyModule(builtin):
        def __init__(self, tqm: Any) -> None:
            # Before the builtin __init__ starts its results thread, so the
            # multiplexers fork from a process with fewer threads.
            activation.activate(forks=getattr(tqm, "_forks", None) or None)
            super().__init__(tqm)

        def run(self, iterator: Any, play_context: Any, *args: Any, **kwargs: Any) -> Any:
            activation.activate()
            return super().run(iterator, play_context, *args, **kwargs)

        def _queue_task(self, host: Any, task: Any, task_vars: Any, play_context: Any) -> Any:
            # Before a fork, so a forked worker inherits what earlier ones loaded.
            plugin_warmup.absorb()
            worker.wait_for_free_slot(self._workers, self._slot_limit(task, task_vars))
            return super()._queue_task(host, task, task_vars, play_context)

        def _slot_limit(self, task: Any, task_vars: Any) -> int:
            """How many worker slots _queue_task may use for `task`."""
            limit = len(self._workers)
            throttle = _throttle(task, task_vars, self._loader)
            if throttle and throttle > 0 and self.ALLOW_BASE_THROTTLING and not task.run_once:
                limit = min(limit, throttle)
            return limit

        def _process_pending_results(self, iterator: Any, one_pass: bool = False,
                                     max_passes: Optional[int] = None) -> Any:
            if not self._results and not _rpc_pending(self):
                return []  # what ansible-core returns too, minus the state lock
            with STATE.exclusive():
                return super()._process_pending_results(iterator, one_pass=one_pass, max_passes=max_passes)

    engine.guard_strategy(StrategyModule)
    StrategyModule.__name__ = StrategyModule.__qualname__ = "StrategyModule"
    return StrategyModule


def _throttle(task: Any, task_vars: Any, loader: Any) -> Optional[int]:
    try:
        from ansible.template import Templar

        return int(Templar(loader, variables=task_vars).template(task.throttle))
    except Exception:  # ansible-core's _queue_task raises the proper error
        return None


def _rpc_pending(strategy: Any) -> bool:
    rpc_queue = getattr(strategy, "_rpc_queue", None)  # ansible-core 2.21
    return rpc_queue is not None and not rpc_queue.empty()
