"""One host's task, run the way ansible-core's WorkerProcess runs it.

Runs in an executor thread of the controller's strategy process (see
ansible_mitogen.engine.worker).  What a forked worker gets for free by
being a copy of the strategy process is made explicit here: the task and
its parent blocks are copied (TaskExecutor templates and squashes them in
place), the DataLoader is copied (path lookups switch its base directory
for a moment) and the task variables are a copy of their own.  The result
then travels like a worker's: pickled onto the strategy's result queue, so
the strategy receives exactly what it receives from a worker, in the same
order as the messages the task displayed.

ansible-core changed the worker's body twice within the versions we
support; `Flavor` is chosen once, by what the installed ansible-core has:

* 2.17 / 2.18: TaskExecutor takes the task, its variables and a stdin;
  results go out as (host name, task uuid, dict, task fields);
* 2.19 / 2.20: a TaskContext is entered; results go out as _RawTaskResult;
* 2.21: the TaskContext carries the task and its variables; the task is
  squashed by the worker; results are UnifiedTaskResult objects.
"""
import copy
import functools
import inspect
import os
import textwrap
import traceback
from typing import Any, Dict, Optional, Tuple

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.executor.task_executor import TaskExecutor
from ansible.utils.display import Display

display = Display()

# Keep in step with WorkerProcess: it reports this much of a stray write.
ERRANT_OUTPUT_SHOWN = 256


class Job:
    """What StrategyBase._queue_task handed to WorkerProcess, by name."""

    def __init__(self, arguments: Dict[str, Any]) -> None:
        self.final_q = arguments["final_q"]
        self.task_vars = arguments["task_vars"]
        self.host = arguments["host"]
        self.task = arguments["task"]
        self.play_context = arguments["play_context"]
        self.loader = arguments["loader"]
        self.variable_manager = arguments["variable_manager"]
        self.shared_loader_obj = arguments["shared_loader_obj"]
        self.worker_id = arguments["worker_id"]


def job_from_worker_args(worker_class: type, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Job:
    """Bind WorkerProcess(...) arguments (positional before 2.19) by name."""
    bound = _signature(worker_class).bind(None, *args, **kwargs)
    return Job(bound.arguments)


@functools.lru_cache(maxsize=None)
def _signature(worker_class: type) -> inspect.Signature:
    return inspect.signature(worker_class.__init__)


def isolated_task(task: Any) -> Any:
    """A copy of `task` and its parent chain that this run may change.

    A forked worker changes a full copy of the strategy's objects; this
    copies what TaskExecutor changes: each attribute's container one level
    deep (as Task.copy does), the loop_control object that post_validate
    fills in, and the chain of parents (blocks, includes) whose attributes
    the task inherits and squashes.  Play, role, loader and variable manager
    stay shared, as in Task.copy.  Copying the object's dictionary costs a
    fraction of Task.copy, which rebuilds every field attribute.
    """
    from ansible.playbook.loop_control import LoopControl

    def clone(obj: Any) -> Any:
        new = object.__new__(type(obj))
        state = dict(obj.__dict__)
        for key, value in state.items():
            if type(value) in (list, dict, set) or isinstance(value, LoopControl):
                state[key] = copy.copy(value)
        parent = state.get("_parent")
        if parent is not None:
            state["_parent"] = clone(parent)
        new.__dict__ = state
        return new

    return clone(task)


def isolated_loader(loader: Any) -> Any:
    """The DataLoader with a base directory of its own; caches and temp
    file list stay shared, so the playbook's end still cleans them up."""
    return copy.copy(loader)


class Flavor:
    """How the installed ansible-core runs one task in a worker."""

    #: Workers catch direct writes to stdout/stderr (2.19+; before, they
    #: went to the terminal).
    captures_stdio = True

    def context(self, job: Job, task: Any, task_vars: Dict[str, Any]) -> Any:
        raise NotImplementedError

    def execute(self, job: Job, task: Any, task_vars: Dict[str, Any], loader: Any) -> Any:
        raise NotImplementedError

    def send(self, job: Job, task: Any, result: Any) -> None:
        raise NotImplementedError

    def send_failure(self, job: Job, task: Any, exc: BaseException) -> None:
        raise NotImplementedError

    def _executor(self, job: Job, task: Any, task_vars: Dict[str, Any], loader: Any) -> Any:
        values = dict(host=job.host, task=task, job_vars=task_vars, play_context=job.play_context,
                      new_stdin=_devnull(), loader=loader, shared_loader_obj=job.shared_loader_obj,
                      final_q=job.final_q, variable_manager=job.variable_manager)
        return TaskExecutor(**{name: values[name] for name in _executor_parameters()})


@functools.lru_cache(maxsize=None)
def _executor_parameters() -> Tuple[str, ...]:
    """The keywords TaskExecutor takes in this ansible-core (read once)."""
    return tuple(inspect.signature(TaskExecutor.__init__).parameters)[1:]


class Flavor217(Flavor):
    """ansible-core 2.17 and 2.18."""

    captures_stdio = False

    def context(self, job, task, task_vars):
        import contextlib

        return contextlib.nullcontext()

    def execute(self, job, task, task_vars, loader):
        try:
            return self._executor(job, task, task_vars, loader).run()
        except AnsibleConnectionFailure:
            return dict(unreachable=True)
        except Exception:
            return dict(failed=True, exception=traceback.format_exc(), stdout='')

    def send(self, job, task, result):
        job.final_q.send_task_result(job.host.name, task._uuid, result, task_fields=task.dump_attrs())

    def send_failure(self, job, task, exc):
        job.final_q.send_task_result(job.host.name, task._uuid,
                                     {'failed': True, 'msg': str(exc), 'exception': traceback.format_exc()}, {})


class Flavor219(Flavor):
    """ansible-core 2.19 and 2.20."""

    def context(self, job, task, task_vars):
        from ansible._internal import _task

        return _task.TaskContext(task)

    def execute(self, job, task, task_vars, loader):
        return self._executor(job, task, task_vars, loader).run()

    def send(self, job, task, result):
        from ansible.executor.task_result import _RawTaskResult

        job.final_q.send_task_result(_RawTaskResult(host=job.host, task=task, return_data=result,
                                                    task_fields=task.dump_attrs()))

    def send_failure(self, job, task, exc):
        from ansible._internal._errors import _error_utils
        from ansible.executor.task_result import _RawTaskResult

        try:
            raise AnsibleError("Task result omitted due to queue send failure.") from exc
        except AnsibleError as wrapper:
            data = _error_utils.result_dict_from_exception(wrapper)
        job.final_q.send_task_result(_RawTaskResult(host=job.host, task=task, return_data=data, task_fields={}))


class Flavor221(Flavor):
    """ansible-core 2.21."""

    def context(self, job, task, task_vars):
        from ansible._internal import _task

        return _task.TaskContext.create(task=task, task_vars=task_vars, host_name=job.host.name)

    def execute(self, job, task, task_vars, loader):
        task.squash()
        result = self._executor(job, task, task_vars, loader).run()
        result.finalize_registered_values()
        # The worker copies these back for callbacks; our copy travels likewise.
        task.ignore_errors = result.ignore_errors
        task.ignore_unreachable = result.ignore_unreachable
        return result

    def send(self, job, task, result):
        job.final_q.send_task_result(job.host, task, result)

    def send_failure(self, job, task, exc):
        from ansible._internal import _task
        from ansible.inventory.host import Host
        from ansible.playbook.task import Task

        try:
            raise AnsibleError("Task result omitted due to queue send failure.") from exc
        except AnsibleError as wrapper:
            result = _task.UnifiedTaskResult.create_from_action_exception(wrapper)
        result.finalize_registered_values()
        stand_in = Task()
        stand_in._uuid = task._uuid
        job.final_q.send_task_result(Host(name=job.host.name), stand_in, result)


def _pick_flavor() -> Flavor:
    from ansible._internal import _task as task_internals  # noqa: F401  (2.19+)

    if hasattr(task_internals.TaskContext, "create"):
        return Flavor221()
    return Flavor219()


def flavor() -> Flavor:
    global _flavor
    if _flavor is None:
        try:
            _flavor = _pick_flavor()
        except ImportError:
            _flavor = Flavor217()
    return _flavor


_flavor: Optional[Flavor] = None
_devnull_file: Any = None


def _devnull() -> Any:
    # 2.17/2.18 hand each TaskExecutor a stdin; workers get /dev/null
    # unless ansible-playbook runs on a terminal, which connections never read.
    global _devnull_file
    if _devnull_file is None:
        _devnull_file = open(os.devnull)
    return _devnull_file


def run(job: Job, stdio: Tuple[Any, Any]) -> None:
    """Execute `job` and put its result on the strategy's result queue."""
    kind = flavor()
    task = isolated_task(job.task)
    task_vars = dict(job.task_vars)
    loader = isolated_loader(job.loader)
    with kind.context(job, task, task_vars):
        result = kind.execute(job, task, task_vars, loader)
        _report_errant_output(job, task, stdio)
        try:
            kind.send(job, task, result)
        except Exception as exc:
            kind.send_failure(job, task, exc)


def _report_errant_output(job: Job, task: Any, stdio: Tuple[Any, Any]) -> None:
    """Direct writes to stdout/stderr become the warning a worker gives."""
    for name, buffer in zip(("stdout", "stderr"), stdio):
        data = buffer.getvalue()
        if data:
            display.warning('WorkerProcess for [%s/%s] errantly sent data directly to %s instead of using Display:\n%s\n'
                            % (job.host, task, name, textwrap.indent(data[:ERRANT_OUTPUT_SHOWN], "    ")),
                            formatted=True)
