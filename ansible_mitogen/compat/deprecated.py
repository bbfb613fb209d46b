"""Restores what ansible-core 2.19 - 2.21 deprecated behind an escape hatch.

Controller-side, in the strategy process before it forks workers.  Opt-in:
`restore_deprecated = true` under `[accel_mitogen]` in ansible.cfg (see
compat/settings.py; a process-wide matter, so no per-host variable).  Then
each setting of RESTORED that the user left at its default answers the
value 2.9-era playbooks rely on, wherever ansible-core reads it: through
its ConfigManager, and in the module-level copies it made at import time
(which were made before our vars plugin loaded).  A value the user set
explicitly (ansible.cfg, environment) always wins.
"""
from typing import Any, Dict, Tuple

from ansible_mitogen.compat import settings

ORIGIN = "accel_mitogen [accel_mitogen] restore_deprecated"

# setting -> value restored; why, in docs/compat.md.
RESTORED: Dict[str, Any] = {
    # 2.19: non-boolean conditionals (`when: some_string`, `when: ""`) are errors.
    "ALLOW_BROKEN_CONDITIONALS": True,
    # 2.19: embedded templates in conditionals are deprecated, to be disabled by default.
    "ALLOW_EMBEDDED_TEMPLATES": True,
    # 2.20: top-level ansible_* facts are deprecated, the default flips to false in 2.24.
    "INJECT_FACTS_AS_VARS": True,
}

_installed = False


def enabled() -> bool:
    from ansible.module_utils.parsing.convert_bool import boolean

    value = settings.from_config(settings.RESTORE_DEPRECATED)
    return value is not None and boolean(value.strip(), strict=False)


def install() -> None:
    """Install when the setting is on; idempotent."""
    global _installed
    if _installed or not enabled():
        return
    from ansible import constants as C

    config = C.config
    original = config.get_config_value_and_origin

    def get_config_value_and_origin(name: str, *args: Any, **kwargs: Any) -> Tuple[Any, str]:
        value, origin = original(name, *args, **kwargs)
        if name in RESTORED and origin == "default" and not (args or kwargs.get("plugin_type")):
            return RESTORED[name], ORIGIN
        return value, origin

    config.get_config_value_and_origin = get_config_value_and_origin
    _refresh_import_time_copies(C)
    _installed = True


def _refresh_import_time_copies(C: Any) -> None:
    for name in RESTORED:
        if hasattr(C, name):
            setattr(C, name, C.config.get_config_value(name))
    try:  # 2.19+: the template engine's copy
        from ansible._internal._templating._jinja_common import _TemplateConfig
    except ImportError:
        pass
    else:
        _TemplateConfig.allow_broken_conditionals = C.config.get_config_value("ALLOW_BROKEN_CONDITIONALS")
        _TemplateConfig.allow_embedded_templates = C.config.get_config_value("ALLOW_EMBEDDED_TEMPLATES")
    from ansible.vars import manager

    if hasattr(manager, "_INJECT_FACTS_ORIGIN"):  # 2.20+: deprecates facts injected by default
        manager._INJECT_FACTS, manager._INJECT_FACTS_ORIGIN = C.config.get_config_value_and_origin(
            "INJECT_FACTS_AS_VARS")
