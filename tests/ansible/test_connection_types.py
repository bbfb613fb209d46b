"""connection_types.TYPES, the one declaration of our connection types.

Controller-side, no target: the plugin files in both trees are what the
table generates (ansible-doc reads their DOCUMENTATION without running
them), the redirects and role lists derived from it are the expected
ones, and every hop a type builds is accepted by its mitogen method's
Options (nothing filters keywords at connect time any more).
"""
import os

import pytest

import mitogen.parent

import ansible_mitogen
from ansible_mitogen import collection, connection_types
from ansible_mitogen.controller import loaders
from ansible_mitogen.executor import connection, transport_config
from ansible_mitogen.multiplexer import services

ROOT = os.path.dirname(ansible_mitogen.PACKAGE_DIR)


@pytest.mark.parametrize("name", sorted(connection_types.TYPES))
def test_plugin_files_are_generated_from_the_table(name):
    for rel, text in connection_types.plugin_files(connection_types.TYPES[name]).items():
        with open(os.path.join(ROOT, rel)) as fp:
            assert fp.read() == text, "%s is stale: run python -m ansible_mitogen.connection_types" % rel


def test_every_plugin_file_is_declared():
    declared = sorted(t.plugin for t in connection_types.TYPES.values())
    assert collection.plugin_names("connection") == declared
    coll = os.path.join(collection.bundled_collection_dir(), "plugins", "connection")
    assert sorted(n[:-3] for n in os.listdir(coll) if n.endswith(".py")) == declared


def test_methods_and_roles_come_from_mitogen():
    for t in connection_types.TYPES.values():
        assert t.method in mitogen.parent.METHODS, t.name
        assert t.role in ("login", "become"), t.name
    assert loaders.BECOME_METHODS == ("sudo", "su", "doas")
    assert {"ssh", "local", "docker", "podman", "buildah", "lxc", "lxd", "jail", "kubectl", "machinectl",
            "setns"} <= set(services.LOGIN_METHODS)
    assert not {"fork", "sudo", "su", "doas"} & set(services.LOGIN_METHODS)


def test_redirects():
    redirects = loaders.CONNECTION_REDIRECTS
    for name in ("ssh", "local", "sudo", "su", "doas", "docker", "incus", "kubectl"):
        for form in (name, "ansible.builtin." + name, "ansible.legacy." + name):
            assert redirects[form] == "mitogen_" + name
    assert redirects["community.docker.docker"] == "mitogen_docker"
    assert redirects["containers.podman.buildah"] == "mitogen_buildah"
    assert "setns" not in redirects and "machinectl" not in redirects
    assert collection.builtin_connection("mitogen_ssh") == "ssh"
    assert collection.builtin_connection("mitogen_docker") == "local"


OPTIONS = {"remote_addr": "c1", "host": "web1", "remote_user": "app", "mitogen_kind": "lxd"}


@pytest.mark.parametrize("name", sorted(connection_types.TYPES))
def test_every_hop_is_accepted_by_its_method(name):
    settings = transport_config.Settings(
        OPTIONS.get, {"ansible_python_interpreter": "/usr/bin/python3"}.get,
        connection._ViaPlayContext("web1", {}), None)
    for hop in connection_types.TYPES[name].hops(settings):
        kwargs = {k: v for k, v in hop["kwargs"].items() if v is not None}
        options = mitogen.parent.import_method(hop["method"]).Options(**kwargs)
        assert options.python_path == ["/usr/bin/python3"], name
