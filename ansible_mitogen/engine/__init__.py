"""The controller engine: tasks run on long-lived executor threads.

Runs in the controller's strategy process.  ansible-core forks one worker
process per host and task; the worker templates the task, runs the action
plugin, sends the result back over a queue and exits.  Our strategies keep
ansible-core's scheduling and result handling and replace only that
worker: `install()` (called by `activation`) makes `_queue_task` start an
`ExecutorWorker`, which runs the task on a thread of this process that
lives for the whole run (see worker.py, task_run.py), or forks ansible-core's
own worker for the tasks policy.py keeps off threads.

What makes threads behave like forked workers:

* state_lock.py: executors hold a shared lock, released while they wait on
  targets; the strategy thread takes it exclusively while it applies
  results, runs meta tasks and loads includes (strategy_hooks.py, on
  StrategyBase, so builtin strategies in an accelerated run are covered);
* thread_context.py: Display's queue, `current_worker` and stdio are per
  thread, so messages, prompts and stray output take a worker's path;
* task_run.py: per-run copies of the task, its variables and the loader;
* offload.py: past a CPU's share of `forks`, batches of tasks run in
  executor processes forked from this one, so every CPU is used;
* ansible-core's plugin loaders fill module and wrapper caches without a
  lock (a second thread would see a half-loaded plugin): those steps are
  serialized (`SERIALIZED_LOADER_METHODS`).
"""
import functools
import os
import sys
import threading
import time
from typing import Any

from ansible_mitogen.engine.state_lock import STATE

#: (plugin loader class, method) pairs that fill a cache another thread
#: may read half-filled; run one at a time (re-entrant: loading a plugin
#: can load another).
SERIALIZED_LOADER_METHODS = (("PluginLoader", "_load_module_source"),
                             ("Jinja2Loader", "_ensure_non_collection_wrappers"))

_lock = threading.Lock()
_plugin_load_lock = threading.RLock()
_installed = False


def _new_plugin_load_lock() -> None:
    # An executor thread may be loading a plugin when the process forks.
    global _plugin_load_lock
    _plugin_load_lock = threading.RLock()


os.register_at_fork(after_in_child=_new_plugin_load_lock)


def install() -> None:
    """Swap the worker class and make blocking waits release the state lock."""
    global _installed
    with _lock:
        if _installed:
            return
        import mitogen.core
        from ansible.plugins import strategy as strategy_module

        from ansible_mitogen.engine import offload, strategy_hooks, thread_context, worker

        thread_context.install()
        strategy_hooks.install()
        offload.install()
        strategy_module.WorkerProcess = worker.ExecutorWorker
        mitogen.core.blocking_hook = STATE.released
        _serialize_plugin_loading()
        _release_around(time, "sleep")
        _release_around_manager_calls()
        _release_around_result_queue()
        _installed = True


def _release_around(owner: Any, name: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not STATE.holds_shared():  # the strategy thread polls with time.sleep
            return original(*args, **kwargs)
        with STATE.released():
            return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def _serialize_plugin_loading() -> None:
    from ansible.plugins import loader

    for class_name, method_name in SERIALIZED_LOADER_METHODS:
        owner = getattr(loader, class_name, None)
        original = getattr(owner, method_name, None)
        if original is None:
            continue

        def serialized(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _plugin_load_lock:
                return _original(*args, **kwargs)

        setattr(owner, method_name, functools.wraps(original)(serialized))


def _release_around_result_queue() -> None:
    # A put blocks while the result pipe is full, until ansible-core's result
    # thread reads; that thread takes the lock shared, after the strategy
    # thread if it is waiting for the exclusive side: an executor must not
    # hold the lock then, or the three wait for each other.
    from ansible.executor.task_queue_manager import FinalQueue

    _release_around(FinalQueue, "put")


def _release_around_manager_calls() -> None:
    # ansible-core 2.21's workers change the inventory through an RPC that
    # the strategy thread serves: an executor must not hold the lock then.
    # Its task queue manager imports multiprocessing.managers before any
    # strategy loads; cores that do not (2.19) are spared the ~5 ms import.
    managers = sys.modules.get("multiprocessing.managers")
    if managers is not None:
        _release_around(managers.BaseProxy, "_callmethod")
