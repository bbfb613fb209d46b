"""Container connection types and mitogen_via chains, against real containers.

Controller-side.  Starts two test-bed targets that carry the docker CLI and
socket (`DockerHostTestbed`) plus a few plain containers ("boxes"), then
runs real ansible-playbook processes:

* docker: on the controller, behind ssh (depth 1), ssh -> ssh (depth 2) and
  ssh -> sudo; many containers behind one ssh host share one ssh login and
  receive each module source over that link once (source_relay counters);
* the vanilla `docker` plugin (community.docker, when its collection can be
  had) and ours give the same recap on the same playbook;
* setns into a box for real;
* a target cannot reach another target (unidirectional routing).
"""
import glob
import json
import os
import subprocess
import textwrap
import zipfile

import pytest

import ansible_mitogen
from tests.ansible import harness
from tests.testbed import cache
from tests.testbed.docker_host import Boxes, DockerHostTestbed

N_BOXES = 4
PLAYBOOK_DIR = harness.PLAYBOOK_DIR

# A test-only action: answers questions about the connection it runs on.
PROBE_ACTION = '''
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        import mitogen.core
        from ansible_mitogen.remote import source_relay

        conn = self._connection
        conn._connect()
        what = self._task.args["what"]
        if what == "context_id":
            return {"context_id": conn.context.context_id}
        if what == "relay_stats":
            return {"stats": conn.relay_context().call(source_relay.stats)}
        # "reach": from this target, call another target's interpreter.
        other = mitogen.core.Context(None, int(self._task.args["other"]))
        try:
            conn.get_chain().call(source_relay.push, other, {}, [])
        except Exception as exc:
            return {"reached": False, "msg": str(exc).splitlines()[0]}
        return {"reached": True}
'''


@pytest.fixture(scope="module")
def bed(testbed_factory):
    # testbed_factory only for its docker check (skip locally, fail in CI).
    with DockerHostTestbed.up(n=2) as tb:
        tb.share_private_key()
        boxes = Boxes.start(tb.session, N_BOXES + 1)
        # The last box has no Python: only the host's interpreter can run there.
        nopy = boxes.names[-1]
        subprocess.run(["docker", "exec", nopy, "sh", "-c", "rm -f /usr/bin/python3*"], check=True)
        try:
            yield tb, boxes
        finally:
            boxes.remove()


def ssh_lines(tb):
    """The test bed's inventory lines for its ssh targets (no group header)."""
    with open(tb.inventory) as fp:
        return [line.strip() for line in fp if line.startswith("target-")]


def write_inventory(tmp_path, tb, boxes) -> str:
    t0, t1 = ssh_lines(tb)
    b = boxes.names
    lines = ["[targets]", t0, t1 + " mitogen_via=target-0",
             # The same machine as target-0, logged in as a sudo user who
             # becomes root there: the ssh -> sudo -> docker chain.
             t0.replace("target-0 ", "t0-sudo ").replace("ansible_user=root", "ansible_user=mitogen_sudo_nopw")
             + " ansible_become=true",
             "[boxes]",
             "direct ansible_connection=docker ansible_host=%s methods=docker" % b[0]]
    for i, name in enumerate(b[:N_BOXES]):
        lines.append("via1-%d ansible_connection=community.docker.docker ansible_docker_host=%s "
                     "mitogen_via=target-0 methods=ssh,docker" % (i, name))
    lines += [
        "via2 ansible_connection=docker ansible_host=%s mitogen_via=target-1 methods=ssh,ssh,docker" % b[1],
        "viasudo ansible_connection=docker ansible_host=%s mitogen_via=t0-sudo ansible_user=mitogen_user "
        "methods=ssh,sudo,docker" % b[2],
        "setns ansible_connection=mitogen_setns ansible_host=%s methods=setns" % b[3],
        "nopy-docker ansible_connection=docker ansible_host=%s mitogen_host_python=true methods=setns" % b[-1],
        "nopy-setns ansible_connection=mitogen_setns ansible_host=%s mitogen_host_python=true ansible_user=mitogen_user "
        "methods=setns" % b[-1],
        "[boxes:vars]",
        "ansible_python_interpreter=/usr/bin/python3",
    ]
    path = tmp_path / "containers.ini"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def probe_env(tmp_path, **extra):
    actions = tmp_path / "action_plugins"
    actions.mkdir(exist_ok=True)
    (actions / "container_probe.py").write_text(PROBE_ACTION)
    paths = [str(actions), ansible_mitogen.plugin_paths()["action_plugins"]]
    return dict({"ANSIBLE_ACTION_PLUGINS": os.pathsep.join(paths)}, **extra)


@pytest.mark.timeout(240)
def test_docker_behind_ssh_chains(tmp_path, bed):
    tb, boxes = bed
    inventory = write_inventory(tmp_path, tb, boxes)
    result = harness.run_playbook(
        os.path.join(PLAYBOOK_DIR, "_containers_chains.yml"), inventory, strategy=harness.MITOGEN,
        env=probe_env(tmp_path))
    assert result.rc == 0, result.describe()
    totals = result.totals()
    assert totals["failed"] == 0 and totals["unreachable"] == 0, result.describe()
    # Every box host ran every task of the first play.
    box_hosts = ["direct", "via2", "viasudo", "setns", "nopy-docker", "nopy-setns"]
    box_hosts += ["via1-%d" % i for i in range(N_BOXES)]
    assert all(result.recap[h]["ok"] >= 7 for h in box_hosts), result.recap


@pytest.mark.timeout(120)
def test_a_target_cannot_reach_another(tmp_path, bed):
    tb, boxes = bed
    inventory = write_inventory(tmp_path, tb, boxes)
    play = textwrap.dedent("""
        - hosts: direct:via1-0:via1-1
          gather_facts: false
          tasks:
            - container_probe: {what: context_id}
              register: me
        - hosts: via1-0:direct
          gather_facts: false
          tasks:
            - container_probe:
                what: reach
                other: "{{ hostvars[peer].me.context_id }}"
              vars:
                peer: "{{ 'via1-1' if inventory_hostname == 'direct' else 'direct' }}"
              register: reach
            - container_probe:
                what: reach
                other: "{{ hostvars['via1-1'].me.context_id }}"
              when: inventory_hostname == 'via1-0'
              register: sibling
            - assert:
                that:
                  - not reach.reached
                  - sibling is skipped or not sibling.reached
                  - sibling is skipped or 'unidirectional' in sibling.msg
    """)
    path = tmp_path / "reach.yml"
    path.write_text(play)
    # One multiplexer: "direct" and the via hosts then share one router, so
    # a refusal proves the routing rule, not a missing route.
    result = harness.run_playbook(str(path), inventory, strategy=harness.MITOGEN,
                                  env=probe_env(tmp_path, MITOGEN_CPU_COUNT="1"))
    assert result.rc == 0, result.describe()
    assert '"reached": true' not in result.stdout


def vanilla_collections():
    """ANSIBLE_COLLECTIONS_PATH holding community.docker, or None."""
    try:
        from tests.debops import collection_cache

        path = collection_cache.collections_path()
    except Exception:
        return None
    return path if os.path.isdir(os.path.join(path, "ansible_collections", "community", "docker")) else None


# Collections of vanilla container plugins that tests/debops does not unpack.
MORE_COLLECTIONS = ("ansible_collections/containers/podman/", "ansible_collections/kubernetes/core/")


def more_vanilla_collections():
    """vanilla_collections() plus containers.podman and kubernetes.core,
    unpacked once from the community wheel tests/debops downloaded."""
    base = vanilla_collections()
    wheels = sorted(glob.glob(os.path.join(cache.cache_dir(), "collections", "ansible-*.whl")))
    if base is None or not wheels:
        return None
    dest = os.path.join(cache.cache_dir(), "collections-containers", os.path.basename(wheels[-1]))
    if not os.path.isdir(dest):
        partial = "%s.%d" % (dest, os.getpid())
        with zipfile.ZipFile(wheels[-1]) as archive:
            archive.extractall(partial, [n for n in archive.namelist() if n.startswith(MORE_COLLECTIONS)])
        try:
            os.rename(partial, dest)
        except OSError:  # another session got there first
            subprocess.run(["rm", "-rf", partial])
    return base + os.pathsep + dest


@pytest.mark.timeout(240)
def test_docker_same_recap_as_vanilla(tmp_path, bed):
    tb, boxes = bed
    inventory = tmp_path / "docker.ini"
    inventory.write_text("[boxes]\n" + "\n".join(
        "box%d ansible_connection=docker ansible_host=%s ansible_python_interpreter=/usr/bin/python3" % (i, name)
        for i, name in enumerate(boxes.names[:2])) + "\n")
    playbook = os.path.join(PLAYBOOK_DIR, "_containers_docker.yml")
    ours = harness.run_playbook(playbook, str(inventory), strategy=harness.MITOGEN)
    assert harness.check_outcome(ours, harness.expectations(playbook)) is None, ours.describe()
    collections = vanilla_collections()
    if collections is None:
        pytest.skip("community.docker unavailable: vanilla comparison not run")
    vanilla = harness.run_playbook(playbook, str(inventory), strategy=harness.VANILLA,
                                   env={"ANSIBLE_COLLECTIONS_PATH": collections})
    assert harness.check_outcome(vanilla, harness.expectations(playbook)) is None, vanilla.describe()
    assert ours.recap == vanilla.recap, (ours.recap, vanilla.recap)


def stub_log(tb) -> list:
    out = tb.targets[0].exec(["cat", "/tmp/mitogen-stub.log"]).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


STUB_SOURCE = os.path.join(harness.REPO_ROOT, "tests", "mitogen", "stubs", "cli_stub.py")
STUB_DIR = "/usr/local/lib/mitogen-stubs"
STUB_LOG = "/tmp/mitogen-stub.log"
PY = "/usr/bin/python3"

# Inventory line of each stubbed connection type -> the command line the
# real tool needs, up to the interpreter.
STUB_HOSTS = {
    "lxc1 ansible_connection=lxc ansible_lxc_host=web1":
        ["lxc-attach", "--clear-env", "--name", "web1", "--"],
    "lxd1 ansible_connection=community.general.lxd ansible_host=web2 ansible_lxd_remote=r1 ansible_lxd_project=p1":
        ["lxc", "exec", "--mode=non-interactive", "--project", "p1", "r1:web2", "--"],
    "incus1 ansible_connection=incus":
        ["incus", "exec", "--mode=non-interactive", "--project", "default", "incus1", "--"],
    "jail1 ansible_connection=community.general.jail ansible_jail_user=mitogen_user":
        ["jexec", "-U", "mitogen_user", "jail1"],
    "kube1 ansible_connection=kubernetes.core.kubectl ansible_kubectl_pod=pod-1 ansible_kubectl_namespace=ns1 "
    "ansible_kubectl_context=ctx1 ansible_kubectl_container=c1 ansible_kubectl_extra_args=--request-timeout=5s":
        ["kubectl", "exec", "-i", "pod-1", "-c", "c1", "-n", "ns1", "--context", "ctx1", "--request-timeout=5s", "--"],
    "mach1 ansible_connection=mitogen_machinectl ansible_user=mitogen_user":
        ["machinectl", "shell", "--quiet", "--uid=mitogen_user", "mach1", "/bin/sh", "-c"],
    "pod1 ansible_connection=podman ansible_podman_extra_args=--remote ansible_user=mitogen_user":
        ["podman", "--remote", "exec", "--interactive", "--user", "mitogen_user", "pod1"],
    "bud1 ansible_connection=containers.podman.buildah":
        ["buildah", "run", "bud1", "--"],
}


def install_stubs(target) -> None:
    """Stand-ins for every container CLI on `target`, logging their argv."""
    target.exec(["mkdir", "-p", STUB_DIR])
    subprocess.run(["docker", "cp", STUB_SOURCE, "%s:%s/cli_stub.py" % (target.container, STUB_DIR)], check=True)
    tools = sorted(set(argv[0] for argv in STUB_HOSTS.values()))
    script = "".join(
        "ln -sf cli_stub.py {d}/{t}; printf '#!/bin/sh\\nMITOGEN_STUB_LOG={log} exec {d}/{t} \"$@\"\\n' "
        "> /usr/local/bin/{t}; chmod 755 /usr/local/bin/{t};".format(d=STUB_DIR, t=tool, log=STUB_LOG)
        for tool in tools)
    proc = target.exec(["sh", "-c", "chmod 755 %s/cli_stub.py; rm -f %s; %s" % (STUB_DIR, STUB_LOG, script)])
    assert proc.returncode == 0, proc.stderr


def command_prefix(argv: list) -> list:
    """A logged tool argv cut where our boot command starts."""
    if argv[0] == "machinectl":
        assert argv[-1].startswith("stty raw -echo 2>/dev/null; exec %s -c " % PY), argv
        return argv[:-1]
    return argv[:argv.index(PY)]


@pytest.mark.timeout(180)
def test_stubbed_container_types_behind_ssh(tmp_path, bed):
    tb, _ = bed
    target = tb.targets[0]
    install_stubs(target)
    t0 = ssh_lines(tb)[0]
    inventory = tmp_path / "stubs.ini"
    inventory.write_text("\n".join(["[targets]", t0, "[stubs]"] + list(STUB_HOSTS) + [
        "[stubs:vars]", "mitogen_via=target-0", "ansible_python_interpreter=" + PY]) + "\n")
    result = harness.run_playbook(os.path.join(PLAYBOOK_DIR, "_containers_stubs.yml"), str(inventory),
                                  strategy=harness.MITOGEN)
    assert result.rc == 0, result.describe()
    assert sorted(result.recap) == sorted(line.split()[0] for line in STUB_HOSTS), result.recap
    logged = [command_prefix(argv) for argv in stub_log(tb)]
    # Each type connected once (one context per host for the whole run).
    assert sorted(logged) == sorted(STUB_HOSTS.values())


@pytest.mark.timeout(180)
def test_stubbed_types_same_recap_as_vanilla(tmp_path):
    # Vanilla podman copies files with `podman cp` even when pipelining, which
    # a stub cannot do; jail needs jls, lxc the python3-lxc bindings.
    collections = more_vanilla_collections()
    if collections is None:
        pytest.skip("community collections unavailable: no vanilla container plugins to compare with")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("lxc", "incus", "kubectl", "buildah"):
        os.symlink(STUB_SOURCE, str(bindir / tool))
    inventory = tmp_path / "stubs-local.ini"
    inventory.write_text(
        "[stubs]\nlxd1 ansible_connection=community.general.lxd ansible_host=web2\n"
        "incus1 ansible_connection=community.general.incus\n"
        "kube1 ansible_connection=kubernetes.core.kubectl ansible_kubectl_pod=pod-1 ansible_kubectl_namespace=ns1\n"
        "bud1 ansible_connection=containers.podman.buildah\n"
        "[stubs:vars]\nansible_python_interpreter=%s\n" % PY)
    playbook = os.path.join(PLAYBOOK_DIR, "_containers_stubs_local.yml")
    results = {}
    for strategy in (harness.VANILLA, harness.MITOGEN):
        log = tmp_path / ("%s.log" % strategy)
        env = {"PATH": "%s%s%s" % (bindir, os.pathsep, os.environ["PATH"]), "MITOGEN_STUB_LOG": str(log),
               "ANSIBLE_COLLECTIONS_PATH": collections}
        results[strategy] = result = harness.run_playbook(playbook, str(inventory), strategy=strategy, env=env)
        assert harness.check_outcome(result, harness.expectations(playbook)) is None, result.describe()
        tools = sorted(json.loads(line)[0] for line in log.read_text().splitlines())
        if strategy == harness.MITOGEN:  # one tool run per host, for the whole playbook
            assert tools == ["buildah", "incus", "kubectl", "lxc"], tools
    assert results[harness.VANILLA].recap == results[harness.MITOGEN].recap
