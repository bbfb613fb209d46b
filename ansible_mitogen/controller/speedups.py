"""Cheaper versions of ansible-core's per-task controller work, same results.

Runs in the controller's strategy process, installed by `activation`; task
workers forked later inherit it.  Nothing here travels to targets.

`copy.deepcopy` of task variables is a large share of the controller CPU on
role-heavy playbooks: the `template` lookup deep-copies every variable for
each template it renders.  Under ansible-core 2.19 every string or number
that came from YAML is a tagged subclass of str/int/..., which deepcopy
cannot recognise as immutable, so it rebuilds each one through
`__reduce_ex__` along with its frozen tag dataclasses.  Registering these
immutable types as atomic makes deepcopy share them like plain str and int
are shared; containers are still copied, so templates that mutate a list or
dict still cannot leak the change into the caller's variables.

The strategy process's heap holds the whole parsed playbook, inventory and
variables (every role, task and default of DebOps) and every module
ansible-core imported.  Tasks leave cyclic garbage (task executors,
connections and action plugins refer to each other), so the collector runs
full collections during the run, each walking that whole heap: about a
tenth of the controller CPU of 100 small tasks.  When the first play
starts, `freeze_strategy_heap()` moves what exists then into the permanent
generation (`gc.freeze`); later collections walk only what the run itself
created.  Objects frozen are still freed when their last reference goes;
only a cycle among them that becomes garbage stays until the process ends.

Each task worker or executor process is forked from the strategy process.
Its collector would walk the inherited heap on each full collection and,
by touching every object, copy every page of it.  `heap_frozen_for_fork()`
around a fork makes the child freeze what it inherited first thing (the
strategy process's own generations stay as they are), so a worker's
collector sees only the objects the worker itself creates.

For every host and task the strategy thread builds the task's variables,
and `clean_facts` there lists every connection plugin file
(`connection_loader.all(path_only=True)`: a glob of each plugin directory,
about 0.4 ms) to drop facts named after a connection type.  The list it
yields depends only on the plugin directories and the names in them, so
`PluginPathsOnce` keeps it while each directory's inode and modification
time stay the same (adding, removing or renaming a file changes the
directory's mtime; one changed in the last 2 s is listed every time) and
the plugin filters are unchanged.
"""
import contextlib
import copy
import gc
import os
import time
from typing import Any, Iterator, List, Optional, Tuple

# Immutable scalars that carry ansible-core 2.19 data tags.
TAGGED_SCALARS = (
    "_AnsibleTaggedStr",
    "_AnsibleTaggedBytes",
    "_AnsibleTaggedInt",
    "_AnsibleTaggedFloat",
    "_AnsibleTaggedDate",
    "_AnsibleTaggedTime",
    "_AnsibleTaggedDateTime",
)

# Stateless str/bytes markers of ansible-core 2.17 and 2.18.
UNSAFE_SCALARS = ("AnsibleUnsafeText", "AnsibleUnsafeBytes", "NativeJinjaUnsafeText")


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def immutable_types() -> List[type]:
    """ansible-core's immutable value and tag types present in this version."""
    found: List[type] = []
    try:
        from ansible.module_utils._internal import _datatag
    except ImportError:  # ansible-core < 2.19
        pass
    else:
        found.extend(getattr(_datatag, name) for name in TAGGED_SCALARS if hasattr(_datatag, name))
        # Tags are frozen dataclasses (slots, no mutable fields).
        found.extend(_subclasses(_datatag.AnsibleDatatagBase))
    try:
        from ansible.utils import unsafe_proxy
    except ImportError:
        pass
    else:
        found.extend(getattr(unsafe_proxy, name) for name in UNSAFE_SCALARS if hasattr(unsafe_proxy, name))
    return found


#: A directory modified this recently is listed every time: file systems
#: stamp with a coarse clock, so two changes may leave the same mtime.
RACY_NS = 2 * 10**9


class PluginPathsOnce:
    """A plugin loader whose `all(path_only=True)` is listed again only when
    a plugin directory changed; everything else goes to the loader."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader
        self._listed: Optional[Tuple[tuple, List[str]]] = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def _state(self) -> tuple:
        from ansible import constants as C
        from ansible.plugins import loader as plugin_loader

        dirs = []
        recent = time.time_ns() - RACY_NS
        for context in self._loader._get_paths_with_context():
            try:
                st = os.stat(context.path)
                dirs.append((context.path, context.internal, st.st_dev, st.st_ino, st.st_mtime_ns))
                if st.st_mtime_ns > recent:
                    return ()  # changed just now: a second change may keep this mtime
            except OSError:
                dirs.append((context.path, context.internal))
        # all() writes display.debug lines while it lists: list again then.
        return tuple(dirs), plugin_loader._PLUGIN_FILTERS[self._loader.package], C.DEFAULT_DEBUG

    def all(self, *args: Any, **kwargs: Any) -> Any:
        if args or set(kwargs) != {"path_only"} or kwargs["path_only"] is not True:
            return self._loader.all(*args, **kwargs)
        state = self._state()
        listed = self._listed
        if listed is None or listed[0] != state or not state or state[2]:
            listed = (state, list(self._loader.all(path_only=True)))
            self._listed = listed
        return iter(listed[1])


def install() -> None:
    """Make deepcopy share ansible-core's immutable values instead of
    rebuilding them; list connection plugin files once for clean_facts."""
    for cls in immutable_types():
        copy._deepcopy_dispatch.setdefault(cls, copy._deepcopy_atomic)  # type: ignore[attr-defined]
    from ansible.vars import clean

    if not isinstance(clean.connection_loader, PluginPathsOnce):
        clean.connection_loader = PluginPathsOnce(clean.connection_loader)


_strategy_heap_frozen = False
_freeze_in_child = False


def freeze_strategy_heap() -> None:
    """Strategy process, first play: the heap so far is permanent (once).

    Young garbage is collected first, so little of it stays for good."""
    global _strategy_heap_frozen
    if _strategy_heap_frozen:
        return
    _strategy_heap_frozen = True
    gc.collect(1)
    gc.freeze()


@contextlib.contextmanager
def heap_frozen_for_fork() -> Iterator[None]:
    """Around the fork of a task worker: it inherits the heap as permanent."""
    global _freeze_in_child
    _freeze_in_child = True
    try:
        yield
    finally:
        _freeze_in_child = False


def _after_fork_in_child() -> None:
    global _freeze_in_child
    if _freeze_in_child:
        _freeze_in_child = False
        gc.freeze()  # splices the generation lists: touches no object's page


os.register_at_fork(after_in_child=_after_fork_in_child)
