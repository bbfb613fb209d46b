"""What an executor thread sees as "its process": display queue, worker, stdio.

Runs in the controller's strategy process.  ansible-core's task worker is a
process of its own: `Display` forwards its messages over the worker's
result queue (`Display._final_q`), a prompt is answered through
`ansible.executor.process.worker.current_worker`, and stray writes to
stdout/stderr land in a buffer that the worker reports as a warning.  Those
are process globals; this module makes each of them per thread, so an
executor thread behaves like a worker while the strategy thread and
ansible-core's result thread keep the process's own values.
"""
import contextlib
import io
import sys
import threading
from typing import Any, Iterator, Optional, Tuple

_local = threading.local()
_installed = False


def bound_worker() -> Optional[Any]:
    """The ExecutorWorker the calling thread runs, if any."""
    return getattr(_local, "worker", None)


@contextlib.contextmanager
def bind(worker: Any, final_q: Any, capture_stdio: bool) -> Iterator[Tuple[io.StringIO, io.StringIO]]:
    """Make the calling thread act as `worker`'s process; yields the
    (stdout, stderr) buffers that catch direct writes meanwhile (they stay
    empty unless `capture_stdio`)."""
    buffers = (io.StringIO(), io.StringIO())
    _local.worker, _local.final_q = worker, final_q
    _local.stdio = buffers if capture_stdio else None
    try:
        yield buffers
    finally:
        _local.worker = _local.final_q = _local.stdio = None


class _DisplayQueue:
    """`Display._final_q`: the thread's result queue, else the process's."""

    def __get__(self, display: Any, owner: Any = None) -> Any:
        if display is None:
            return self
        queue = getattr(_local, "final_q", None)
        return queue if queue is not None else display.__dict__.get("_final_q")

    def __set__(self, display: Any, value: Any) -> None:
        display.__dict__["_final_q"] = value


class _CurrentWorker:
    """`worker.current_worker` for prompts: the thread's ExecutorWorker."""

    def __getattr__(self, name: str) -> Any:
        worker = bound_worker()
        if worker is None:
            raise AttributeError(name)
        return getattr(worker, name)


class _ThreadStdio:
    """sys.stdout/sys.stderr: writes from an executor thread go to its buffer."""

    def __init__(self, real: Any, index: int) -> None:
        self._real = real
        self._index = index

    def _target(self) -> Any:
        buffers = getattr(_local, "stdio", None)
        return buffers[self._index] if buffers else self._real

    def write(self, text: str) -> int:
        return self._target().write(text)

    def writelines(self, lines: Any) -> None:
        self._target().writelines(lines)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def install() -> None:
    """Make Display, current_worker and stdio thread-aware (idempotent)."""
    global _installed
    if _installed:
        return
    from ansible.executor.process import worker
    from ansible.utils.display import Display

    Display._final_q = _DisplayQueue()
    worker.current_worker = _CurrentWorker()
    if not isinstance(sys.stdout, _ThreadStdio):
        sys.stdout = _ThreadStdio(sys.stdout, 0)
    if not isinstance(sys.stderr, _ThreadStdio):
        sys.stderr = _ThreadStdio(sys.stderr, 1)
    _installed = True
