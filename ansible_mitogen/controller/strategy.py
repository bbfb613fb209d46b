"""Shared body of our strategy plugins: activate, then run the builtin one.

Runs in the controller's strategy process.  Each file in
plugins/strategy/ subclasses `wrap(builtin StrategyModule)`.  The builtin
scheduling is untouched; activation installs the connection and action
hooks and the engine (ansible_mitogen.engine), which runs tasks on
long-lived executor threads instead of one forked worker per task and
hooks StrategyBase itself, so these subclasses only need to activate.
"""
from typing import Any, Type

from ansible_mitogen.controller import activation, speedups


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
            speedups.freeze_strategy_heap()
            return super().run(iterator, play_context, *args, **kwargs)

    StrategyModule.__name__ = StrategyModule.__qualname__ = "StrategyModule"
    return StrategyModule
