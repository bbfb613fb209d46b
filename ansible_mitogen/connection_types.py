"""Our Ansible connection types, declared once: TYPES, read from connection_types.yml.

Runs on the controller (strategy process, task workers, ansible-doc and the
tests), imported by every side of it: controller/ (loaders), engine/
(policy), executor/ (connection, transport_config) and collection.  It
imports nothing of ours but the package, so none of them reaches another
through it.  Each entry names the connection type (plugin `mitogen_<name>`),
the mitogen method of its login hop (a name of mitogen.parent.METHODS,
whose role tells login from become), how its login hop is built (`hop`:
evaluated by transport_config.login_hops), the vanilla type it stands in
for, the builtin plugin whose options it accepts, and its own options with
their docs.

Derived from it: CONNECTION_REDIRECTS and BECOME_METHODS, the options
connection.py registers, the documentation of the collection's plugins, and
the plugin files themselves (`python -m ansible_mitogen.connection_types`
writes them; tests/ansible/test_connection_types.py checks they are up to
date, since ansible-doc reads DOCUMENTATION without running the file).
"""
import os
import sys
import textwrap
from typing import Dict, List, NamedTuple, Optional, Union

import mitogen.parent

import ansible_mitogen


class ConnectionType(NamedTuple):
    name: str
    #: mitogen method of its login hop (docker falls back to setns with
    #: mitogen_host_python; incus drives the lxd method with the incus CLI).
    method: str
    #: How transport_config builds its login hop: "become", a Settings
    #: method ("ssh_hop"), "container <builder>" (a function of
    #: transport_config), or for a container, a mapping keyword -> value
    #: (see connection_types.yml).
    hop: Union[str, Dict[str, str]]
    #: Ansible connection type it stands in for while we are active (bare
    #: builtin name or FQCN); None: only reached as mitogen_<name>.
    replaces: Optional[str] = None
    #: Builtin connection plugin whose options (vars, ini, env, cli) it accepts.
    base: str = "local"
    has_tty: bool = True
    #: First line of the plugin file ("Connection type mitogen_X: <summary>, over Mitogen.").
    summary: str = ""
    short_description: str = ""
    description: str = ""
    #: YAML of its own options, on top of the base plugin's and connection.COMMON_OPTIONS.
    options: str = ""

    @property
    def plugin(self) -> str:
        return "mitogen_" + self.name

    @property
    def role(self) -> str:
        """'login' or 'become', from the mitogen method's declaration."""
        return mitogen.parent.METHODS[self.method].role

    def documentation(self) -> str:
        """The plugin file's DOCUMENTATION (what ansible-doc shows)."""
        options = textwrap.indent(self.options.strip("\n") + "\n", "  ") if self.options else " {}\n"
        return "\nname: %s\nshort_description: %s\ndescription:\n%s\nauthor: ansible_mitogen\noptions:%s%s" % (
            self.plugin, self.short_description,
            textwrap.fill(self.description, 76, initial_indent="  - ", subsequent_indent="    ",
                          break_on_hyphens=False, break_long_words=False),
            "\n" if self.options else "", options)


def _load() -> Dict[str, ConnectionType]:
    import yaml

    # libyaml's loader when PyYAML has it: the pure-Python one took ~50 ms of
    # every accelerated run's start-up (and of every ansible-doc) for this file.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "connection_types.yml")) as fp:
        table = yaml.load(fp, Loader=loader)
    out = {}
    for name, entry in table.items():
        out[name] = ConnectionType(name=name, **entry)
    return out


TYPES: Dict[str, ConnectionType] = _load()

#: Become methods (sudo, su, doas) the connection plugins implement as a hop.
BECOME_METHODS = mitogen.parent.methods_with_role("become")


def _redirects() -> Dict[str, str]:
    """Connection type -> ours: bare, ansible.builtin./legacy. and FQCN forms."""
    out: Dict[str, str] = {}
    for t in TYPES.values():
        if t.replaces:
            for name in (t.replaces, t.name, "ansible.builtin." + t.name, "ansible.legacy." + t.name):
                out[name] = t.plugin
    return out


#: Connection type -> ours, while we are active (loaders patches the
#: connection loader with it; the engine and mitogen_via read it too).
CONNECTION_REDIRECTS: Dict[str, str] = _redirects()


def redirected_name(name: str) -> str:
    """Connection type to load instead of `name` while we are active."""
    return CONNECTION_REDIRECTS.get(name, name)


# -- plugin files -------------------------------------------------------------

_PLUGIN = '''"""Connection type `%(plugin)s`: %(summary)s, over Mitogen.

%(loaded)s

Generated from ansible_mitogen/connection_types.yml ("%(name)s") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """%(documentation)s"""

Connection = ansible_mitogen.executor.connection.connection_type("%(name)s", __name__)
'''

_ENTRY_POINT = '''"""Connection type accel.mitogen.%(plugin)s: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

DOCUMENTATION = """
name: %(plugin)s
short_description: %(short_description)s
extends_documentation_fragment: accel.mitogen.ours.connection_%(plugin)s
"""
Connection = entry_point(__name__)
'''


def plugin_files(t: ConnectionType) -> Dict[str, str]:
    """Path (relative to the checkout or site-packages) -> text of t's two plugin files."""
    loaded = "Loaded by ansible's connection loader in task workers"
    if t.replaces:
        loaded += " (directly, or because activation redirects `%s` here)" % t.replaces
    values = dict(t._asdict(), plugin=t.plugin, loaded=textwrap.fill(loaded + ".", 76),
                  documentation=t.documentation())
    return {
        "ansible_mitogen/plugins/connection/%s.py" % t.plugin: _PLUGIN % values,
        "ansible_collections/accel/mitogen/plugins/connection/%s.py" % t.plugin: _ENTRY_POINT % values,
    }


def write_plugin_files(root: str) -> List[str]:
    """(Re)write every type's plugin files below `root`; returns those that changed."""
    changed = []
    for t in TYPES.values():
        for rel, text in plugin_files(t).items():
            path = os.path.join(root, rel)
            old = open(path).read() if os.path.exists(path) else None
            if old != text:
                with open(path, "w") as fp:
                    fp.write(text)
                changed.append(rel)
    return changed


if __name__ == "__main__":
    for rel in write_plugin_files(os.path.dirname(ansible_mitogen.PACKAGE_DIR)):
        sys.stdout.write("wrote %s\n" % rel)
