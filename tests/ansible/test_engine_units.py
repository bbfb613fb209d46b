"""Engine parts on their own: the context cache, a failed fork, an executor process's Display.

Controller side, in the test process, with a real master router and a
local child context (no target needed).  Each test drives one piece of
ansible_mitogen.engine or ansible_mitogen.executor.context_cache the way the
strategy process does, and asserts what a run would see.
"""
import errno
import os
import subprocess
import sys
import threading
import time

import pytest

from ansible_mitogen.executor.context_cache import ContextCache
from ansible_mitogen.engine import ast_lock, offload
from tests import versions
from tests.ansible import harness
from tests.ansible.test_faults_units import router  # noqa: F401, F811 (the fixture)

STACK = [{"method": "local", "kwargs": {"python_path": ["python3"]}}]


def _disconnect_listeners(context):
    return len(context.__dict__.get("_signals", {}).get("disconnect", []))


def test_a_context_put_again_is_listened_to_once_and_dropped_when_it_goes(router):  # noqa: F811
    cache = ContextCache()
    context = router.local()
    for _ in range(5):  # every miss puts the answer again
        cache.put(router, STACK, {"context": context, "login_context": None, "bundles": ["b1"]})
    assert _disconnect_listeners(router.context_by_id(context.context_id)) == 1
    assert cache.get(router, STACK)["bundles"] == {"b1"}
    context.shutdown(wait=True)
    deadline = time.monotonic() + 10
    while cache.get(router, STACK) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.get(router, STACK) is None


class _HeldTask:
    """What offload needs of an ExecutorWorker."""

    def __init__(self):
        self.batch = None
        self.worker_queue = None
        self.ran_in = None
        self.done = threading.Event()

    def answer_prompts_here(self):
        self.worker_queue = "answered here"

    def run_task(self):
        self.ran_in = threading.current_thread().name
        return True

    def finish(self):
        self.done.set()


class _UnforkableProcess:
    def __init__(self, *args, **kwargs):
        self.daemon = False

    def start(self):
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")


def test_a_batch_that_cannot_fork_runs_its_tasks_here(monkeypatch, capsys):
    from ansible.utils import multiprocessing as ansible_mp

    monkeypatch.setattr(ansible_mp.context, "Process", _UnforkableProcess)
    tasks = [_HeldTask() for _ in range(3)]
    offloader = offload.Offloader()
    offload.Batch(tasks, offloader).start()
    assert all(task.done.wait(10) for task in tasks), "a held task was lost"
    assert all(task.ran_in.startswith("ansible-mitogen-executor") for task in tasks)
    assert all(task.batch is None and task.worker_queue == "answered here" for task in tasks)
    assert offloader._running_here == 0
    assert "could not fork an executor process" in capsys.readouterr().err


class _ForkedTask:
    """A held task whose executor process is really forked: it displays a
    warning from a thread of that process that runs no task of its own."""

    def __init__(self, final_q):
        self.batch = None
        self.worker_queue = None
        self._final_q = final_q
        self.exitcode = None
        self.done = threading.Event()

    def final_q(self):
        return self._final_q

    def run_task(self):
        from ansible.utils.display import Display

        def warn():
            Display().warning("from a thread of the executor process")

        thread = threading.Thread(target=warn)
        thread.start()
        thread.join()
        return True

    def finished_elsewhere(self, exitcode):
        self.exitcode = exitcode
        self.done.set()


def test_an_executor_process_displays_through_the_result_queue():
    # The parent holds Display's lock across the fork: the child must not
    # inherit it held, and its messages go on the result queue (as a
    # worker's do) instead of straight to the terminal.
    from ansible.executor.task_queue_manager import DisplaySend, FinalQueue

    final_q = FinalQueue()
    task = _ForkedTask(final_q)
    batch = offload.Batch([task], offload.Offloader())
    batch.start()
    try:
        assert final_q._reader.poll(30), "the executor process sent nothing (its Display lock was held)"
        message = final_q.get()
        assert isinstance(message, DisplaySend) and message.method.lstrip("_") == "warning"
        assert "from a thread of the executor process" in str(message.args)
        assert task.done.wait(30) and task.exitcode == 0
    finally:
        batch.terminate()


# An executor process whose task prints to stdout from one of its threads.
# ansible-core's Display guards the stdout and stderr buffers with its own
# lock, which the strategy holds across the fork.
_PRINT_IN_AN_EXECUTOR_PROCESS = r"""
import sys, threading
from ansible.executor.task_queue_manager import FinalQueue
from ansible.utils.display import Display
from ansible_mitogen.engine import offload

class PrintingTask:
    batch = worker_queue = None
    def __init__(self):
        self.queue, self.done, self.exitcode = FinalQueue(), threading.Event(), None
    def final_q(self):
        return self.queue
    def run_task(self):
        print("printed in the executor process", flush=True)
        return True
    def finished_elsewhere(self, exitcode):
        self.exitcode = exitcode
        self.done.set()

Display()
task = PrintingTask()
batch = offload.Batch([task], offload.Offloader())
batch.start()
finished = task.done.wait(20)
batch.terminate()
sys.exit(0 if finished and task.exitcode == 0 else 3)
"""


@pytest.mark.parametrize("core", [None, (2, 17)], ids=["this-venv", "ansible-core-2.17"])
def test_a_task_of_an_executor_process_can_print(core):
    python = sys.executable
    if core is not None:  # whose Display keeps its stdout guard locked in a fork
        pythons = versions.controller_pythons(core)
        if not pythons:
            pytest.skip("no Python here runs ansible-core %d.%d" % core)
        python = os.path.join(versions.ansible_venv(core, pythons[max(pythons)]), "bin", "python")
    proc = subprocess.run([python, "-c", _PRINT_IN_AN_EXECUTOR_PROCESS], cwd=harness.REPO_ROOT,
                          env=dict(os.environ, PYTHONPATH=harness.REPO_ROOT),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, "the task hung on Display's lock held by the fork\n" + proc.stderr
    assert "printed in the executor process" in proc.stdout


def _ast_stress(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "tests.ansible.ast_stress"] + list(args), cwd=harness.REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_ast_parse_is_serialised_once_the_hooks_are_installed_where_needed():
    # CPython 3.11's tree-building depth check is shared by threads (see ast_lock)
    import ast

    from ansible_mitogen.engine import strategy_hooks

    strategy_hooks.install()
    assert getattr(ast, ast_lock._MARK, False) == ast_lock.DEFECTIVE
    if ast_lock.DEFECTIVE:
        assert ast.compile is ast_lock._compile_serialised  # what ast.parse calls, however it was imported
    ast_lock.install()
    assert ast.literal_eval("{'a': [1, (2, 3)]}") == {'a': [1, (2, 3)]}
    with ast_lock._LOCK:  # re-entrant: a finalizer of the parsing thread may parse
        assert isinstance(ast.parse('x = 1'), ast.Module)


def test_threads_parse_without_a_depth_mismatch_once_installed():
    # The stress fails within a second where the defect is; the lock must
    # hide it there, and interpreters without the lock must not have it.
    assert _ast_stress("3", "--install") == "clean"
    if ast_lock.DEFECTIVE:  # the stress is one that finds the defect
        assert _ast_stress("3").startswith("defect AST constructor recursion depth mismatch")
