"""`python -m ansible_mitogen doctor`: is this Ansible set up to use us?

Runs on the controller, by hand.  Prints versions, where ansible-core finds
our plugins (the accel.mitogen collection, the legacy plugin directory),
whether this ansible-core and Python are supported (support.py), and
which entry point the ansible.cfg ansible would read here (ANSIBLE_CONFIG,
./ansible.cfg, ~/.ansible.cfg, /etc/ansible/ansible.cfg, as decided by
ansible's own config manager) activates us through: the vars plugin
accel.mitogen.accelerate with a builtin strategy, or one of our strategy
plugins.  Then the exact ansible.cfg lines for each entry point.  Exit
status: 0 enabled, 1 not enabled, 2 broken.
"""
import json
import os
import sys
from typing import Callable, List, Optional, Tuple

import ansible_mitogen
from ansible_mitogen import collection, support
from ansible_mitogen.controller import loaders

DISTRIBUTION = "ansible-mitogen-accel"

# Builtin strategy -> ours, for suggesting the accelerated counterpart.
COUNTERPARTS = {"linear": "mitogen_linear", "free": "mitogen_free", "host_pinned": "mitogen_host_pinned"}

ENABLED, NOT_ENABLED, BROKEN = 0, 1, 2


def package_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # Python < 3.8 has no importlib.metadata
        return "unknown"
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown (%s is not pip-installed)" % DISTRIBUTION


def collection_version(directory: str) -> Optional[str]:
    """Version in a collection directory's MANIFEST.json or galaxy.yml."""
    manifest = os.path.join(directory, "MANIFEST.json")
    if os.path.exists(manifest):
        with open(manifest) as fp:
            return json.load(fp).get("collection_info", {}).get("version")
    galaxy = os.path.join(directory, "galaxy.yml")
    if os.path.exists(galaxy):
        import yaml

        with open(galaxy) as fp:
            return (yaml.safe_load(fp) or {}).get("version")
    return None


def _resolve_strategy(name: str) -> Optional[str]:
    from ansible.plugins.loader import strategy_loader

    found = strategy_loader.find_plugin_with_context(name)
    return found.plugin_resolved_path if found.resolved else None


def _is_ours(path: Optional[str]) -> bool:
    """True for a strategy file of our legacy directory or of any accel.mitogen copy."""
    if not path:
        return False
    real = os.path.realpath(path)
    legacy = os.path.realpath(ansible_mitogen.plugin_paths()["strategy_plugins"])
    marker = os.sep + os.path.join("ansible_collections", collection.NAMESPACE, collection.NAME, "plugins") + os.sep
    return os.path.dirname(real) == legacy or marker in real


def _collection_dir(plugin_path: str) -> str:
    # <collection>/plugins/strategy/<name>.py
    return os.path.dirname(os.path.dirname(os.path.dirname(plugin_path)))


def suggested_strategy(current: str) -> str:
    """FQCN of our counterpart of strategy `current` (linear when unknown)."""
    bare = current.rsplit(".", 1)[-1]
    if bare in collection.plugin_names("strategy"):  # ours by short name, without its path
        return collection.fqcn(bare)
    return collection.fqcn(COUNTERPARTS.get(bare, "mitogen_linear"))


VARS_PLUGIN = collection.fqcn("accelerate")
ACCELERATED_BUILTINS = loaders.ACCELERATED_BUILTIN_STRATEGIES


def _support_rows(core: str) -> List[Tuple[str, str]]:
    python = "%d.%d.%d" % sys.version_info[:3]
    problem = support.controller_problem(core, python)
    if problem:
        return [("supported", "NO: " + problem)]
    spec = support.ANSIBLE_CORE[support.parse(core)]
    return [("supported", "yes: ansible-core %s on controller Python %s (targets: Python %s to %s)" % (
        core, python, "%d.%d" % spec.target[0], "%d.%d" % spec.target[1]))]


def _enabled_vars_plugins() -> Tuple[List[str], str]:
    from ansible import constants as C

    value, origin = C.config.get_config_value_and_origin("VARIABLE_PLUGINS_ENABLED")
    return [str(name).strip() for name in (value or []) if str(name).strip()], origin


def _vars_plugin_enabled(enabled: List[str]) -> bool:
    return VARS_PLUGIN in enabled


def _builtin_accelerated(strategy: str) -> bool:
    bare = strategy.rsplit(".", 1)[-1]
    return bare in ACCELERATED_BUILTINS and strategy in (bare, "ansible.builtin." + bare, "ansible.legacy." + bare)


def diagnose(emit: Callable[[str], None] = print) -> int:
    """Print the report line by line through `emit`; return the exit status."""
    import ansible.release
    from ansible import constants as C
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader()
    ours = package_version()
    core = ansible.release.__version__
    rows: List[Tuple[str, str]] = [
        ("python", "%s (%d.%d.%d)" % ((sys.executable,) + tuple(sys.version_info[:3]))),
        ("ansible-core", core),
    ]
    rows += _support_rows(core)
    rows += [
        (DISTRIBUTION, ours),
        ("ansible_mitogen package", ansible_mitogen.PACKAGE_DIR),
    ]
    status = ENABLED
    probe = collection.fqcn("mitogen_linear")
    found = _resolve_strategy(probe)
    if found:
        where = _collection_dir(found)
        version = collection_version(where)
        bundled = os.path.realpath(where) == os.path.realpath(collection.bundled_collection_dir())
        how = "bundled with the Python package" if bundled else "from a collections path (not the bundled copy)"
        rows.append(("collection %s" % collection.COLLECTION, "%s, %s, version %s" % (where, how, version)))
        if version and ours[:1].isdigit() and version != ours:
            rows.append(("warning", "collection version %s differs from the package's %s" % (version, ours)))
    else:
        rows.append(("collection %s" % collection.COLLECTION, "NOT FOUND: %s does not resolve" % probe))
        status = BROKEN
    rows.append(("legacy strategy_plugins path", ansible_mitogen.plugin_paths()["strategy_plugins"]))
    rows.append(("ansible.cfg in use", C.CONFIG_FILE or "none (ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg,"
                 " /etc/ansible/ansible.cfg: none found)"))
    strategy, origin = C.config.get_config_value_and_origin("DEFAULT_STRATEGY")
    strategy = str(strategy)
    rows.append(("strategy", "%s (from %s)" % (strategy, origin)))
    enabled, vars_origin = _enabled_vars_plugins()
    rows.append(("vars_plugins_enabled", "%s (from %s)" % (", ".join(enabled), vars_origin)))
    resolved = _resolve_strategy(strategy) if status != BROKEN else None
    entry = _entry_point(strategy, resolved, enabled)
    rows.append(("entry point", entry or "none"))
    for key, value in rows:
        emit("%-30s %s" % (key + ":", value))
    if status == BROKEN:
        emit("The accel.mitogen collection is missing: reinstall the %s package (non-editable pip install)." % DISTRIBUTION)
        return status
    if entry:
        emit("OK: Ansible runs plays accelerated, through the %s." % entry)
        if entry.startswith("vars plugin"):
            emit("note: ansible-core runs vars plugins for inventory files and directories only: a run given"
                 " just a comma-separated host list (-i host1,host2,) is not accelerated.")
        status = ENABLED
    else:
        if resolved:
            emit("NOT ENABLED: strategy %r (%s) is not one of ours." % (strategy, resolved))
        else:
            emit("NOT ENABLED: ansible finds no strategy %r (no strategy_plugins path leads to it)." % strategy)
        if _vars_plugin_enabled(enabled) and resolved:
            emit("The vars plugin %s is enabled but accelerates only the builtin %s strategies." % (
                VARS_PLUGIN, ", ".join(ACCELERATED_BUILTINS)))
        status = NOT_ENABLED
    for line in _advice(strategy, origin, C.CONFIG_FILE, enabled, resolved):
        emit(line)
    return status


def _entry_point(strategy: str, resolved: Optional[str], enabled: List[str]) -> Optional[str]:
    """Which of our entry points the configured strategy runs through, if any."""
    if _is_ours(resolved):
        also = " (vars plugin %s also enabled)" % VARS_PLUGIN if _vars_plugin_enabled(enabled) else ""
        return "strategy plugin %s%s" % (strategy, also)
    if resolved and _vars_plugin_enabled(enabled) and _builtin_accelerated(strategy):
        return "vars plugin %s (builtin strategy %s accelerated)" % (VARS_PLUGIN, strategy)
    return None


def vars_plugins_line(enabled: List[str]) -> str:
    """The vars_plugins_enabled line that adds ours to what is enabled now."""
    names = [name for name in enabled if name != VARS_PLUGIN] or ["host_group_vars"]
    return "vars_plugins_enabled = %s" % ", ".join(names + [VARS_PLUGIN])


def _advice(strategy: str, origin: str, config_file: Optional[str], enabled: List[str],
            resolved: Optional[str]) -> List[str]:
    target = config_file or os.path.join(os.getcwd(), "ansible.cfg")
    bare = strategy.rsplit(".", 1)[-1]
    builtin = bare if bare in ACCELERATED_BUILTINS else "linear"
    from_env = origin.startswith("env")
    replace = origin == config_file or not resolved
    out = ["", "ansible.cfg lines for each entry point, under [defaults] in %s:" % target, ""]
    out.append("  vars plugin (no strategy plugin, no deprecation warning; recommended):")
    out.append("    " + vars_plugins_line(enabled))
    if not _builtin_accelerated(strategy):
        out.append("    strategy = %s" % builtin)
    out += ["", "  strategy plugin:"]
    head = "Replace the strategy line under [defaults] in %s with:" % target if replace else \
        "Add this line under [defaults] in %s:" % target
    out += ["    " + head, "", "    strategy = %s" % suggested_strategy(strategy), ""]
    if from_env:
        out.append("and unset %s, which overrides ansible.cfg." % origin.split(":", 1)[-1].strip())
    return out


def main(argv: Optional[List[str]] = None) -> int:
    del argv  # no options yet
    return diagnose()
