"""`python -m ansible_mitogen doctor`: is this Ansible set up to use us?

Runs on the controller, by hand.  Prints versions, where ansible-core finds
our plugins (the accel.mitogen collection, the legacy plugin directory),
and whether the ansible.cfg ansible would read here (ANSIBLE_CONFIG,
./ansible.cfg, ~/.ansible.cfg, /etc/ansible/ansible.cfg, as decided by
ansible's own config manager) selects one of our strategies; if not, the
exact line to add.  Exit status: 0 enabled, 1 not enabled, 2 broken.
"""
import json
import os
import sys
from typing import Callable, List, Optional, Tuple

import ansible_mitogen
from ansible_mitogen import collection

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


def diagnose(emit: Callable[[str], None] = print) -> int:
    """Print the report line by line through `emit`; return the exit status."""
    import ansible.release
    from ansible import constants as C
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader()
    ours = package_version()
    rows: List[Tuple[str, str]] = [
        ("python", sys.executable),
        ("ansible-core", ansible.release.__version__),
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
    rows.append(("strategy", "%s (from %s)" % (strategy, origin)))
    for key, value in rows:
        emit("%-30s %s" % (key + ":", value))
    if status == BROKEN:
        emit("The accel.mitogen collection is missing: reinstall the %s package (non-editable pip install)." % DISTRIBUTION)
        return status
    resolved = _resolve_strategy(str(strategy))
    if _is_ours(resolved):
        emit("OK: Ansible runs plays with our strategy %s." % strategy)
        return ENABLED
    if resolved:
        emit("NOT ENABLED: strategy %r (%s) is not one of ours." % (strategy, resolved))
    else:
        emit("NOT ENABLED: ansible finds no strategy %r (no strategy_plugins path leads to it)." % strategy)
    for line in _advice(str(strategy), origin, C.CONFIG_FILE):
        emit(line)
    return NOT_ENABLED


def _advice(strategy: str, origin: str, config_file: Optional[str]) -> List[str]:
    line = "strategy = %s" % suggested_strategy(strategy)
    target = config_file or os.path.join(os.getcwd(), "ansible.cfg")
    if origin == config_file:
        head = "Replace the strategy line under [defaults] in %s with:" % target
    else:
        head = "Add this line under [defaults] in %s:" % target
    out = [head, "", "    " + line, ""]
    if origin.startswith("env"):
        out.append("and unset %s, which overrides ansible.cfg." % origin.split(":", 1)[-1].strip())
    return out


def main(argv: Optional[List[str]] = None) -> int:
    del argv  # no options yet
    return diagnose()

