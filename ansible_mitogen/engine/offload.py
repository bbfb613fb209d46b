"""Executor processes: with many hosts at once, tasks also run in forked children.

Runs in the controller's strategy process; `_batch_main` runs in the
executor processes it forks.  Executor threads share one interpreter lock,
so the strategy process alone uses one CPU however many hosts run.  Once
`local_limit()` tasks run here at once, further tasks are held back in a
batch.  A full batch, or one older than BATCH_AGE when the strategy next
looks for results (or before it waits), goes to a process forked from the
strategy process: it runs the batch's tasks on threads of its own and
exits.  A fork copies the strategy's state as it is at that moment, which is
what ansible-core's own workers see, so those tasks see the same variables;
results and display messages travel on the strategy's result queue like any
worker's.

The child writes a record per finished task to a pipe; a watcher thread
here frees that task's worker slot.  Tasks a dead child never finished are
dead workers, and so is the run if a child dies with results unsent:
ansible-core then stops with "A worker was found in a dead state", as when
one of its workers dies.
"""
import contextlib
import ctypes
import math
import os
import signal
import struct
import threading
import time
from typing import Any, List, Optional

from ansible_mitogen.controller import speedups
from ansible_mitogen.engine import pool
from ansible_mitogen.engine.state_lock import STATE

#: A held batch this old is started when the strategy looks for results.
BATCH_AGE = 0.01
#: Per finished task: its index in the batch and whether it crashed.
RECORD = struct.Struct("!HB")
PR_SET_PDEATHSIG = 1


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def local_limit(forks: int) -> int:
    """How many tasks run at once in the strategy process before others are
    held for an executor process: MITOGEN_LOCAL_EXECUTORS, or a CPU's share
    of `forks` (at least 8); on one CPU, all of them."""
    configured = os.environ.get("MITOGEN_LOCAL_EXECUTORS")
    if configured:
        return max(1, int(configured))
    cpus = cpu_count()
    if cpus < 2:
        return max(1, forks)
    return max(8, math.ceil(forks / cpus))


class Offloader:
    """Where each thread-eligible task runs: here, or in a held batch."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.forks = 1
        self._running_here = 0
        self._held: List[Any] = []
        self._held_since = 0.0
        self.lost_results = False

    def place(self, worker: Any) -> None:
        limit = local_limit(self.forks)
        with self._lock:
            here = self._running_here < limit
            if here:
                self._running_here += 1
            else:
                if not self._held:
                    self._held_since = time.monotonic()
                self._held.append(worker)
                full = len(self._held) >= limit
        if here:
            pool.POOL.submit(lambda: self._run_here(worker))
        elif full:
            self.flush()

    def run_here_anyway(self, worker: Any) -> None:
        """Run a held task on a thread here, beyond the local limit (its
        executor process could not be forked)."""
        with self._lock:
            self._running_here += 1
        pool.POOL.submit(lambda: self._run_here(worker))

    def _run_here(self, worker: Any) -> None:
        try:
            worker.run_task()
        finally:
            with self._lock:
                self._running_here -= 1
            worker.finish()

    def holds_tasks(self) -> bool:
        """Whether tasks wait for a flush to start their executor process."""
        return bool(self._held)

    def flush(self, min_age: float = 0.0) -> None:
        """Start the held batch in an executor process (strategy thread)."""
        if not self._held:  # the common case, without the lock
            return
        with self._lock:
            if not self._held or time.monotonic() - self._held_since < min_age:
                return
            batch, self._held = self._held, []
        Batch(batch, self).start()


class Batch:
    """One executor process and the tasks it runs."""

    def __init__(self, workers: List[Any], offloader: Offloader) -> None:
        self.workers = workers
        self._offloader = offloader
        self.process: Optional[Any] = None
        self._terminated = False

    def start(self) -> None:
        from ansible.executor.process.worker import WorkerQueue
        from ansible.utils.display import Display
        from ansible.utils.multiprocessing import context

        read_fd, write_fd = os.pipe()
        self.process = context.Process(target=_batch_main, args=(self.workers, read_fd, write_fd, os.getpid()),
                                       name="ansible-mitogen-executor-process")
        self.process.daemon = True  # never outlives the strategy process
        for worker in self.workers:
            worker.batch = self
            # The result thread here answers a prompt of the child's task.
            worker.worker_queue = WorkerQueue(ctx=context)
        # No executor thread is halfway through an import or a plugin load
        # (the child would inherit the half-made module), nor through a
        # write (WorkerProcess.start takes Display's lock likewise).
        try:
            with STATE.exclusive(), getattr(Display(), "_lock", contextlib.nullcontext()), \
                    speedups.heap_frozen_for_fork():
                self.process.start()
        except OSError as exc:  # EAGAIN, ENOMEM: the tasks still run, here
            os.close(read_fd)
            os.close(write_fd)
            self._run_here_instead(exc)
            return
        os.close(write_fd)
        threading.Thread(target=self._watch, args=(read_fd,), name="ansible-mitogen-batch-watch",
                         daemon=True).start()

    def _run_here_instead(self, exc: OSError) -> None:
        from ansible.utils.display import Display

        Display().warning("could not fork an executor process (%s): %d tasks run in the strategy process"
                          % (exc, len(self.workers)))
        for worker in self.workers:
            worker.batch = None
            worker.answer_prompts_here()
            self._offloader.run_here_anyway(worker)

    def _watch(self, read_fd: int) -> None:
        finished = set()
        pending = b""
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            while True:
                data = pipe.read(4096)
                if not data:
                    break
                pending += data
                while len(pending) >= RECORD.size:
                    index, crashed = RECORD.unpack(pending[:RECORD.size])
                    pending = pending[RECORD.size:]
                    finished.add(index)
                    self.workers[index].finished_elsewhere(1 if crashed else 0)
        self.process.join()
        code = self.process.exitcode
        if code and not self._terminated:
            # Finished tasks' results may still have been in its queue buffer.
            self._offloader.lost_results = True
        for index, worker in enumerate(self.workers):
            if index not in finished:
                worker.finished_elsewhere(code or 1)

    def terminate(self) -> None:
        self._terminated = True
        if self.process is not None and self.process.is_alive():
            self.process.terminate()


def _batch_main(workers: List[Any], read_fd: int, report_fd: int, parent_pid: int) -> None:
    """The executor process: run every task of the batch, then exit (when
    multiprocessing has flushed the result queue)."""
    os.close(read_fd)
    _own_display(workers[0])
    os.setsid()  # as ansible-core's workers: Ctrl+C is the strategy's to handle
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    remaining = [len(workers)]
    lock = threading.Lock()
    all_done = threading.Event()

    def run(index: int, worker: Any) -> None:
        crashed = not worker.run_task()
        os.write(report_fd, RECORD.pack(index, crashed))
        with lock:
            remaining[0] -= 1
            if not remaining[0]:
                all_done.set()

    for index, worker in enumerate(workers):
        pool.POOL.submit(lambda index=index, worker=worker: run(index, worker))
    all_done.wait()
    os.close(report_fd)


def _own_display(worker: Any) -> None:
    """Display in the child: the lock the fork copied is held (by this
    thread, the one that forked), so it gets a fresh one, and a message
    from any thread here (not only a task's) travels on the result queue,
    as from one of ansible-core's workers."""
    from ansible.utils.display import Display

    display = Display()
    inherited = getattr(display, "_lock", None)
    if inherited is not None:
        display._lock = threading.RLock()
        # Before ansible-core 2.19, Display also guards the stdout and stderr
        # buffers with that lock, and nothing frees it after a fork: the
        # first print of a task thread here would wait for it for ever.
        inherited.release()
    display.set_queue(worker.final_q())


def _die_with_parent(parent_pid: int) -> None:
    # A strategy process killed outright takes its executor processes along.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # it died before prctl()
        os._exit(1)


def install() -> None:
    """A child that died with results unsent stops the run like a dead worker."""
    from ansible.executor.task_queue_manager import TaskQueueManager

    original = TaskQueueManager.has_dead_workers
    if getattr(original, "_mitogen_offload", False):
        return

    def has_dead_workers(self: Any) -> bool:
        return OFFLOADER.lost_results or original(self)

    has_dead_workers._mitogen_offload = True
    TaskQueueManager.has_dead_workers = has_dead_workers


#: The strategy process's offloader.
OFFLOADER = Offloader()
