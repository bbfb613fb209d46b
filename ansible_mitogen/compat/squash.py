"""2.9's squashing of a loop over package names into one package-module call.

Controller-side, in the process that runs TaskExecutor (a task worker or an
executor thread of our engine).  Opt-in, since modern playbooks rely on one
loop result per item: setting `squash_actions` (see compat/settings.py:
variable `mitogen_squash_actions` per play / host / extra vars, or
`squash_actions` under `[accel_mitogen]` in ansible.cfg) to true squashes
the modules of DEFAULT_ACTIONS, a comma-separated string or a list names
the modules itself.

The rule is 2.9's: a looped task of such a module whose package argument
(`name`, `pkg` or `package`) is a template using the loop variable, over
items that are all strings, becomes a loop of one item; that item is the
list of the package argument rendered for each item whose `when` holds, and
the package argument is that list.  So `apt: name={{ item }}` over 100
names is one apt call, whose result is `results[0]` with `item` the list.
"""
from typing import Any, Callable, Iterable, List, Mapping, Optional

from ansible_mitogen.compat import settings

# 2.9's default for its `squash_actions` setting.
DEFAULT_ACTIONS = frozenset(("apk", "apt", "dnf", "homebrew", "openbsd_pkg", "pacman", "pip", "pkgng", "yum",
                             "zypper", "package"))
PACKAGE_ARGS = ("name", "pkg", "package")
_PROBES = ("\x00mitogen-squash-a\x00", "\x00mitogen-squash-b\x00")

_installed = False


def install() -> None:
    """Wrap TaskExecutor._get_loop_items (same name and contract on 2.17 - 2.21); idempotent."""
    global _installed
    if _installed:
        return
    from ansible.executor.task_executor import TaskExecutor

    original = TaskExecutor._get_loop_items

    def _get_loop_items(self: Any) -> Optional[List[Any]]:
        items = original(self)
        if items:
            squashed = squash(self._task, items, _task_vars(self), self._loader)
            if squashed is not None:
                return squashed
        return items

    TaskExecutor._get_loop_items = _get_loop_items
    _installed = True


def _task_vars(executor: Any) -> Mapping[str, Any]:
    job_vars = getattr(executor, "_job_vars", None)  # 2.17 - 2.20
    if job_vars is not None:
        return job_vars
    from ansible._internal._task import TaskContext  # 2.21

    return TaskContext.current().task_vars


def squash_actions(variables: Mapping[str, Any]) -> Iterable[str]:
    """The module names squashed for this host: empty unless the setting is on."""
    value = settings.lookup(settings.SQUASH_ACTIONS, variables)
    if value is None:
        return ()
    if isinstance(value, str):
        from ansible.module_utils.parsing.convert_bool import BOOLEANS, boolean

        if value.strip().lower() in BOOLEANS:
            value = boolean(value.strip().lower())
        else:
            return [name.strip() for name in value.split(",") if name.strip()]
    if isinstance(value, bool):
        return DEFAULT_ACTIONS if value else ()
    return [str(name) for name in value]


def squash(task: Any, items: List[Any], variables: Mapping[str, Any], loader: Any) -> Optional[List[Any]]:
    """[rendered package names] if 2.9 squashed this task (its args then name that list), else None."""
    action = (task.action or "").rsplit(".", 1)[-1]
    if action not in squash_actions(variables) or not all(isinstance(item, str) for item in items):
        return None
    key = next((k for k in PACKAGE_ARGS if isinstance(task.args.get(k), str)), None)
    if key is None:
        return None
    loop_var = getattr(task.loop_control, "loop_var", None) or "item"
    template = task.args[key]
    try:
        render = _renderer(loader, variables, loop_var)
        if render(template, _PROBES[0]) == render(template, _PROBES[1]):
            return None  # the package argument does not use the loop variable
        names = [render(template, item) for item in items if _when(task, loader, variables, loop_var, item)]
    except Exception:
        return None  # the unsquashed loop reports the error as vanilla does
    task.args[key] = names
    return [names]


def _renderer(loader: Any, variables: Mapping[str, Any], loop_var: str) -> Callable[[Any, Any], Any]:
    from ansible.template import Templar

    def render(template: Any, item: Any) -> Any:
        return Templar(loader=loader, variables=dict(variables, **{loop_var: item})).template(template)

    return render


def _when(task: Any, loader: Any, variables: Mapping[str, Any], loop_var: str, item: Any) -> bool:
    if not task.when:
        return True
    item_vars = dict(variables, **{loop_var: item})
    if hasattr(task, "_resolve_conditional"):  # 2.19+
        return bool(task._resolve_conditional(task.when, item_vars))
    from ansible.template import Templar

    return bool(task.evaluate_conditional(Templar(loader=loader, variables=item_vars), item_vars))
