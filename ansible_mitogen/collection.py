"""The `accel.mitogen` Ansible collection: names, location, entry points, docs.

Runs on the controller (strategy process, task workers, ansible-doc).  The
collection files under `ansible_collections/accel/mitogen/plugins/` are a
few lines each and call into this module: `entry_point()` hands them the
class of the matching plugin in `ansible_mitogen/plugins/` (so loading by
FQCN and by legacy path run the same code), and `DocFragment` builds their
documentation from that plugin's DOCUMENTATION plus, for connections, the
options of the builtin plugin it stands in for.
"""
import importlib
import json
import logging
import os
from typing import Any, Dict, List, Optional

import ansible_mitogen

NAMESPACE = "accel"
NAME = "mitogen"
COLLECTION = NAMESPACE + "." + NAME
LOG = logging.getLogger(__name__)

# Plugin type -> the class name ansible's loader looks up in a plugin file.
PLUGIN_CLASSES = {
    "strategy": "StrategyModule",
    "connection": "Connection",
    "action": "ActionModule",
    "vars": "VarsModule",
}


def fqcn(plugin: str) -> str:
    """Fully qualified name of one of our plugins, e.g. accel.mitogen.mitogen_linear."""
    return COLLECTION + "." + plugin


def bundled_collection_dir() -> str:
    """Where pip put the collection: next to the ansible_mitogen package.

    Both live in the same site-packages (or checkout), which ansible-core
    scans for `ansible_collections/` through sys.path.
    """
    return os.path.join(os.path.dirname(ansible_mitogen.PACKAGE_DIR), "ansible_collections", NAMESPACE, NAME)


def plugin_names(plugin_type: str) -> List[str]:
    """Our plugins of one type, as named in ansible_mitogen/plugins/<type>/."""
    directory = os.path.join(ansible_mitogen.PLUGINS_DIR, plugin_type)
    return sorted(name[:-3] for name in os.listdir(directory) if name.endswith(".py") and not name.startswith("_"))


def _split_module_name(module_name: str) -> List[str]:
    # ansible_collections.accel.mitogen.plugins.<type>.<name>
    parts = module_name.split(".")
    if len(parts) != 6 or parts[:4] != ["ansible_collections", NAMESPACE, NAME, "plugins"]:
        raise ValueError("not a module of the %s collection: %s" % (COLLECTION, module_name))
    return parts[4:]


def entry_point(module_name: str) -> Any:
    """The plugin class for collection module `module_name` (pass __name__).

    A subclass of the class in ansible_mitogen/plugins/, so the attributes
    ansible's loader sets on a loaded class (_load_name = the FQCN, ...)
    stay apart from the legacy-path copy.
    """
    plugin_type, name = _split_module_name(module_name)
    class_name = PLUGIN_CLASSES[plugin_type]
    legacy = importlib.import_module("ansible_mitogen.plugins.%s.%s" % (plugin_type, name))
    bases = (getattr(legacy, class_name),)
    return type(class_name, bases, {"__module__": module_name, "__doc__": bases[-1].__doc__})


# -- documentation ----------------------------------------------------------

# Keys a fragment may add to a collection file's DOCUMENTATION; the file
# itself carries name and short_description (ansible-doc --list reads those
# without loading fragments).
_FRAGMENT_KEYS = ("description", "author", "notes", "seealso")

_NOTES = {
    "strategy": "Enable it for every play with C(strategy = %s) under C([defaults]) in ansible.cfg, or"
                " C(ANSIBLE_STRATEGY=%s); no plugin path is needed when the Python package is installed.",
    "vars": "Enable it with C(vars_plugins_enabled = host_group_vars, %s) under C([defaults]) in"
            " ansible.cfg, or C(ANSIBLE_VARS_ENABLED=host_group_vars,%s); keep the default strategy"
            " or name C(linear), C(free) or C(host_pinned).",
    "connection": "Usually not set by hand: while one of our strategies runs, the builtin connection"
                  " types are served by ours automatically. C(ansible_connection: %s) picks it explicitly.",
}


def _legacy_doc(plugin_type: str, name: str) -> Dict[str, Any]:
    from ansible.parsing.plugin_docs import read_docstring

    path = os.path.join(ansible_mitogen.PLUGINS_DIR, plugin_type, name + ".py")
    doc = read_docstring(path, verbose=False, ignore_errors=False)["doc"]
    return doc or {"description": _docstring_paragraphs(path)}


def _docstring_paragraphs(path: str) -> List[str]:
    # Action plugins carry no DOCUMENTATION; their module docstring is it.
    import ast

    with open(path) as fp:
        text = ast.get_docstring(ast.parse(fp.read())) or ""
    return [" ".join(para.split()) for para in text.split("\n\n") if para.strip()]


def builtin_connection(name: str) -> str:
    """The builtin connection plugin whose options connection `name` accepts
    (its `base` in connection_types.TYPES: ssh for mitogen_ssh, else local)."""
    from ansible_mitogen.connection_types import TYPES

    return TYPES[name[len("mitogen_"):]].base


def _builtin_connection_file(builtin: str) -> Optional[str]:
    import ansible.plugins.connection

    path = os.path.join(os.path.dirname(ansible.plugins.connection.__file__), builtin + ".py")
    return path if os.path.exists(path) else None


def _options_in(path: Optional[str]) -> Dict[str, Any]:
    # get_docstring resolves the builtin plugin's own fragments
    # (connection_pipelining, ...), so their options come along too.
    from ansible.plugins.loader import fragment_loader
    from ansible.utils.plugin_docs import get_docstring

    doc = get_docstring(path, fragment_loader)[0] or {}
    return dict(doc.get("options") or {})


def _builtin_options(builtin: str) -> Dict[str, Any]:
    return _options_in(_builtin_connection_file(builtin))


def _registered_options(plugin_type: str, name: str) -> Dict[str, Any]:
    # Once the legacy-path plugin is loaded, its import registered the very
    # same options: reuse them instead of parsing the builtin plugin's YAML
    # again.
    from ansible import constants as C

    return dict(C.config.get_configuration_definitions(plugin_type, name) or {})


# Actions that take the arguments of a builtin module: their options are
# that module's, read from ansible-core rather than written again.
ACTION_BUILTIN_MODULES = {"mitogen_fetch": "fetch"}


def _builtin_module_options(module: str) -> Dict[str, Any]:
    import ansible.modules

    return _options_in(os.path.join(os.path.dirname(ansible.modules.__file__), module + ".py"))


def _documented_options(plugin_type: str, name: str, doc: Dict[str, Any]) -> Dict[str, Any]:
    options: Dict[str, Any] = {}
    if plugin_type == "connection":
        from ansible_mitogen.executor.connection import common_options

        options.update(_builtin_options(builtin_connection(name)))
        options.update(common_options())
    if plugin_type == "action" and name in ACTION_BUILTIN_MODULES:
        options.update(_builtin_module_options(ACTION_BUILTIN_MODULES[name]))
    options.update(doc.get("options") or {})
    return options


def fragment(plugin_type: str, name: str) -> Dict[str, Any]:
    """Documentation fragment for collection plugin `name` of `plugin_type`."""
    doc = _legacy_doc(plugin_type, name)
    out: Dict[str, Any] = {key: doc[key] for key in _FRAGMENT_KEYS if key in doc}
    out["options"] = _registered_options(plugin_type, name) or _documented_options(plugin_type, name, doc)
    note = _NOTES.get(plugin_type)
    if note:
        out["notes"] = list(out.get("notes") or []) + [note.replace("%s", fqcn(name))]
    return out


class DocFragment:
    """Base of the collection's doc fragment `accel.mitogen.ours`.

    `extends_documentation_fragment: accel.mitogen.ours.<type>_<name>` makes
    ansible read attribute <TYPE>_<NAME>, answered here at run time.
    """

    DOCUMENTATION = "options: {}\n"

    def __getattr__(self, attr: str) -> str:
        plugin_type, _, name = attr.lower().partition("_")
        if plugin_type not in PLUGIN_CLASSES or not name:
            raise AttributeError(attr)
        # JSON is YAML, and it flattens the tagged strings ansible's own
        # loader put into the builtin plugin's options; str() anything else
        # rather than fail loading the plugin over its documentation.
        return json.dumps(fragment(plugin_type, name), default=str)
