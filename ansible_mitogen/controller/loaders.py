"""Hooks into ansible-core's plugin loaders, installed by `activation`.

Runs in the controller (strategy) process before task workers fork, so
every worker inherits the patched loaders.  Three hooks:

* connection redirection: `ssh` -> `mitogen_ssh`, `local` ->
  `mitogen_local`, `docker` / `community.docker.docker` -> `mitogen_docker`,
  ... as connection_types.redirected_name says.  Other types (winrm, paramiko,
  network_cli, ...) load untouched.
* action wrapping: an action plugin built for one of our connections gets
  `ansible_mitogen.executor.mixins.ActionModuleMixin` mixed in front of its class, so
  module execution and file transfer go through the persistent context.
* builtin strategies accelerated (installed by the `accel.mitogen.accelerate`
  vars plugin while the inventory is read, before the strategy loads):
  strategy_loader hands out `ansible_mitogen.controller.strategy.wrap(<builtin>)` for
  `linear`, `free` and `host_pinned`, the very class our strategy plugins
  are, without going through the loader path that warns about third-party
  strategies.
"""
import functools
import os
from typing import Any, Callable, Dict, Type

import ansible_mitogen
from ansible_mitogen.connection_types import redirected_name

_MARK = "_ansible_mitogen_hooked"
_mixed_classes: Dict[Type[Any], Type[Any]] = {}


def add_plugin_dirs() -> None:
    """Make our connection and action plugins findable by short name."""
    from ansible.plugins import loader

    paths = ansible_mitogen.plugin_paths()
    loader.connection_loader.add_directory(paths["connection_plugins"])
    loader.action_loader.add_directory(paths["action_plugins"])
    loader.strategy_loader.add_directory(paths["strategy_plugins"])


def _patch(loader: Any, attr: str, build: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replace `loader.attr` by build(original), once per process (idempotent)."""
    original = getattr(loader, attr)
    if getattr(original, _MARK, False):
        return
    patched = functools.wraps(original)(build(original))
    setattr(patched, _MARK, True)
    setattr(loader, attr, patched)


def redirect_connections() -> None:
    """Patch connection_loader so supported types load our plugins."""
    from ansible.plugins.loader import connection_loader

    def build(original):
        def get_with_context(name, *args, **kwargs):
            result = original(redirected_name(name), *args, **kwargs)
            plugin = result[0]
            if plugin is not None and name != redirected_name(name):
                # Lets TaskExecutor's matches_name() reuse the connection for
                # later loop items instead of reconnecting for each.
                _note_alias(plugin, name)
            return result
        return get_with_context

    _patch(connection_loader, "get_with_context", build)


def _note_alias(plugin: Any, name: str) -> None:
    aliases = list(getattr(plugin, "ansible_aliases", None) or [])
    bare = name.split(".")[-1]
    for alias in (name, "ansible.builtin." + bare):
        if alias not in aliases:
            aliases.append(alias)
    try:
        plugin.ansible_aliases = aliases
    except AttributeError:
        pass


def is_our_connection(connection: Any) -> bool:
    """True for connection objects built from ansible_mitogen.executor.connection."""
    return bool(getattr(connection, "is_mitogen_connection", False))


def mixed_action_class(klass: Type[Any]) -> Type[Any]:
    """`klass` with ActionModuleMixin in front (cached per class)."""
    # Imported here, not at the top: it imports ansible's action machinery,
    # which the doctor and the collection's doc fragments do not need.  An
    # ImportError must surface: swallowing it once made every module call of
    # a new ansible-core take the vanilla path silently.
    from ansible_mitogen.executor.mixins import ActionModuleMixin as mixin

    if issubclass(klass, mixin):
        return klass
    mixed = _mixed_classes.get(klass)
    if mixed is None:
        mixed = type(klass.__name__, (mixin, klass), {"__module__": klass.__module__})
        _mixed_classes[klass] = mixed
    return mixed


def wrap_action_plugins() -> None:
    """Patch action_loader so plugins built for our connections get the mixin."""
    from ansible.plugins.loader import action_loader

    # Fails here, at activation, if the execution path cannot load on this
    # ansible-core, rather than in every task worker.
    import ansible_mitogen.executor.mixins  # noqa: F401

    def build(original):
        def get_with_context(name, *args, **kwargs):
            if kwargs.get("class_only") or not is_our_connection(kwargs.get("connection")):
                return original(name, *args, **kwargs)
            found = original(name, *args, class_only=True, collection_list=kwargs.pop("collection_list", None))
            klass, context = found[0], found[1]
            if klass is None:
                return found
            # The loader stored _load_name, ansible_name, ... on the class
            # itself, so the subclass inherits them.
            instance = mixed_action_class(klass)(*args, **kwargs)
            return type(found)(instance, context)
        return get_with_context

    _patch(action_loader, "get_with_context", build)


# Builtin strategies the vars-plugin entry point accelerates; others (debug,
# third-party) load untouched.
ACCELERATED_BUILTIN_STRATEGIES = ("linear", "free", "host_pinned")
_wrapped_strategies: Dict[Type[Any], Type[Any]] = {}


def wrapped_builtin_strategy(name: str, collection_list: Any = None) -> Any:
    """Our wrap() of builtin strategy `name`, or None if it is not one we accelerate."""
    from ansible.plugins.loader import strategy_loader

    found = strategy_loader.get_with_context(name, class_only=True, collection_list=collection_list)
    klass, context = found[0], found[1]
    fqcn = str(getattr(context, "resolved_fqcn", None) or "")
    if klass is None or fqcn not in ["ansible.builtin." + name for name in ACCELERATED_BUILTIN_STRATEGIES]:
        return None
    wrapped = _wrapped_strategies.get(klass)
    if wrapped is None:
        import ansible_mitogen.controller.strategy

        wrapped = _wrapped_strategies[klass] = ansible_mitogen.controller.strategy.wrap(klass)
    return wrapped


def accelerate_builtin_strategies() -> None:
    """Patch strategy_loader.get so builtin linear/free/host_pinned come out as ours."""
    from ansible.plugins.loader import strategy_loader

    def build(original):
        def get(name, *args, **kwargs):
            wrapped = None if kwargs.get("class_only") else wrapped_builtin_strategy(
                name, kwargs.get("collection_list"))
            if wrapped is None:
                return original(name, *args, **kwargs)
            kwargs.pop("collection_list", None)
            return wrapped(*args, **kwargs)
        return get

    _patch(strategy_loader, "get", build)


def package_parent_dir() -> str:
    """Directory that must be on sys.path for `import ansible_mitogen`."""
    return os.path.dirname(ansible_mitogen.PACKAGE_DIR)
