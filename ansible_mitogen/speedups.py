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

Each task worker is forked from the strategy process, whose heap holds the
whole parsed playbook, inventory and variables (every role, task and
default of DebOps).  The worker's cyclic garbage collector would walk that inherited
heap on each full collection and, by touching every object, copy every page
of it.  The heap is frozen (`gc.freeze`) across the fork, so a worker's
collector sees only the objects the worker itself creates; the strategy
process unfreezes right after and collects as before.
"""
import contextlib
import copy
import gc
from typing import Iterator, List

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


def install() -> None:
    """Make deepcopy share ansible-core's immutable values instead of rebuilding them."""
    for cls in immutable_types():
        copy._deepcopy_dispatch.setdefault(cls, copy._deepcopy_atomic)  # type: ignore[attr-defined]


@contextlib.contextmanager
def heap_frozen_for_fork() -> Iterator[None]:
    """Around the fork of a task worker: it inherits the heap as permanent."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
