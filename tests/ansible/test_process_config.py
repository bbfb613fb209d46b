"""transport_config and connection-option plumbing, without any target.

Controller-side unit tests: settings are fed through ansible's real config
and plugin loaders (vars -> get_option), so a change in how ansible-core
resolves options shows up here.
"""
import pytest

from ansible_mitogen import connection_types
from ansible_mitogen.controller import loaders
from ansible_mitogen.executor import transport_config


def test_python_path_forms():
    assert transport_config.python_path("/usr/bin/python3", []) == ["/usr/bin/python3"]
    assert transport_config.python_path("/usr/bin/env python3 -X dev", []) == ["/usr/bin/env", "python3", "-X", "dev"]
    for mode in ("auto", "auto_silent", "auto_legacy", "auto_legacy_silent", None):
        argv = transport_config.python_path(mode, ["python3.99", "/usr/bin/python3"])
        assert argv[:2] == ["/bin/sh", "-c"]
        assert "python3.99 /usr/bin/python3" in argv[2]


def test_discovery_script_execs_first_found(tmp_path):
    import subprocess

    argv = transport_config.python_path("auto", ["no-such-python-here", "echo"])
    out = subprocess.run(argv + ["hello", "world"], capture_output=True, text=True)
    assert out.stdout.strip() == "hello world"
    missing = transport_config.python_path("auto", ["no-such-python-here"])
    failed = subprocess.run(missing, capture_output=True, text=True)
    assert failed.returncode == 127
    assert "no Python interpreter found on the target (tried: no-such-python-here)" in failed.stderr


def test_ssh_connection_sharing_options_are_dropped():
    args = transport_config.ssh_client_args(
        "-C -o ControlMaster=auto -o ControlPersist=60s",
        "-oControlPath=/tmp/x -o 'ControlPersist 60' -o User=alice -v",
    )
    assert args == ["-C", "-o", "User=alice", "-v"]


def test_sudo_args_drop_pipe_only_flags():
    assert transport_config.sudo_args("-H -S -n") == ["-H"]
    assert transport_config.sudo_args("-HSn -E") == ["-H", "-E"]
    assert transport_config.sudo_args(None) == []


def test_parse_via():
    assert transport_config.parse_via("bastion") == [{"host": "bastion", "become_user": None}]
    assert transport_config.parse_via("root@a, b") == [
        {"host": "a", "become_user": "root"},
        {"host": "b", "become_user": None},
    ]


def test_mask_secrets_keeps_shape():
    stack = [{"method": "ssh", "kwargs": {"hostname": "h", "password": "s3cret"}},
             {"method": "sudo", "kwargs": {"username": "root", "password": None}}]
    masked = transport_config.mask_secrets(stack)
    assert masked[0]["kwargs"] == {"hostname": "h", "password": transport_config.MASKED}
    assert masked[1]["kwargs"]["password"] is None
    assert stack[0]["kwargs"]["password"] == "s3cret"
    assert "s3cret" not in repr(masked)


def test_remote_name_masking():
    assert transport_config.remote_name(True) == "python(mitogen:ansible)"
    name = transport_config.remote_name(False)
    assert name.startswith("python(mitogen:") and name.count("@") == 1 and name.endswith(")")


def test_redirect_names():
    assert connection_types.redirected_name("ssh") == "mitogen_ssh"
    assert connection_types.redirected_name("ansible.builtin.local") == "mitogen_local"
    for name in ("winrm", "paramiko_ssh", "ansible.netcommon.network_cli", "mitogen_ssh"):
        assert connection_types.redirected_name(name) == name


_loader_ready = False


def _loaded_connection(name, variables):
    from ansible.playbook.play_context import PlayContext
    from ansible.plugins.loader import connection_loader, init_plugin_loader
    from ansible.template import Templar
    from ansible.parsing.dataloader import DataLoader

    global _loader_ready
    if not _loader_ready:
        init_plugin_loader()
        _loader_ready = True
    loaders.add_plugin_dirs()
    conn = connection_loader.get(name, PlayContext(), None)
    assert conn is not None, name
    templar = Templar(loader=DataLoader(), variables=variables)
    conn.set_options(var_options=conn._resolve_option_variables(variables, templar))
    return conn


def test_ssh_hop_reads_builtin_ssh_variables():
    conn = _loaded_connection("mitogen_ssh", {
        "ansible_host": "127.0.0.1",
        "ansible_port": 2222,
        "ansible_user": "alice",
        "ansible_password": "pw",
        "ansible_ssh_private_key_file": "~/k",
        "ansible_ssh_common_args": "-o ProxyJump=bastion",
        "ansible_ssh_extra_args": "-o 'ProxyCommand=nc %h %p'",
        "ansible_ssh_timeout": 7,
        "ansible_host_key_checking": False,
        "ansible_python_interpreter": "/usr/bin/env python3",
        "mitogen_ssh_debug_level": "2",
        "mitogen_ssh_compression": "no",
        "mitogen_mask_remote_name": True,
    })
    hop = conn._settings().ssh_hop()
    kw = hop["kwargs"]
    assert hop["method"] == "ssh"
    assert kw["hostname"] == "127.0.0.1" and kw["port"] == 2222 and kw["username"] == "alice"
    assert kw["password"] == "pw"
    assert kw["identity_file"].endswith("/k") and not kw["identity_file"].startswith("~")
    assert kw["ssh_args"][-6:] == ["-o", "ProxyJump=bastion", "-o", "ProxyCommand=nc %h %p", "-o", "ConnectTimeout=7"]
    assert not any("Control" in arg for arg in kw["ssh_args"])  # vanilla's default ssh_args dropped ControlPersist
    assert kw["connect_timeout"] == 7 + transport_config.BOOT_ALLOWANCE
    assert kw["check_host_keys"] == "ignore"
    assert kw["python_path"] == ["/usr/bin/env", "python3"]
    assert kw["ssh_debug_level"] == 2 and kw["compression"] is False
    assert kw["remote_name"] == "python(mitogen:ansible)"
    assert kw["keepalive_interval"] == 30


def test_become_hop_reads_become_plugin():
    from ansible.plugins.loader import become_loader

    conn = _loaded_connection("mitogen_ssh", {"ansible_host": "h", "ansible_python_interpreter": "/usr/bin/python3"})
    become = become_loader.get("sudo")
    become.set_options(var_options={"ansible_become_user": "bob", "ansible_become_password": "bpw",
                                    "ansible_become_flags": "-H -S -n"})
    conn.set_become_plugin(become)
    stack = conn.build_stack()
    assert [hop["method"] for hop in stack] == ["ssh", "sudo"]
    sudo = stack[1]["kwargs"]
    assert sudo["username"] == "bob" and sudo["password"] == "bpw"
    assert sudo["sudo_args"] == ["-H"] and sudo["sudo_path"] == "sudo"
    assert "bpw" not in repr(conn.get_stack())


def test_local_connection_type_and_unsupported_become():
    from ansible.errors import AnsibleError
    from ansible.plugins.loader import become_loader

    conn = _loaded_connection("mitogen_local", {"ansible_python_interpreter": "/usr/bin/python3"})
    assert [hop["method"] for hop in conn.build_stack()] == ["local"]
    runas = become_loader.get("runas")
    conn.set_become_plugin(runas)
    with pytest.raises(AnsibleError):
        conn.build_stack()


def test_sudo_connection_type_uses_ansible_user():
    conn = _loaded_connection("mitogen_sudo", {"ansible_user": "carol", "ansible_python_interpreter": "/usr/bin/python3"})
    stack = conn.build_stack()
    assert [(hop["method"], hop["kwargs"]["username"]) for hop in stack] == [("sudo", "carol")]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind,names", [
    ("connection", ["mitogen_ssh", "mitogen_local", "mitogen_sudo", "mitogen_su", "mitogen_doas"]),
    ("strategy", ["mitogen_linear", "mitogen", "mitogen_free", "mitogen_host_pinned"]),
])
def test_plugins_are_documented(kind, names):
    import subprocess

    import ansible_mitogen
    from tests.ansible import harness

    env = harness.environment(harness.MITOGEN, {
        "ANSIBLE_CONNECTION_PLUGINS": ansible_mitogen.plugin_paths()["connection_plugins"],
    })
    proc = subprocess.run([harness.ansible_bin("ansible-doc"), "-t", kind, "--json"] + names,
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    import json

    docs = json.loads(proc.stdout)
    assert sorted(docs) == sorted(names), proc.stderr
    for name in names:
        assert docs[name]["doc"]["short_description"], name
