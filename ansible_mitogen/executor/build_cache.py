"""The pieces of a built Python module, kept across tasks.

Runs in the controller: in every process that executes tasks (the strategy
process's executor threads, executor processes, forked task workers), each
with a cache of its own.  ``ActionModuleMixin`` wraps its call of ansible-core's
``ActionBase._configure_module`` in ``building()``; nothing else talks to it.

For every task, ``_configure_module`` has ``module_common.modify_module``
rebuild the AnsiballZ wrapper: the payload zip (half a megabyte for
``command``) reloaded from ansible-core's own per-run cache and pasted into
a script, which the planner then takes apart again (~2 ms of CPU per task).
For a Python AnsiballZ module, all of that wrapper but the shebang and the
module arguments is the same for every task and host as long as the inputs
``modify_module`` reads for it stay the same:

* the module file (path, inode, size and mtime: its style and interpreter
  line; its zip is ansible-core's cache entry, which ansible-core itself
  never rebuilds during a run, by FQN, compression and extensions: an edited
  module keeps running its first code under vanilla too);
* ``module_name`` (the FQN of a module in a role), ``module_compression``,
  the enabled AnsiballZ extensions and ansible-core's local temp dir (where
  that cache lives); become, async and environment shape only PowerShell
  wrappers.

So the first build of a module goes through ansible-core unchanged, and
later ones reuse its name, profile and zip (``module_finder.PayloadCode``:
digest and unpacked bundle computed once), while what depends on the task
is computed per task by ansible-core's own functions exactly where
``modify_module`` computes it: the shebang (``_get_shebang``: interpreter
variables, templating, and the InterpreterDiscoveryRequiredError that makes
``_configure_module`` run discovery and set its fact), the RLIMIT_NOFILE
setting and the JSON arguments; its ANSIBLE_DEBUG lines are printed as for
a build from ansible-core's cache file.  Anything else (old-style,
WANT_JSON, binary, JSON-args or PowerShell modules, debugger or coverage
extensions, an unknown compression, ansible-core < 2.19) takes the vanilla
path on every task.
"""
import collections
import contextlib
import contextvars
import json
import os
import threading
import zipfile
from typing import Any, Dict, Iterator, NamedTuple, Optional, Tuple

from ansible_mitogen.executor import module_finder

# Bounds of one process's cache: entries, and payload bytes kept (a zip in
# base64 until a target first needs the bundle, then the bundle's sources).
MAX_ENTRIES = 128
MAX_BYTES = 64 * 1024 * 1024


class Built(NamedTuple):
    """What the planner needs of a built module."""
    style: str
    shebang: Optional[str]
    data: bytes  # the wrapper or script ansible-core built; b'' with a payload
    profile: str
    payload: Optional[module_finder.Payload]


class _Entry(NamedTuple):
    fqn: str
    profile: str
    code: module_finder.PayloadCode
    interpreter: str
    interpreter_args: Tuple[str, ...]
    # ANSIBLE_DEBUG lines modify_module prints for a build from its cache file
    debug_lines: Tuple[str, ...]


class _Build(object):
    """One ``_configure_module`` call of our ``_execute_module``."""

    def __init__(self) -> None:
        self.result: Any = None
        self.payload: Optional[module_finder.Payload] = None


_CURRENT: contextvars.ContextVar = contextvars.ContextVar('ansible_mitogen_build', default=None)
_lock = threading.Lock()
_entries: 'collections.OrderedDict[tuple, _Entry]' = collections.OrderedDict()
_vanilla: Any = None  # ansible-core's modify_module, once install() replaced it


@contextlib.contextmanager
def building() -> Iterator[_Build]:
    """Serve the modify_module calls of this thread's ``_configure_module``
    from the cache; ``built()`` reads the result."""
    install()
    build = _Build()
    token = _CURRENT.set(build)
    try:
        yield build
    finally:
        _CURRENT.reset(token)


def built(build: Optional[_Build], result: Any) -> Tuple[Built, str]:
    """Built and module path from ``_configure_module``'s `result` (run
    inside `build`, or None: outside ``building()``)."""
    if len(result) == 4:  # ansible-core < 2.19
        style, shebang, data, path = result
        return Built(style, shebang, data, 'legacy', _parsed(style, data)), path
    bits, path = result
    payload = build.payload if build is not None and bits is build.result else _parsed(bits.module_style, bits.b_module_data)
    return Built(bits.module_style, bits.shebang, bits.b_module_data, bits.serialization_profile, payload), path


def _parsed(style: str, data: bytes) -> Optional[module_finder.Payload]:
    return module_finder.parse_ansiballz(data) if style == 'new' else None


def install() -> None:
    """Route ``ActionBase._configure_module``'s modify_module through
    ``_modify_module`` (ansible-core >= 2.19; idempotent).  Calls from
    outside ``building()`` (other connections, actions of their own) get
    ansible-core's unchanged."""
    global _vanilla
    if _vanilla is not None:
        return
    from ansible.executor import module_common
    import ansible.plugins.action as action

    if not hasattr(module_common, '_BuiltModule'):  # ansible-core < 2.19
        return
    with _lock:
        if _vanilla is None:
            _vanilla = action.modify_module
            action.modify_module = _modify_module


def _modify_module(**kwargs: Any) -> Any:
    build = _CURRENT.get()
    if build is None:
        return _vanilla(**kwargs)
    build.result, build.payload = _build(kwargs)
    return build.result


def _build(kwargs: Dict[str, Any]) -> Tuple[Any, Optional[module_finder.Payload]]:
    key = _key(kwargs)
    entry = None
    if key is not None:
        with _lock:
            entry = _entries.get(key)
            if entry is not None:
                _entries.move_to_end(key)
    if entry is not None:
        return _rebuilt(entry, kwargs)
    bits = _vanilla(**kwargs)
    payload = _parsed(bits.module_style, bits.b_module_data)
    if key is not None and payload is not None and bits.shebang:
        _remember(key, kwargs['module_path'], bits, payload)
    return bits, payload


def _key(kwargs: Dict[str, Any]) -> Optional[tuple]:
    """What the cacheable part of the build depends on, or None when the
    vanilla path must run (extensions on, bad compression, no file)."""
    from ansible import constants as C
    from ansible._internal._ansiballz import _builder

    compression = kwargs.get('module_compression', 'ZIP_STORED')
    if not hasattr(zipfile, compression):  # vanilla warns, task by task
        return None
    if _builder.ExtensionManager.create(task_vars=kwargs.get('task_vars') or {}).extension_names:
        return None
    path = kwargs['module_path']
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (kwargs['module_name'], path) + _file_key(st) + (compression, C.DEFAULT_LOCAL_TMP)


def _file_key(st: os.stat_result) -> Tuple[int, int, int]:
    return st.st_ino, st.st_size, st.st_mtime_ns


def _remember(key: tuple, path: str, bits: Any, payload: module_finder.Payload) -> None:
    from ansible.executor import module_common

    try:
        with open(path, 'rb') as fp:
            source = fp.read()
    except OSError:
        return
    interpreter, args = module_common._extract_interpreter(source)
    if interpreter is None:
        interpreter = '/usr/bin/python'
    if not os.path.basename(interpreter).startswith('python'):
        return  # ansible-core maps some others (powershell, pwsh) by platform
    try:
        if _file_key(os.stat(path)) != key[2:5]:  # rewritten while it was built
            return
    except OSError:
        return
    entry = _Entry(payload.fqn, bits.serialization_profile, payload.code, interpreter, tuple(args),
                   _debug_lines(path, payload.fqn, key[5]))
    with _lock:
        _entries[key] = entry
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES or sum(e.code.size for e in _entries.values()) > MAX_BYTES:
            _entries.popitem(last=False)


def _debug_lines(path: str, fqn: str, compression: str) -> Tuple[str, ...]:
    """What modify_module prints with ANSIBLE_DEBUG when it builds the
    module from ansible-core's cache file (every build but the first)."""
    from ansible import constants as C
    from ansible.executor import module_common

    lines = []
    try:
        module_common._get_ansible_module_fqn(path)
    except ValueError:  # a module in a role: ansible.legacy.<name>
        lines.append('ANSIBALLZ: Could not determine module FQN')
    # the cache file's name: extensions are off for every entry here
    cache_file = os.path.join(C.DEFAULT_LOCAL_TMP, 'ansiballz_cache', '-'.join((fqn, compression, 'none')))
    lines.append('ANSIBALLZ: using cached module: %s' % cache_file)
    return tuple(lines)


def _rebuilt(entry: _Entry, kwargs: Dict[str, Any]) -> Tuple[Any, module_finder.Payload]:
    """What modify_module returns for `entry`, the task's own parts computed
    by ansible-core's code in the order its python branch does."""
    from ansible.errors import AnsibleError
    from ansible.executor import module_common
    from ansible.module_utils.common.json import Direction, get_module_encoder
    from ansible.utils.display import Display

    display = Display()
    for line in entry.debug_lines:
        display.debug(line)
    task_vars = kwargs.get('task_vars') or {}
    templar = kwargs['templar']
    shebang, _ = module_common._get_shebang(entry.interpreter, task_vars, templar, entry.interpreter_args,
                                            remote_is_local=bool(kwargs.get('remote_is_local')))
    rlimit_nofile = _rlimit_nofile(task_vars, templar)
    encoder = get_module_encoder(entry.profile, Direction.CONTROLLER_TO_MODULE)
    try:
        params = json.dumps(dict(ANSIBLE_MODULE_ARGS=kwargs['module_args']), cls=encoder)
    except TypeError as ex:
        raise AnsibleError(f"Failed to serialize arguments for the {kwargs['module_name']!r} module.") from ex
    payload = module_finder.Payload(entry.fqn, entry.profile, params.encode('utf-8', 'surrogateescape'), entry.code,
                                    rlimit_nofile)
    bits = module_common._BuiltModule(b_module_data=b'', module_style='new', shebang=shebang,
                                      serialization_profile=entry.profile)
    return bits, payload


def _rlimit_nofile(task_vars: Dict[str, Any], templar: Any) -> int:
    """modify_module's reading of PYTHON_MODULE_RLIMIT_NOFILE (its value, its errors)."""
    from ansible import constants as C
    from ansible.executor import module_common

    value = C.config.get_config_value('PYTHON_MODULE_RLIMIT_NOFILE', variables=task_vars)
    if not isinstance(value, int):
        value = int(templar._engine.template(value, options=module_common.TemplateOptions(value_for_omit=0)))
    return value


def _after_fork_in_child() -> None:
    """A fork (executor process, task worker) may happen while a thread
    holds a lock: the child gets fresh ones (no thread of the parent runs
    there to release them)."""
    global _lock
    _lock = threading.Lock()
    for entry in _entries.values():
        entry.code.after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def clear() -> None:
    """Forget every entry (tests)."""
    with _lock:
        _entries.clear()


def stats() -> Dict[str, int]:
    with _lock:
        return {'entries': len(_entries), 'bytes': sum(e.code.size for e in _entries.values())}
