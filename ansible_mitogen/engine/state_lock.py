"""The state lock: executor threads never run while the strategy changes state.

Runs in the controller's strategy process.  Task executors run as threads
of this process (ansible_mitogen.engine.worker) and read what the strategy
thread owns: inventory, the variable manager's fact caches, host and group
variables.  ansible-core's own workers read a forked copy, so the strategy
may change those structures at any time; threads see them live.  This lock
keeps the two apart:

* an executor thread holds it *shared* for the whole task, except while it
  waits on something outside the process (a target call, a multiplexer
  request, time.sleep): those waits go through `released()`;
* the strategy thread holds it *exclusive* while it applies results, runs
  meta tasks and loads included files, so no executor reads half-applied
  state.

Waiting writers go first: an executor coming back from a target call waits
until the strategy thread is done.  Executors never wait for the strategy
thread while holding the lock, so neither side can deadlock the other.
"""
import contextlib
import os
import threading
from typing import Iterator


class StateLock:
    """Shared/exclusive lock with writer preference; shared side per thread."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Unheld, as in a forked child: the holders were other threads."""
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0
        self._owner = None  # thread holding it exclusively
        self._owner_depth = 0
        self._local = threading.local()

    def holds_shared(self) -> bool:
        """True in a thread inside `shared()` and not in `released()`."""
        return getattr(self._local, "depth", 0) > 0

    def _acquire_shared(self) -> None:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1

    def _release_shared(self) -> None:
        with self._cond:
            self._readers -= 1
            if not self._readers:
                self._cond.notify_all()

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        """An executor thread's whole task (a no-op for the exclusive holder)."""
        if self._owner is threading.current_thread():
            yield
            return
        self._acquire_shared()
        self._local.depth = getattr(self._local, "depth", 0) + 1
        try:
            yield
        finally:
            self._local.depth -= 1
            self._release_shared()

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Around a wait on the outside world; a no-op where not held."""
        depth = getattr(self._local, "depth", 0)
        if not depth:
            yield
            return
        self._local.depth = 0
        self._release_shared()
        try:
            yield
        finally:
            self._acquire_shared()
            self._local.depth = depth

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """The strategy thread changing what executors read (re-entrant)."""
        me = threading.current_thread()
        if self._owner is me:
            self._owner_depth += 1
            try:
                yield
            finally:
                self._owner_depth -= 1
            return
        if self.holds_shared():
            raise RuntimeError("an executor thread cannot take the state lock exclusively")
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True
            self._owner = me
        try:
            yield
        finally:
            with self._cond:
                self._owner = None
                self._writer = False
                self._cond.notify_all()


#: The one lock of this process.
STATE = StateLock()
os.register_at_fork(after_in_child=STATE.reset)
