"""Hops built from container connection settings (no process started).

Controller-side: transport_config turns the options of each container
type (named like the vanilla plugin's) into the kwargs of one core method
call; connection.via_root walks mitogen_via chains.
"""
import pytest
from ansible.errors import AnsibleError

from ansible_mitogen.executor import connection, transport_config


class PlayContext:
    remote_addr = "from-play-context"
    remote_user = None


def hops(kind, **options):
    settings = transport_config.Settings(options.get, {"ansible_python_interpreter": "/usr/bin/python3"}.get,
                                         PlayContext(), None)
    return transport_config.login_hops(kind, settings)


def test_docker_flags_and_timeout():
    (hop,) = hops("docker", remote_addr="web", remote_user="app", docker_extra_args="-H ssh://h",
                  privileged=True, working_dir="/srv", extra_env={"B": "2", "A": "1"}, container_timeout=5)
    kw = hop["kwargs"]
    assert hop["method"] == "docker"
    assert (kw["container"], kw["username"], kw["docker_path"]) == ("web", "app", "docker")
    assert kw["docker_args"] == ["-H", "ssh://h"]
    assert kw["exec_args"] == ["--privileged", "--workdir", "/srv", "--env", "A=1", "--env", "B=2"]
    assert kw["connect_timeout"] == 5 + transport_config.BOOT_ALLOWANCE
    assert kw["python_path"] == ["/usr/bin/python3"]


def test_docker_without_python_becomes_setns():
    (hop,) = hops("docker", remote_addr="web", mitogen_host_python=True)
    assert hop["method"] == "setns"
    assert (hop["kwargs"]["kind"], hop["kwargs"]["host_python"], hop["kwargs"]["container"]) == ("docker", True, "web")


def test_lxd_remote_project_and_user_switch():
    lxd, su = hops("lxd", remote_addr="c1", remote="r", project="p", remote_user="deploy")
    assert (lxd["method"], lxd["kwargs"]["container"], lxd["kwargs"]["exec_args"]) == ("lxd", "r:c1", ["--project", "p"])
    assert (su["method"], su["kwargs"]["username"]) == ("su", "deploy")
    (incus,) = hops("incus", remote_addr="c1", remote="local", remote_user="root")
    assert (incus["kwargs"]["container"], incus["kwargs"]["lxc_path"]) == ("c1", "incus")


def test_kubectl_flags_in_vanilla_order_and_masked():
    (hop,) = hops("kubectl", remote_addr="addr", kubectl_pod="pod", kubectl_namespace="ns", kubectl_token="t0k",
                  validate_certs=False, kubectl_extra_args="--v=2 --request-timeout=5s")
    assert hop["kwargs"]["pod"] == "pod"
    assert hop["kwargs"]["kubectl_args"] == ["-n", "ns", "--token", "t0k", "--insecure-skip-tls-verify=true",
                                             "--v=2", "--request-timeout=5s"]
    masked = transport_config.mask_secrets([hop])[0]["kwargs"]["kubectl_args"]
    assert "t0k" not in masked and masked[3] == transport_config.MASKED


def test_container_name_falls_back_to_the_play_context():
    (hop,) = hops("jail")
    assert hop["kwargs"]["container"] == "from-play-context"


def test_via_root_and_loops():
    hostvars = {"c": {"mitogen_via": "b"}, "b": {"mitogen_via": "root@a"}, "a": {}, "x": {"mitogen_via": "y"},
                "y": {"mitogen_via": "x"}}
    assert connection.via_root("b", hostvars) == "a"
    assert connection.via_root("c", hostvars) == "a"
    with pytest.raises(AnsibleError, match="loops"):
        connection.via_root("x", hostvars)
    with pytest.raises(AnsibleError, match="unknown inventory host"):
        connection.via_root("nowhere", hostvars)
