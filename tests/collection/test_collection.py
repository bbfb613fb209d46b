"""The accel.mitogen collection as users meet it: fresh venv, FQCN, legacy, galaxy.

Runs on the controller against real ansible-playbook / ansible-doc /
ansible-galaxy processes of the session's fresh virtualenv (conftest.py),
on localhost and, for ssh, a test-bed target.
"""
import glob
import json
import os
import re
import shutil
import sys

import pytest
import yaml

from ansible_mitogen import collection
from tests.collection.conftest import REPO_ROOT

COLLECTION_DIR = os.path.join(REPO_ROOT, "ansible_collections", collection.NAMESPACE, collection.NAME)
PYTHON = "/usr/bin/python3"  # on localhost; the PATH may hold broken shims
LOCALHOST = "localhost ansible_connection=local ansible_python_interpreter=%s\n" % PYTHON

# get_stack only answers over our connections: proof that the run was ours.
STACK_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - accel.mitogen.mitogen_get_stack:
      register: stack
    - command: echo collection-ok
      register: echo
    - assert:
        that:
          - stack is not skipped
          - stack.result | length > 0
          - echo.stdout == "collection-ok"
    - debug:
        msg: "method={{ stack.result[-1].method }}"
"""


def _cfg(workdir, text: str) -> None:
    with open(os.path.join(str(workdir), "ansible.cfg"), "w") as fp:
        fp.write(text)


def _ok(proc, method: str = "local") -> None:
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert "method=%s" % method in proc.stdout, proc.stdout[-6000:]


def _plugins(plugin_type: str):
    return [collection.fqcn(name) for name in collection.plugin_names(plugin_type)]


def test_every_plugin_has_a_collection_entry_point():
    for plugin_type in ("strategy", "connection", "action", "vars"):
        for name in collection.plugin_names(plugin_type):
            path = os.path.join(COLLECTION_DIR, "plugins", plugin_type, name + ".py")
            assert os.path.exists(path), "no collection entry point for %s %s" % (plugin_type, name)


def test_collection_version_follows_the_package():
    with open(os.path.join(COLLECTION_DIR, "galaxy.yml")) as fp:
        galaxy = yaml.safe_load(fp)
    with open(os.path.join(REPO_ROOT, "pyproject.toml")) as fp:
        package = re.search(r'^version = "([^"]+)"', fp.read(), re.M).group(1)
    assert (galaxy["namespace"], galaxy["name"], galaxy["version"]) == (collection.NAMESPACE, collection.NAME, package)


def test_pip_installs_the_collection_into_site_packages(fresh_venv):
    installed = os.path.join(fresh_venv.site_packages(), "ansible_collections", "accel", "mitogen")
    assert os.path.exists(os.path.join(installed, "galaxy.yml"))
    assert os.path.exists(os.path.join(installed, "plugins", "strategy", "mitogen_linear.py"))
    assert not os.path.exists(os.path.join(fresh_venv.site_packages(), "ansible_mitogen", "..", "tests"))


FETCH_TASK = """
    - fetch:
        src: /etc/os-release
        dest: "{{ playbook_dir }}/fetched"
        flat: true
    - accel.mitogen.mitogen_fetch:
        src: /etc/os-release
        dest: "{{ playbook_dir }}/fetched-by-fqcn"
        flat: true
"""


def test_one_line_in_ansible_cfg_is_enough(fresh_venv, tmp_path):
    _cfg(tmp_path, "[defaults]\nstrategy = accel.mitogen.mitogen_linear\n")
    _ok(fresh_venv.playbook(str(tmp_path), STACK_PLAY + FETCH_TASK, LOCALHOST))
    for fetched in ("fetched", "fetched-by-fqcn"):
        with open("/etc/os-release") as want, open(str(tmp_path / fetched)) as got:
            assert got.read() == want.read()


VARS_LINE = "vars_plugins_enabled = host_group_vars, accel.mitogen.accelerate\n"


@pytest.mark.parametrize("strategy", ["", "strategy = free\n", "strategy = ansible.builtin.host_pinned\n"])
def test_vars_plugin_line_is_enough(fresh_venv, tmp_path, strategy):
    """The entry point without a strategy plugin: no deprecation warning, accelerated."""
    _cfg(tmp_path, "[defaults]\n" + VARS_LINE + strategy + "deprecation_warnings = True\n")
    # an inventory file: ansible-core runs no vars plugin for a host list
    proc = fresh_venv.playbook(str(tmp_path), STACK_PLAY + FETCH_TASK, LOCALHOST)
    _ok(proc)
    assert "DEPRECATION" not in proc.stdout, proc.stdout
    with open("/etc/os-release") as want, open(str(tmp_path / "fetched")) as got:
        assert got.read() == want.read()


def test_vars_plugin_leaves_other_strategies_alone(fresh_venv, tmp_path):
    _cfg(tmp_path, "[defaults]\n" + VARS_LINE + "strategy = debug\n")
    proc = fresh_venv.playbook(str(tmp_path), STACK_PLAY, LOCALHOST)
    # get_stack skips outside our connections, so its assert fails
    assert proc.returncode != 0 and "stack is not skipped" in proc.stdout, proc.stdout[-3000:]


def test_ansible_doc_for_the_vars_plugin(fresh_venv):
    name = collection.fqcn("accelerate")
    proc = fresh_venv.run([fresh_venv.bin("ansible-doc"), "-t", "vars", "--json", name])
    assert proc.returncode == 0, proc.stdout
    doc = json.loads(proc.stdout)[name]["doc"]
    assert "linear" in " ".join(doc["description"]) and any("vars_plugins_enabled" in n for n in doc["notes"]), doc


@pytest.mark.parametrize("strategy", ["mitogen_free", "mitogen_host_pinned", "mitogen"])
def test_strategy_from_environment(fresh_venv, tmp_path, strategy):
    env = {"ANSIBLE_STRATEGY": collection.fqcn(strategy)}
    _ok(fresh_venv.playbook(str(tmp_path), STACK_PLAY, LOCALHOST, env=env))


def test_legacy_strategy_plugins_path(fresh_venv, tmp_path):
    # The pre-collection way: paths printed by `python -m ansible_mitogen`.
    paths = fresh_venv.run([fresh_venv.python, "-m", "ansible_mitogen"])
    assert paths.returncode == 0, paths.stdout
    lines = paths.stdout.splitlines()
    assert lines[0].startswith(fresh_venv.site_packages())
    settings = [line for line in lines[1:] if re.match(r"^\w+_plugins = ", line)]
    _cfg(tmp_path, "[defaults]\n%s\nstrategy = mitogen_linear\n" % "\n".join(settings))
    play = STACK_PLAY.replace("accel.mitogen.mitogen_get_stack", "mitogen_get_stack")
    _ok(fresh_venv.playbook(str(tmp_path), play, LOCALHOST))


@pytest.mark.parametrize("connection,method", [("mitogen_local", "local"), ("mitogen_sudo", "sudo")])
def test_controller_connection_by_fqcn(fresh_venv, tmp_path, connection, method):
    if method == "sudo" and (os.geteuid() != 0 or not shutil.which("sudo")):
        pytest.skip("needs root and sudo on the controller")
    _cfg(tmp_path, "[defaults]\nstrategy = accel.mitogen.mitogen_linear\n")
    inventory = LOCALHOST.replace("ansible_connection=local", "ansible_user=nobody ansible_connection="
                                  + collection.fqcn(connection))
    _ok(fresh_venv.playbook(str(tmp_path), STACK_PLAY, inventory), method=method)


def test_connection_by_fqcn_over_ssh(fresh_venv, tmp_path, testbed):
    _cfg(tmp_path, "[defaults]\nstrategy = accel.mitogen.mitogen_linear\n")
    proc = fresh_venv.playbook(str(tmp_path), STACK_PLAY, open(testbed.inventory).read(),
                               args=["-e", "ansible_connection=accel.mitogen.mitogen_ssh"])
    _ok(proc, method="ssh")


def test_connection_classes_and_options_by_fqcn(fresh_venv):
    # Loads each FQCN connection the way TaskExecutor does and reads the
    # option definitions ansible registered for it.
    script = """
import json, sys
from ansible import constants as C
from ansible.plugins.loader import connection_loader, init_plugin_loader
import ansible_mitogen.executor.connection
init_plugin_loader()
out = {}
for name in sys.argv[1:]:
    cls = connection_loader.get(name, class_only=True)
    out[name] = [issubclass(cls, ansible_mitogen.executor.connection.Connection), cls.ansible_name,
                 sorted(C.config.get_configuration_definitions("connection", cls._load_name))]
print(json.dumps(out))
"""
    names = _plugins("connection")
    proc = fresh_venv.run([fresh_venv.python, "-c", script] + names)
    assert proc.returncode == 0, proc.stdout
    loaded = json.loads(proc.stdout.splitlines()[-1])
    for name in names:
        is_ours, ansible_name, options = loaded[name]
        assert is_ours and ansible_name == name
        assert "mitogen_via" in options and "pipelining" in options, options
    assert {"remote_user", "private_key_file", "ssh_args"} <= set(loaded[collection.fqcn("mitogen_ssh")][2])


def test_galaxy_tarball_installs_and_runs(fresh_venv, tmp_path):
    source = os.path.join(fresh_venv.source, "ansible_collections", "accel", "mitogen")
    built = fresh_venv.run([fresh_venv.bin("ansible-galaxy"), "collection", "build", source,
                            "--output-path", str(tmp_path)])
    assert built.returncode == 0, built.stdout
    (tarball,) = glob.glob(str(tmp_path / "accel-mitogen-*.tar.gz"))
    colls = str(tmp_path / "collections")
    # Only the galaxy copy is visible: sys.path scanning (which finds the
    # pip-installed copy, and makes galaxy say "already installed") is off.
    env = {"ANSIBLE_COLLECTIONS_PATH": colls, "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False"}
    installed = fresh_venv.run([fresh_venv.bin("ansible-galaxy"), "collection", "install", "-p", colls, tarball],
                               env=env)
    assert installed.returncode == 0, installed.stdout
    assert os.path.exists(os.path.join(colls, "ansible_collections", "accel", "mitogen", "MANIFEST.json"))

    _cfg(tmp_path, "[defaults]\nstrategy = accel.mitogen.mitogen_linear\n")
    _ok(fresh_venv.playbook(str(tmp_path), STACK_PLAY, LOCALHOST, env=env))
    doctor = fresh_venv.run([fresh_venv.python, "-m", "ansible_mitogen", "doctor"], cwd=str(tmp_path), env=env)
    assert doctor.returncode == 0, doctor.stdout
    assert colls in doctor.stdout and "from a collections path" in doctor.stdout, doctor.stdout


@pytest.mark.parametrize("plugin_type", ["strategy", "connection"])
def test_ansible_doc_shows_every_plugin(fresh_venv, plugin_type):
    names = _plugins(plugin_type)
    proc = fresh_venv.run([fresh_venv.bin("ansible-doc"), "-t", plugin_type, "--json"] + names)
    assert proc.returncode == 0, proc.stdout
    docs = json.loads(proc.stdout)
    for name in names:
        doc = docs[name]["doc"]
        assert "Mitogen" in " ".join(doc["description"]) + doc["short_description"], doc
        assert collection.fqcn(doc["name"]) == name
    if plugin_type == "connection":
        builtin = fresh_venv.run([fresh_venv.bin("ansible-doc"), "-t", "connection", "--json", "ssh"])
        ssh_options = set(json.loads(builtin.stdout)["ssh"]["doc"]["options"])
        ours = docs[collection.fqcn("mitogen_ssh")]["doc"]["options"]
        assert ssh_options <= set(ours) and "mitogen_via" in ours
    text = fresh_venv.run([fresh_venv.bin("ansible-doc"), "-t", plugin_type, names[0]])
    assert text.returncode == 0 and names[0] in text.stdout, text.stdout
    # --list reads short_description straight from each file's text.
    listed = fresh_venv.run([fresh_venv.bin("ansible-doc"), "-t", plugin_type, "--list", "--json", "accel.mitogen"])
    assert listed.returncode == 0, listed.stdout
    shorts = json.loads(listed.stdout[listed.stdout.index("{"):])
    assert sorted(shorts) == sorted(names)
    assert all(short and '"' not in short for short in shorts.values()), shorts


def _module_doc(fresh_venv, name: str):
    # Actions have no ansible-doc type; a documentation-only module stands in.
    proc = fresh_venv.run([fresh_venv.bin("ansible-doc"), "-t", "module", "--json", name])
    assert proc.returncode == 0, proc.stdout
    return json.loads(proc.stdout)[name]


def test_ansible_doc_for_the_action(fresh_venv):
    doc = _module_doc(fresh_venv, collection.fqcn("mitogen_get_stack"))
    assert "hops used to reach this host" in " ".join(doc["doc"]["description"]), doc
    assert "result" in doc["return"]


def test_ansible_doc_for_fetch_reuses_the_builtin_options(fresh_venv):
    doc = _module_doc(fresh_venv, collection.fqcn("mitogen_fetch"))
    assert "streams the file back" in " ".join(doc["doc"]["description"]), doc
    assert {"src", "dest", "flat", "validate_checksum"} <= set(doc["doc"]["options"]), doc


def test_doctor_enabled(fresh_venv, tmp_path):
    _cfg(tmp_path, "[defaults]\nstrategy = accel.mitogen.mitogen_free\n")
    proc = fresh_venv.run([fresh_venv.python, "-m", "ansible_mitogen", "doctor"], cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout
    import ansible.release

    assert re.search(r"^ansible-core:\s+%s$" % re.escape(ansible.release.__version__), proc.stdout, re.M)
    assert re.search(r"^ansible-mitogen-accel:\s+0\.", proc.stdout, re.M), proc.stdout
    assert "bundled with the Python package" in proc.stdout
    assert os.path.join(str(tmp_path), "ansible.cfg") in proc.stdout
    assert "OK:" in proc.stdout


def test_doctor_not_enabled_says_what_to_add(fresh_venv, tmp_path):
    proc = fresh_venv.run([fresh_venv.python, "-m", "ansible_mitogen", "doctor"], cwd=str(tmp_path),
                          env={"ANSIBLE_STRATEGY": "host_pinned"})
    assert proc.returncode == 1, proc.stdout
    assert "NOT ENABLED" in proc.stdout
    assert re.search(r"^entry point:\s+none$", proc.stdout, re.M), proc.stdout
    # both entry points, the vars plugin first
    vars_at = proc.stdout.index("    " + VARS_LINE)
    assert vars_at < proc.stdout.index("    strategy = accel.mitogen.mitogen_host_pinned\n")
    assert "unset ANSIBLE_STRATEGY" in proc.stdout


def test_doctor_vars_plugin_entry_point(fresh_venv, tmp_path):
    _cfg(tmp_path, "[defaults]\nvars_plugins_enabled = host_group_vars,accel.mitogen.accelerate\nstrategy = free\n")
    proc = fresh_venv.run([fresh_venv.python, "-m", "ansible_mitogen", "doctor"], cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout
    assert re.search(r"^entry point:\s+vars plugin accel.mitogen.accelerate \(builtin strategy free", proc.stdout,
                     re.M), proc.stdout
    import ansible.release

    assert re.search(r"^supported:\s+yes: ansible-core %s on controller Python %d\.%d" % (
        re.escape(ansible.release.__version__), sys.version_info[0], sys.version_info[1]), proc.stdout, re.M)
    # ansible-core runs no vars plugin for a host list: doctor says so
    assert "comma-separated host list" in proc.stdout, proc.stdout


def test_doctor_vars_plugin_with_an_unaccelerated_strategy(fresh_venv, tmp_path):
    _cfg(tmp_path, "[defaults]\n" + VARS_LINE + "strategy = debug\n")
    proc = fresh_venv.run([fresh_venv.python, "-m", "ansible_mitogen", "doctor"], cwd=str(tmp_path))
    assert proc.returncode == 1, proc.stdout
    assert "accelerates only the builtin linear, free, host_pinned strategies" in proc.stdout


def test_doctor_short_name_without_path(fresh_venv, tmp_path):
    _cfg(tmp_path, "[defaults]\nstrategy = mitogen_free\n")
    proc = fresh_venv.run([fresh_venv.python, "-m", "ansible_mitogen", "doctor"], cwd=str(tmp_path))
    assert proc.returncode == 1, proc.stdout
    assert "finds no strategy 'mitogen_free'" in proc.stdout
    assert "Replace the strategy line under [defaults] in %s" % (tmp_path / "ansible.cfg") in proc.stdout
    assert "    strategy = accel.mitogen.mitogen_free\n" in proc.stdout
