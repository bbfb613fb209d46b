"""The single switch that turns a vanilla Ansible run into an accelerated one.

Called by our strategy plugins (controller, strategy process), which are
also what the builtin strategies become once the `accel.mitogen.accelerate`
vars plugin called `use_builtin_strategies()`.  `activate()` installs every hook: plugin dirs,
connection-type redirection, the action-plugin execution path and the
connection multiplexer processes.  Idempotent; task workers forked later
inherit the result.
"""
import logging
import threading
from typing import Optional

from ansible_mitogen import compat, engine
from ansible_mitogen.controller import dep_scan, loaders, plugin_warmup, speedups
from ansible_mitogen.controller import logging as am_logging

LOG = logging.getLogger(__name__)

_lock = threading.Lock()
_active = False


def is_active() -> bool:
    """True once activate() ran in this process or an ancestor."""
    return _active


def use_builtin_strategies() -> None:
    """The vars-plugin entry point: builtin strategies load as our wrapped ones.

    Only patches the strategy loader (cheap, no process started): the
    wrapped strategy calls activate() when the play starts, exactly as our
    strategy plugins do.  Also installs the compatibility hooks
    (ansible_mitogen/compat/), since the playbook is not parsed yet.
    """
    loaders.accelerate_builtin_strategies()
    compat.install()


def activate(forks: Optional[int] = None, start_multiplexers: bool = True) -> None:
    """Install all hooks; start the multiplexers unless told not to.

    `forks` sizes the parallel connection setup; defaults to the CLI's
    --forks or ansible.cfg's value.
    """
    global _active
    with _lock:
        if _active:
            return
        am_logging.setup()
        loaders.add_plugin_dirs()
        loaders.redirect_connections()
        loaders.wrap_action_plugins()
        speedups.install()
        dep_scan.install()
        plugin_warmup.install()
        engine.install()
        compat.install()
        if start_multiplexers:
            # After the plugin dirs are known, before workers fork.
            preload()
            from ansible_mitogen.multiplexer import process

            process.start(forks=forks if forks is not None else _configured_forks())
        _active = True
        LOG.debug("ansible_mitogen activated")


# Imported once here, before the multiplexers fork, so they and any worker
# forked later inherit them.  Plugins are not preloaded: executor threads
# load each once, when a task first needs it, and plugin_warmup loads what
# a forked worker used into this process for the next one.
PRELOAD = (
    "mitogen.core",
    "mitogen.parent",
    "mitogen.unix",
    "mitogen.service",
    "mitogen.select",
    "ansible_mitogen.executor.connection",
    "ansible_mitogen.remote.target",
    "ansible_mitogen.executor.mixins",
    "ansible_mitogen.executor.planner",
    "ansible_mitogen.executor.module_finder",
    "ansible.executor.module_common",
    # ansible-core 2.19 imports the module argument/result serialization
    # profiles by name on every module call.
    "ansible.module_utils._internal._json._profiles._module_legacy_c2m",
    "ansible.module_utils._internal._json._profiles._module_legacy_m2c",
    "ansible.module_utils._internal._json._profiles._module_modern_c2m",
    "ansible.module_utils._internal._json._profiles._module_modern_m2c",
)

def preload() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            LOG.debug("preload of %s skipped: %s", name, exc)


def _configured_forks() -> int:
    from ansible import constants as C
    from ansible import context

    try:
        forks = context.CLIARGS.get("forks")
    except Exception:  # CLIARGS unset when not started by an ansible CLI
        forks = None
    return int(forks or C.DEFAULT_FORKS)
