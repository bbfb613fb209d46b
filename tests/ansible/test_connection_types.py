"""connection_types.TYPES, the one declaration of our connection types.

Controller-side, no target: the plugin files in both trees are what the
table generates (ansible-doc reads their DOCUMENTATION without running
them), the redirects and role lists derived from it are the expected
ones, every hop a type builds for one representative set of settings is
the expected one (so a wrong `hop:` mapping in connection_types.yml
fails here), and is accepted by its mitogen method's Options (nothing
filters keywords at connect time any more).
"""
import os

import pytest

import mitogen.parent

import ansible_mitogen
from ansible_mitogen import collection, connection_types
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
    assert connection_types.BECOME_METHODS == ("sudo", "su", "doas")
    assert {"ssh", "local", "docker", "podman", "buildah", "lxc", "lxd", "jail", "kubectl", "machinectl",
            "setns"} <= set(services.LOGIN_METHODS)
    assert not {"fork", "sudo", "su", "doas"} & set(services.LOGIN_METHODS)


def test_redirects():
    redirects = connection_types.CONNECTION_REDIRECTS
    for name in ("ssh", "local", "sudo", "su", "doas", "docker", "incus", "kubectl"):
        for form in (name, "ansible.builtin." + name, "ansible.legacy." + name):
            assert redirects[form] == "mitogen_" + name
    assert redirects["community.docker.docker"] == "mitogen_docker"
    assert redirects["containers.podman.buildah"] == "mitogen_buildah"
    assert "setns" not in redirects and "machinectl" not in redirects
    assert collection.builtin_connection("mitogen_ssh") == "ssh"
    assert collection.builtin_connection("mitogen_docker") == "local"


# Each option its own value, so a mapping that reads the wrong one shows;
# mitogen_host_python "" tells `flag` (False) from `option` ("").
OPTIONS = {
    "remote_addr": "c1", "remote_user": "app", "host": "web1", "port": 2222, "mitogen_kind": "lxd",
    "mitogen_host_python": "", "container_timeout": 5,
    "docker_extra_args": "-H ssh://h", "privileged": True, "working_dir": "/srv", "extra_env": {"B": "2", "A": "1"},
    "podman_executable": "/opt/podman", "podman_extra_args": "--remote --url unix:/p.sock",
    "lxc_attach_path": "/opt/lxc-attach", "lxc_info_path": "/opt/lxc-info",
    "remote": "r", "project": "p", "lxc_path": "/opt/lxc", "incus_path": "/opt/incus",
    "kubectl_pod": "pod1", "kubectl_namespace": "ns", "kubectl_extra_args": "--v=2",
}
# Tool paths from mitogen_<tool>_path for some types, the bare tool for others.
VARS = {"ansible_python_interpreter": "/usr/bin/python3", "mitogen_mask_remote_name": True,
        "mitogen_jexec_path": "/opt/jexec", "mitogen_machinectl_path": "/opt/machinectl",
        "mitogen_docker_path": "/opt/docker"}
COMMON = {"python_path": ["/usr/bin/python3"], "remote_name": "python(mitogen:ansible)"}
TIMEOUT = 5 + transport_config.BOOT_ALLOWANCE

# Per type: (method, keywords besides COMMON) of each hop it builds from OPTIONS and VARS.
EXPECTED = {
    "ssh": [("ssh", {
        "hostname": "web1", "port": 2222, "username": "app", "password": None, "identity_file": None,
        "ssh_path": "ssh", "ssh_args": ["-o", "ConnectTimeout=10"], "connect_timeout": 10 + transport_config.BOOT_ALLOWANCE,
        "check_host_keys": "enforce", "ssh_debug_level": None, "keepalive_interval": 30, "keepalive_count": 10,
        "compression": True})],
    "local": [("local", {})],
    "sudo": [("sudo", {"username": "app", "password": None, "sudo_path": "sudo", "sudo_args": []})],
    "su": [("su", {"username": "app", "password": None, "su_path": "su"})],
    "doas": [("doas", {"username": "app", "password": None, "doas_path": "doas"})],
    "docker": [("docker", {
        "container": "c1", "username": "app", "docker_path": "/opt/docker", "docker_args": ["-H", "ssh://h"],
        "exec_args": ["--privileged", "--workdir", "/srv", "--env", "A=1", "--env", "B=2"],
        "connect_timeout": TIMEOUT})],
    "podman": [("podman", {
        "container": "c1", "username": "app", "podman_path": "/opt/podman",
        "podman_args": ["--remote", "--url", "unix:/p.sock"], "connect_timeout": TIMEOUT})],
    "buildah": [("buildah", {"container": "c1", "username": "app", "buildah_path": "buildah",
                             "connect_timeout": TIMEOUT})],
    "lxc": [("lxc", {"container": "c1", "lxc_attach_path": "/opt/lxc-attach", "connect_timeout": TIMEOUT})],
    "lxd": [("lxd", {"container": "r:c1", "lxc_path": "/opt/lxc", "exec_args": ["--project", "p"],
                     "connect_timeout": TIMEOUT}),
            ("su", {"username": "app"})],
    "incus": [("lxd", {"container": "r:c1", "lxc_path": "/opt/incus", "exec_args": ["--project", "p"],
                       "connect_timeout": TIMEOUT}),
              ("su", {"username": "app"})],
    "jail": [("jail", {"container": "c1", "username": "app", "jexec_path": "/opt/jexec", "connect_timeout": TIMEOUT})],
    "kubectl": [("kubectl", {"pod": "pod1", "kubectl_path": "kubectl", "kubectl_args": ["-n", "ns", "--v=2"],
                             "connect_timeout": TIMEOUT})],
    "machinectl": [("machinectl", {"container": "c1", "username": "app", "machinectl_path": "/opt/machinectl",
                                   "connect_timeout": TIMEOUT})],
    "setns": [("setns", {
        "container": "c1", "kind": "lxd", "host_python": False, "username": "app", "docker_path": "/opt/docker",
        "lxc_path": "lxc", "lxc_info_path": "/opt/lxc-info", "machinectl_path": "/opt/machinectl",
        "connect_timeout": TIMEOUT})],
}


def representative_hops(name):
    settings = transport_config.Settings(OPTIONS.get, VARS.get, connection._ViaPlayContext("web1", {}), None)
    return transport_config.login_hops(name, settings)


def test_every_type_has_an_expected_hop():
    assert sorted(EXPECTED) == sorted(connection_types.TYPES)


@pytest.mark.parametrize("name", sorted(connection_types.TYPES))
def test_every_type_builds_the_expected_hops(name):
    built = representative_hops(name)
    assert [hop["method"] for hop in built] == [method for method, _ in EXPECTED[name]]
    for hop, (_, kwargs) in zip(built, EXPECTED[name]):
        # In order too: the keywords are the method's call, as the multiplexer keys it.
        assert list(hop["kwargs"].items()) == list(dict(COMMON, **kwargs).items())


@pytest.mark.parametrize("name", sorted(connection_types.TYPES))
def test_every_hop_is_accepted_by_its_method(name):
    for hop in representative_hops(name):
        kwargs = {k: v for k, v in hop["kwargs"].items() if v is not None}
        options = mitogen.parent.import_method(hop["method"]).Options(**kwargs)
        assert options.python_path == ["/usr/bin/python3"], name
