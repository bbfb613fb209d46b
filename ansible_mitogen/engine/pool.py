"""Long-lived executor threads of the controller's strategy process.

Runs in the strategy process; ansible_mitogen.engine.worker submits one job
per host and task.  Threads are started when every existing one is busy and
then live for the whole run, so the number of threads is the highest number
of tasks that ever ran at once (at most `forks`); an idle thread costs a
stack and nothing else.  They are daemon threads: a run that ends, or is
interrupted, never waits for one.
"""
import logging
import os
import queue
import threading
from typing import Callable

LOG = logging.getLogger(__name__)


class ExecutorPool:
    def __init__(self, name: str = "ansible-mitogen-executor") -> None:
        self._name = name
        self.reset()

    def reset(self) -> None:
        """No thread and no job: what a forked child has of the pool."""
        self._jobs: "queue.SimpleQueue[Callable[[], None]]" = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0

    @property
    def size(self) -> int:
        return self._threads

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self._idle:
                self._idle -= 1
            else:
                self._threads += 1
                thread = threading.Thread(target=self._serve, name="%s-%d" % (self._name, self._threads))
                thread.daemon = True
                thread.start()
        self._jobs.put(job)

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except BaseException:  # a job reports its own failures; never lose the thread
                LOG.exception("executor job failed")
            with self._lock:
                self._idle += 1


#: The strategy process's pool.
POOL = ExecutorPool()
os.register_at_fork(after_in_child=POOL.reset)
