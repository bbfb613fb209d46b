"""The 2.9 `include:` keyword, at task level and at play level, on modern ansible-core.

Controller-side, parse time.  ansible-core 2.16 removed `include` (the
action is a tombstone: "has been removed").  Installed by
ansible_mitogen.compat.install() (the vars-plugin entry point, which
ansible-core loads while it reads the inventory, before it parses the
playbook), this module rewrites each `include` in the data read from YAML
before ansible-core sees it:

- play level (an entry of a playbook's list): `import_playbook`, the
  `key=value` words after the file name becoming the entry's `vars`, as
  2.9 did;
- task level (tasks, handlers, blocks, role task files): `import_tasks`
  when 2.9 loaded the include statically, else `include_tasks`, with the
  `key=value` words becoming the task's `vars`.  2.9's rule: `static: yes`
  or `static: no` on the task decides; without it the include is static
  unless it loops (`loop`, `with_*`), its file name is a template, or a
  dynamic include (include_tasks, include_role, a dynamic `include`) is
  among its parents.  The rewritten task behaves like 2.9's: a static
  include applies its `when` and `tags` to every included task, a dynamic
  one evaluates them once, on the include itself.  A static include among
  handlers, notified by its name, runs the handlers it imported (2.9
  matched a notification against the names of a handler's parent
  includes): each imported handler also listens to that name.

Nothing else is touched: a file without `include` parses exactly as before.
"""
import copy
from typing import Any, Dict, List, Optional, Tuple

INCLUDE_KEYS = ("include", "ansible.builtin.include", "ansible.legacy.include")
_JINJA_MARKERS = ("{{", "{%", "{#")

_installed = False


def install() -> None:
    """Hook the task-list and playbook-entry parsers; idempotent."""
    global _installed
    if _installed:
        return
    from ansible import constants as C
    from ansible.playbook import block, helpers, playbook_include

    original_tasks = helpers.load_list_of_tasks

    def load_list_of_tasks(ds: Any, play: Any, block: Any = None, role: Any = None, task_include: Any = None,
                           use_handlers: bool = False, *args: Any, **kwargs: Any) -> Any:
        if not (isinstance(ds, list) and any(_include_key(entry) for entry in ds)):
            return original_tasks(ds, play, block, role, task_include, use_handlers, *args, **kwargs)
        parents_static = _parents_static(task_include) and _parents_static(block)
        ds = [rewrite_task(entry, parents_static) for entry in ds]
        loaded = original_tasks(ds, play, block, role, task_include, use_handlers, *args, **kwargs)
        if use_handlers:
            _listen_to_imports(loaded, {entry["name"] for entry in ds if "import_tasks" in entry and entry.get("name")})
        return loaded

    helpers.load_list_of_tasks = load_list_of_tasks
    block.load_list_of_tasks = load_list_of_tasks  # imported by name there

    # A playbook entry is an import when it holds one of these keys.
    C._ACTION_IMPORT_PLAYBOOK = tuple(C._ACTION_IMPORT_PLAYBOOK) + INCLUDE_KEYS
    original_preprocess = playbook_include.PlaybookInclude.preprocess_data

    def preprocess_data(self: Any, ds: Any) -> Any:
        return original_preprocess(self, rewrite_play_entry(ds))

    playbook_include.PlaybookInclude.preprocess_data = preprocess_data
    _installed = True


def _include_key(ds: Any) -> Optional[str]:
    if not isinstance(ds, dict):
        return None
    for key in INCLUDE_KEYS:
        if key in ds:
            return key
    return None


def _split(value: Any) -> Tuple[Any, Dict[str, Any]]:
    """('file.yml', {'a': '1'}) of `include: file.yml a=1`; dict forms name the file `file`."""
    if isinstance(value, dict):
        params = dict(value)
        name = params.pop("file", None)
        if name is None:
            name = params.pop("_raw_params", None)
        return name, params
    if not isinstance(value, str):
        return value, {}
    from ansible.parsing.splitter import parse_kv

    params = parse_kv(value)
    return params.pop("_raw_params", value), params


def _with_vars(ds: Dict[str, Any], params: Dict[str, Any]) -> None:
    if params:
        merged = dict(ds.get("vars") or {})
        merged.update(params)
        ds["vars"] = merged


def rewrite_play_entry(ds: Any) -> Any:
    """A playbook entry with `include:` as the `import_playbook:` entry 2.9 made of it."""
    key = _include_key(ds)
    if key is None:
        return ds
    new = copy.copy(ds)
    name, params = _split(new.pop(key))
    new["import_playbook"] = name
    _with_vars(new, params)
    return new


def is_static(ds: Dict[str, Any], name: Any, parents_static: bool) -> bool:
    """2.9's choice between a static and a dynamic `include` task."""
    if "static" in ds:
        from ansible.module_utils.parsing.convert_bool import boolean

        return boolean(ds["static"], strict=False)
    if any(key == "loop" or key.startswith("with_") for key in ds):
        return False
    if not isinstance(name, str) or any(marker in name for marker in _JINJA_MARKERS):
        return False
    return parents_static


def rewrite_task(ds: Any, parents_static: bool = True) -> Any:
    """A task with `include:` as the `import_tasks:` / `include_tasks:` task 2.9 made of it."""
    key = _include_key(ds)
    if key is None:
        return ds
    new = copy.copy(ds)
    name, params = _split(new.pop(key))
    static = is_static(new, name, parents_static)
    new.pop("static", None)
    new["import_tasks" if static else "include_tasks"] = name
    if not static and not new.get("name"):
        new["name"] = key  # 2.9's header for a nameless include: TASK [include]
    _with_vars(new, params)
    return new


def _parents_static(obj: Any) -> bool:
    """False if a dynamic include (include_tasks, include_role, ...) is among obj's parents."""
    from ansible.playbook.task_include import TaskInclude

    seen: List[int] = []
    while obj is not None and id(obj) not in seen:
        seen.append(id(obj))
        if isinstance(obj, TaskInclude) and not getattr(obj, "statically_loaded", False):
            return False
        obj = getattr(obj, "_parent", None)
    return True


def _listen_to_imports(loaded: List[Any], names: "set[str]") -> None:
    """Imported handlers also listen to the name of the `include` that imported them."""
    from ansible.playbook.task_include import TaskInclude

    if not names:
        return
    handlers = [child for item in loaded for child in (getattr(item, "block", None) or [item])]
    for handler in handlers:
        parent, heard = getattr(handler, "_parent", None), []
        while parent is not None:
            if isinstance(parent, TaskInclude) and parent.statically_loaded and parent.name in names:
                heard.append(parent.name)
            parent = getattr(parent, "_parent", None)
        listen = list(getattr(handler, "listen", None) or ())
        if heard and hasattr(handler, "listen"):
            handler.listen = listen + [name for name in heard if name not in listen]
