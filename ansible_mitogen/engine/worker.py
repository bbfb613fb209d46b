"""ExecutorWorker: what StrategyBase._queue_task starts instead of WorkerProcess.

Runs in the controller's strategy process.  ansible-core's `_queue_task`
keeps its own logic (worker slots, `forks`, `throttle`, the
`v2_runner_on_start` callback, the queued-task cache, pending counts) and
only the class it instantiates is ours: `engine.install()` puts this class
where the strategy module looks up `WorkerProcess`.  `start()` then either

* submits the task to a long-lived executor thread (engine.pool), which
  runs it as a worker would (engine.task_run) under the shared side of the
  state lock; beyond a CPU's share of `forks`, engine.offload runs it on a
  thread of an executor process forked for a batch of tasks; or
* builds ansible-core's own WorkerProcess and forks it, for the tasks
  engine.policy keeps off threads.

Either way the object answers what ansible-core asks of a worker slot:
`is_alive()`, `exitcode`, `pid`, `terminate()`, `close()`, `worker_queue`
(prompt answers), `_task`.
"""
import os
import queue
import threading
import traceback
from typing import Any, Optional

from ansible.errors import AnsibleError
from ansible.executor.process.worker import WorkerProcess as ForkedWorker
from ansible.utils.display import Display

from ansible_mitogen.controller import speedups
from ansible_mitogen.engine import offload, policy, task_run, thread_context
from ansible_mitogen.engine.state_lock import STATE

display = Display()

#: Notified whenever an executor thread finishes a task (its slot is free).
SLOT_FREED = threading.Condition(threading.Lock())


def _new_condition() -> None:
    global SLOT_FREED
    SLOT_FREED = threading.Condition(threading.Lock())


os.register_at_fork(after_in_child=_new_condition)


class PromptAnswers(queue.Queue):
    """The worker_queue of a thread worker: answers to its prompts, which
    the strategy's result thread puts here (an AnsibleError re-raises, as
    ansible-core's WorkerQueue does)."""

    def get(self, *args: Any, **kwargs: Any) -> Any:
        with STATE.released():
            item = super().get(*args, **kwargs)
        if isinstance(item, AnsibleError):
            raise item
        return item


class ExecutorWorker:
    """A worker slot filled by an executor thread or by a forked worker."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._args = args
        self._kwargs = kwargs
        self._job = task_run.job_from_worker_args(ForkedWorker, args, kwargs)
        self._task = self._job.task
        self.worker_id = self._job.worker_id
        self.answer_prompts_here()
        self.exitcode: Optional[int] = None
        self._forked: Optional[ForkedWorker] = None
        self._done = threading.Event()
        self._abandoned = False
        #: The executor process running this task, if it is not run here.
        self.batch: Optional[Any] = None

    @property
    def in_thread(self) -> bool:
        return self._forked is None

    @property
    def pid(self) -> Optional[int]:
        return self._forked.pid if self._forked is not None else None

    def start(self) -> None:
        job = self._job
        if policy.runs_in_thread(job.task, job.task_vars, job.play_context):
            offload.OFFLOADER.place(self)
            return
        self._forked = ForkedWorker(*self._args, **self._kwargs)
        self.worker_queue = self._forked.worker_queue
        # Under the exclusive lock: no executor thread is halfway through an
        # import or a plugin load, which the child would inherit half done.
        with STATE.exclusive(), speedups.heap_frozen_for_fork():
            self._forked.start()

    def final_q(self) -> Any:
        """The strategy's result queue this task reports on."""
        return self._job.final_q

    def answer_prompts_here(self) -> None:
        """Prompts of this task are answered in this process (it runs here)."""
        self.worker_queue = PromptAnswers()

    def run_task(self) -> bool:
        """Run the task on this thread; False if it crashed."""
        job = self._job
        try:
            with STATE.shared(), thread_context.bind(self, job.final_q, task_run.flavor().captures_stdio) as stdio:
                task_run.run(job, stdio)
            return True
        except BaseException:
            # A worker that crashes prints why and exits 1; the strategy then
            # reports "A worker was found in a dead state", as for a worker.
            # After terminate() the run is going down: nobody listens.
            if not self._abandoned:
                self.exitcode = 1
                display.error(traceback.format_exc())
            return False

    def finished_elsewhere(self, exitcode: int) -> None:
        """Its executor process finished the task (exit code 0) or not."""
        if exitcode and not self._abandoned:
            self.exitcode = exitcode
        self.finish()

    def finish(self) -> None:
        with SLOT_FREED:
            self._done.set()
            SLOT_FREED.notify_all()

    def is_alive(self) -> bool:
        if self._forked is not None:
            return self._forked.is_alive()
        return not self._done.is_set()

    def join(self, timeout: Optional[float] = None) -> None:
        if self._forked is not None:
            self._forked.join(timeout)
        else:
            self._done.wait(timeout)

    def terminate(self) -> None:
        """Forked: signal it.  Thread: give up the slot; the thread ends when
        its target call fails (the run is going down and takes the
        connections with it)."""
        if self._forked is not None:
            self._forked.terminate()
        elif not self._done.is_set():
            if self.batch is not None:
                self.batch.terminate()
            self._abandoned = True
            self.exitcode = -15
            self.finish()

    def kill(self) -> None:
        if self._forked is not None:
            self._forked.kill()
        else:
            self.terminate()

    def close(self) -> None:
        if self._forked is not None:
            self._forked.close()


def wait_for_free_slot(workers: list, limit: int, timeout: float = 0.05) -> None:
    """Block the strategy thread until one of the first `limit` worker slots
    is free, instead of ansible-core's 0.1 ms polling loop (which would take
    the interpreter lock from the executor threads doing the work)."""
    limit = max(1, min(limit, len(workers)))

    def busy() -> bool:
        return all(worker is not None and worker.is_alive() for worker in workers[:limit])

    if busy():
        offload.OFFLOADER.flush()  # held tasks must start before we wait for them
    with SLOT_FREED:
        while busy():
            if not all(isinstance(worker, ExecutorWorker) and worker.in_thread for worker in workers[:limit]):
                return  # a forked worker's end is not notified: let ansible-core poll
            SLOT_FREED.wait(timeout)
