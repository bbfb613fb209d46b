"""Shared body of our strategy plugins: activate, then run the builtin one.

Runs in the controller's strategy process.  Each file in
plugins/strategy/ subclasses `wrap(builtin StrategyModule)`; the builtin
scheduling is untouched, only the hooks from `activation` change how
connections and actions behave.
"""
from typing import Any, Type

from ansible_mitogen import activation, plugin_warmup, speedups


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

        def _queue_task(self, *args: Any, **kwargs: Any) -> Any:
            # Before the fork, so this worker inherits what earlier ones loaded.
            plugin_warmup.absorb()
            with speedups.heap_frozen_for_fork():
                return super()._queue_task(*args, **kwargs)

    StrategyModule.__name__ = StrategyModule.__qualname__ = "StrategyModule"
    return StrategyModule
