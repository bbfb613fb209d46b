"""Our Ansible connection types, declared once: TYPES.

Runs on the controller (strategy process, task workers, ansible-doc and the
tests).  Each entry names the connection type (plugin `mitogen_<name>`),
the mitogen method of its login hop (a name of mitogen.parent.METHODS,
whose role tells login from become), the hops it builds from Ansible's
settings (transport_config), the vanilla type it stands in for, the builtin
plugin whose options it accepts, and its own options with their docs.

Derived from it: loaders.CONNECTION_REDIRECTS, the options connection.py
registers, the documentation of the collection's plugins, and the plugin
files themselves (`python -m ansible_mitogen.connection_types` writes them;
tests/ansible/test_connection_types.py checks they are up to date, since
ansible-doc reads DOCUMENTATION without running the file).
"""
import os
import sys
import textwrap
from typing import Callable, Dict, List, NamedTuple, Optional

import mitogen.parent

import ansible_mitogen
from ansible_mitogen import transport_config as tc
from ansible_mitogen.transport_config import Hop, Settings


class ConnectionType(NamedTuple):
    name: str
    #: mitogen method of its login hop (docker falls back to setns with
    #: mitogen_host_python; incus drives the lxd method with the incus CLI).
    method: str
    hops: Callable[[Settings], List[Hop]]
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


def _one(build: Callable[[Settings], Hop]) -> Callable[[Settings], List[Hop]]:
    return lambda s: [build(s)]


def _become(method: str) -> Callable[[Settings], List[Hop]]:
    return lambda s: [s.become_login_hop(method)]


def _container(kind: str, build: Callable[[Settings], Hop]) -> Callable[[Settings], List[Hop]]:
    return lambda s: s.container_hops(kind, build)


TYPES: Dict[str, ConnectionType] = {t.name: t for t in (
    ConnectionType(
        'ssh', 'ssh', _one(Settings.ssh_hop),
        replaces='ssh',
        base="ssh",
        summary='ssh connections',
        short_description='ssh to the target, tasks run in a persistent Mitogen interpreter',
        description=('Accepts every option of the builtin C(ssh) connection plugin (same variables, '
                     'ansible.cfg keys, environment and command-line flags); see C(ansible-doc -t '
                     'connection ssh). Tasks run in a persistent Python interpreter on the target, reached '
                     'through the Mitogen multiplexer of the current run.'),
        options="""
mitogen_ssh_debug_level:
  description: ssh -v count (1-3) logged at -vvv, for troubleshooting.
  type: int
  vars: [{name: mitogen_ssh_debug_level}]
mitogen_ssh_keepalive_interval:
  description: Seconds between ssh keepalive probes (ServerAliveInterval).
  type: int
  default: 30
  vars: [{name: mitogen_ssh_keepalive_interval}]
mitogen_ssh_keepalive_count:
  description: Unanswered keepalives before ssh gives up (ServerAliveCountMax).
  type: int
  default: 10
  vars: [{name: mitogen_ssh_keepalive_count}]
mitogen_ssh_compression:
  description: Enable ssh compression.
  type: bool
  default: true
  vars: [{name: mitogen_ssh_compression}]
""",
    ),
    ConnectionType(
        'local', 'local', _one(Settings.local_hop),
        replaces='local',
        has_tty=False,
        summary='local connections',
        short_description='the controller itself, tasks run in a persistent Mitogen interpreter',
        description=('Accepts every option of the builtin C(local) connection plugin. Tasks run in a '
                     'persistent Python interpreter on the controller, started by the Mitogen multiplexer '
                     'of the current run.'),
    ),
    ConnectionType(
        'sudo', 'sudo', _become("sudo"),
        replaces='sudo',
        summary='sudo from the previous hop (mitogen_via) or the controller',
        short_description='sudo as a connection hop, over Mitogen',
        description=('Switches user with C(sudo) on the controller, or on the last host of C(mitogen_via); '
                     'C(ansible_user) is the account switched to, C(ansible_password) its password. Tasks '
                     'run in a persistent Mitogen interpreter.'),
        options="""
mitogen_sudo_path:
  description: Path of the sudo program.
  vars: [{name: mitogen_sudo_path}, {name: ansible_sudo_exe}]
""",
    ),
    ConnectionType(
        'su', 'su', _become("su"),
        replaces='su',
        summary='su from the previous hop (mitogen_via) or the controller',
        short_description='su as a connection hop, over Mitogen',
        description=('Switches user with C(su) on the controller, or on the last host of C(mitogen_via); '
                     'C(ansible_user) is the account switched to, C(ansible_password) its password. Tasks '
                     'run in a persistent Mitogen interpreter.'),
        options="""
mitogen_su_path:
  description: Path of the su program.
  vars: [{name: mitogen_su_path}, {name: ansible_su_exe}]
""",
    ),
    ConnectionType(
        'doas', 'doas', _become("doas"),
        replaces='doas',
        summary='doas from the previous hop (mitogen_via) or the controller',
        short_description='doas as a connection hop, over Mitogen',
        description=('Switches user with C(doas) on the controller, or on the last host of C(mitogen_via); '
                     'C(ansible_user) is the account switched to, C(ansible_password) its password. Tasks '
                     'run in a persistent Mitogen interpreter.'),
        options="""
mitogen_doas_path:
  description: Path of the doas program.
  vars: [{name: mitogen_doas_path}, {name: ansible_doas_exe}]
""",
    ),
    ConnectionType(
        'docker', 'docker', _container("docker", tc.docker_hop),
        replaces='community.docker.docker',
        summary='a running Docker container (docker exec)',
        short_description='Mitogen interpreter inside a running Docker container',
        description=('Runs tasks in a persistent Mitogen interpreter inside a running Docker container '
                     '(docker exec), reading the same variables as community.docker.docker (and '
                     'C(docker)), which it replaces under our strategies.'),
        options="""
remote_addr:
  description: Name of the container (or pod, jail, machine) to enter.
  vars: [{name: inventory_hostname}, {name: ansible_host}, {name: ansible_docker_host}]
remote_user:
  description: User inside the container (C(docker exec --user)); the image's default user when unset.
  vars: [{name: ansible_user}, {name: ansible_docker_user}]
  env: [{name: ANSIBLE_REMOTE_USER}]
  ini: [{section: defaults, key: remote_user}]
  cli: [{name: user}]
  keyword: [{name: remote_user}]
docker_extra_args:
  description: Extra arguments placed before C(exec), e.g. C(-H ssh://host) or C(--context name).
  default: ""
  vars: [{name: ansible_docker_extra_args}]
  ini: [{section: docker_connection, key: extra_cli_args}]
container_timeout:
  description: Seconds the container tool may take to start our interpreter
    (30 more are allowed for Python to boot).
  type: int
  default: 10
  vars: [{name: ansible_docker_timeout}]
  env: [{name: ANSIBLE_TIMEOUT}, {name: ANSIBLE_DOCKER_TIMEOUT}]
  ini: [{section: defaults, key: timeout}, {section: docker_connection, key: timeout}]
  cli: [{name: timeout}]
extra_env:
  description: Environment variables set for the interpreter (C(docker exec --env)).
  type: dict
  vars: [{name: ansible_docker_extra_env}]
working_dir:
  description: Working directory of the interpreter (C(docker exec --workdir)).
  vars: [{name: ansible_docker_working_dir}]
  env: [{name: ANSIBLE_DOCKER_WORKING_DIR}]
  ini: [{section: docker_connection, key: working_dir}]
privileged:
  description: Run with extended privileges (C(docker exec --privileged)).
  type: bool
  default: false
  vars: [{name: ansible_docker_privileged}]
  env: [{name: ANSIBLE_DOCKER_PRIVILEGED}]
  ini: [{section: docker_connection, key: privileged}]
mitogen_host_python:
  description: The container has no Python; start the host's interpreter
    (C(ansible_python_interpreter) names it) inside the container's
    namespaces through setns. Needs root on the container host.
  type: bool
  default: false
  vars: [{name: mitogen_host_python}]
mitogen_docker_path:
  description: Path of the C(docker) program on the controller or the mitogen_via host.
  vars: [{name: mitogen_docker_path}]
""",
    ),
    ConnectionType(
        'podman', 'podman', _container("podman", tc.podman_hop),
        replaces='containers.podman.podman',
        summary='a running Podman container (podman exec)',
        short_description='Mitogen interpreter inside a running Podman container',
        description=('Runs tasks in a persistent Mitogen interpreter inside a running Podman container '
                     '(podman exec), reading the same variables as containers.podman.podman (and '
                     'C(podman)), which it replaces under our strategies.'),
        options="""
remote_addr:
  description: Name of the container (or pod, jail, machine) to enter.
  vars: [{name: ansible_host}, {name: inventory_hostname}, {name: ansible_podman_host}]
remote_user:
  description: User inside the container (C(podman exec --user)).
  vars: [{name: ansible_user}]
  env: [{name: ANSIBLE_REMOTE_USER}]
  ini: [{section: defaults, key: remote_user}]
  cli: [{name: user}]
  keyword: [{name: remote_user}]
podman_extra_args:
  description: Extra arguments placed before C(exec), e.g. C(--remote).
  default: ""
  vars: [{name: ansible_podman_extra_args}]
  env: [{name: ANSIBLE_PODMAN_EXTRA_ARGS}]
  ini: [{section: defaults, key: podman_extra_args}]
podman_executable:
  description: Path of the C(podman) program (also C(mitogen_podman_path)).
  vars: [{name: ansible_podman_executable}]
  env: [{name: ANSIBLE_PODMAN_EXECUTABLE}]
mitogen_podman_path:
  description: Path of the C(podman) program on the controller or the mitogen_via host.
  vars: [{name: mitogen_podman_path}]
""",
    ),
    ConnectionType(
        'buildah', 'buildah', _container("buildah", tc.buildah_hop),
        replaces='containers.podman.buildah',
        summary='a Buildah working container (buildah run)',
        short_description='Mitogen interpreter inside a Buildah working container',
        description=('Runs tasks in a persistent Mitogen interpreter inside a Buildah working container '
                     '(buildah run), reading the same variables as containers.podman.buildah (and '
                     'C(buildah)), which it replaces under our strategies.'),
        options="""
remote_addr:
  description: Name of the container (or pod, jail, machine) to enter.
  vars: [{name: ansible_host}, {name: inventory_hostname}]
remote_user:
  description: User inside the container (C(buildah run --user)).
  vars: [{name: ansible_user}]
  env: [{name: ANSIBLE_REMOTE_USER}]
  ini: [{section: defaults, key: remote_user}]
  cli: [{name: user}]
  keyword: [{name: remote_user}]
mitogen_buildah_path:
  description: Path of the C(buildah) program on the controller or the mitogen_via host.
  vars: [{name: mitogen_buildah_path}]
""",
    ),
    ConnectionType(
        'lxc', 'lxc', _container("lxc", tc.lxc_hop),
        replaces='community.general.lxc',
        summary='a classic LXC container (lxc-attach)',
        short_description='Mitogen interpreter inside a classic LXC container',
        description=('Runs tasks in a persistent Mitogen interpreter inside a classic LXC container (lxc-'
                     'attach), reading the same variables as community.general.lxc (and C(lxc)), which it '
                     'replaces under our strategies.'),
        options="""
remote_addr:
  description: Name of the container (or pod, jail, machine) to enter.
  vars: [{name: inventory_hostname}, {name: ansible_host}, {name: ansible_lxc_host}]
lxc_attach_path:
  description: Path of the C(lxc-attach) program on the controller or the mitogen_via host.
  vars: [{name: mitogen_lxc_attach_path}]
""",
    ),
    ConnectionType(
        'lxd', 'lxd', _container("lxd", lambda s: tc.lxd_like_hop(s, "lxc")),
        replaces='community.general.lxd',
        summary='an LXD instance (lxc exec)',
        short_description='Mitogen interpreter inside an LXD instance',
        description=('Runs tasks in a persistent Mitogen interpreter inside an LXD instance (lxc exec), '
                     'reading the same variables as community.general.lxd (and C(lxd)), which it replaces '
                     'under our strategies.'),
        options="""
remote_addr:
  description: Name of the container (or pod, jail, machine) to enter.
  vars: [{name: inventory_hostname}, {name: ansible_host}, {name: ansible_lxd_host}]
remote_user:
  description: User to run as inside the instance; other than root, a C(su) hop follows the C(lxc exec).
  vars: [{name: ansible_user}]
remote:
  description: LXD remote holding the instance; other than C(local) the instance is addressed as C(remote:name).
  default: local
  vars: [{name: ansible_lxd_remote}]
project:
  description: LXD project of the instance (C(lxc exec --project)).
  vars: [{name: ansible_lxd_project}]
lxc_path:
  description: Path of the LXD client C(lxc) on the controller or the mitogen_via host.
  vars: [{name: mitogen_lxc_path}]
""",
    ),
    ConnectionType(
        'incus', 'lxd', _container("incus", lambda s: tc.lxd_like_hop(s, "incus")),
        replaces='community.general.incus',
        summary='an Incus instance (incus exec)',
        short_description='Mitogen interpreter inside an Incus instance',
        description=('Runs tasks in a persistent Mitogen interpreter inside an Incus instance (incus '
                     'exec), reading the same variables as community.general.incus (and C(incus)), which '
                     'it replaces under our strategies.'),
        options="""
remote_addr:
  description: Name of the container (or pod, jail, machine) to enter.
  vars: [{name: inventory_hostname}, {name: ansible_host}, {name: ansible_incus_host}]
remote_user:
  description: User to run as inside the instance; other than root, a C(su) hop follows the C(incus exec).
  vars: [{name: ansible_user}]
remote:
  description: Incus remote holding the instance; other than C(local) the instance is addressed as C(remote:name).
  default: local
  vars: [{name: ansible_incus_remote}]
project:
  description: Incus project of the instance (C(incus exec --project)).
  default: default
  vars: [{name: ansible_incus_project}]
incus_path:
  description: Path of the C(incus) client on the controller or the mitogen_via host.
  vars: [{name: mitogen_incus_path}]
""",
    ),
    ConnectionType(
        'jail', 'jail', _container("jail", tc.jail_hop),
        replaces='community.general.jail',
        summary='a FreeBSD jail (jexec)',
        short_description='Mitogen interpreter inside a FreeBSD jail',
        description=('Runs tasks in a persistent Mitogen interpreter inside a FreeBSD jail (jexec), '
                     'reading the same variables as community.general.jail (and C(jail)), which it '
                     'replaces under our strategies.'),
        options="""
remote_addr:
  description: Name of the container (or pod, jail, machine) to enter.
  vars: [{name: inventory_hostname}, {name: ansible_host}, {name: ansible_jail_host}]
remote_user:
  description: User inside the jail (C(jexec -U)).
  vars: [{name: ansible_user}, {name: ansible_jail_user}]
mitogen_jexec_path:
  description: Path of the C(jexec) program on the controller or the mitogen_via host.
  vars: [{name: mitogen_jexec_path}]
""",
    ),
    ConnectionType(
        'kubectl', 'kubectl', _container("kubectl", tc.kubectl_hop),
        replaces='kubernetes.core.kubectl',
        summary='a Kubernetes pod (kubectl exec)',
        short_description='Mitogen interpreter inside a Kubernetes pod',
        description=('Runs tasks in a persistent Mitogen interpreter inside a Kubernetes pod (kubectl '
                     'exec), reading the same variables as kubernetes.core.kubectl (and C(kubectl)), which '
                     'it replaces under our strategies.'),
        options="""
remote_addr:
  description: Name of the container (or pod, jail, machine) to enter.
  vars: [{name: inventory_hostname}, {name: ansible_host}]
kubectl_pod:
  description: Pod name; the host's address when unset.
  vars: [{name: ansible_kubectl_pod}]
  env: [{name: K8S_AUTH_POD}]
kubectl_container:
  description: Container of the pod (C(-c)).
  vars: [{name: ansible_kubectl_container}]
  env: [{name: K8S_AUTH_CONTAINER}]
kubectl_namespace:
  description: Namespace (C(-n)).
  vars: [{name: ansible_kubectl_namespace}]
  env: [{name: K8S_AUTH_NAMESPACE}]
kubectl_extra_args:
  description: Extra arguments, split on spaces.
  vars: [{name: ansible_kubectl_extra_args}]
  env: [{name: K8S_AUTH_EXTRA_ARGS}]
kubectl_kubeconfig:
  description: Path of the kubeconfig file (C(--kubeconfig)).
  vars: [{name: ansible_kubectl_kubeconfig}, {name: ansible_kubectl_config}]
  env: [{name: K8S_AUTH_KUBECONFIG}]
kubectl_context:
  description: kubeconfig context (C(--context)).
  vars: [{name: ansible_kubectl_context}]
  env: [{name: K8S_AUTH_CONTEXT}]
kubectl_host:
  description: API server URL (C(--server)).
  vars: [{name: ansible_kubectl_host}, {name: ansible_kubectl_server}]
  env: [{name: K8S_AUTH_HOST}, {name: K8S_AUTH_SERVER}]
kubectl_username:
  description: API user (C(--username)).
  vars: [{name: ansible_kubectl_username}, {name: ansible_kubectl_user}]
  env: [{name: K8S_AUTH_USERNAME}]
kubectl_password:
  description: API password (C(--password)).
  vars: [{name: ansible_kubectl_password}]
  env: [{name: K8S_AUTH_PASSWORD}]
kubectl_token:
  description: API token (C(--token)).
  vars: [{name: ansible_kubectl_token}, {name: ansible_kubectl_api_key}]
  env: [{name: K8S_AUTH_TOKEN}, {name: K8S_AUTH_API_KEY}]
client_cert:
  description: Client certificate (C(--client-certificate)).
  vars: [{name: ansible_kubectl_cert_file}, {name: ansible_kubectl_client_cert}]
  env: [{name: K8S_AUTH_CERT_FILE}]
client_key:
  description: Client key (C(--client-key)).
  vars: [{name: ansible_kubectl_key_file}, {name: ansible_kubectl_client_key}]
  env: [{name: K8S_AUTH_KEY_FILE}]
ca_cert:
  description: CA certificate (C(--certificate-authority)).
  vars: [{name: ansible_kubectl_ssl_ca_cert}, {name: ansible_kubectl_ca_cert}]
  env: [{name: K8S_AUTH_SSL_CA_CERT}]
validate_certs:
  description: Verify the API server certificate (false gives C(--insecure-skip-tls-verify=true)).
  vars: [{name: ansible_kubectl_verify_ssl}, {name: ansible_kubectl_validate_certs}]
  env: [{name: K8S_AUTH_VERIFY_SSL}]
mitogen_kubectl_path:
  description: Path of the C(kubectl) program on the controller or the mitogen_via host.
  vars: [{name: mitogen_kubectl_path}]
""",
    ),
    ConnectionType(
        'machinectl', 'machinectl', _container("machinectl", tc.machinectl_hop),
        summary='a systemd-nspawn machine (machinectl shell)',
        short_description='Mitogen interpreter inside a systemd-nspawn machine',
        description=('Runs tasks in a persistent Mitogen interpreter inside a systemd-nspawn machine '
                     '(machinectl shell).'),
        options="""
remote_addr:
  description: Name of the container (or pod, jail, machine) to enter.
  vars: [{name: inventory_hostname}, {name: ansible_host}]
remote_user:
  description: User inside the machine (C(machinectl shell --uid)).
  vars: [{name: ansible_user}]
mitogen_machinectl_path:
  description: Path of the C(machinectl) program on the controller or the mitogen_via host.
  vars: [{name: mitogen_machinectl_path}]
""",
    ),
    ConnectionType(
        'setns', 'setns', _container("setns", tc.setns_hop),
        summary="a container's namespaces, entered directly (setns, no container CLI; root on the container host)",
        short_description="Mitogen interpreter inside a container's namespaces, entered directly",
        description=("Runs tasks in a persistent Mitogen interpreter inside a container's namespaces, "
                     'entered directly (setns, no container CLI; root on the container host).'),
        options="""
remote_addr:
  description: Name of the container (or pod, jail, machine) to enter.
  vars: [{name: inventory_hostname}, {name: ansible_host}]
remote_user:
  description: User inside the container, looked up in its own passwd file.
  vars: [{name: ansible_user}]
mitogen_kind:
  description: Which tool names the container's first process, C(docker), C(lxc), C(lxd) or C(machinectl).
  default: docker
  vars: [{name: mitogen_kind}]
lxc_info_path:
  description: Path of C(lxc-info) (kind C(lxc)).
  vars: [{name: mitogen_lxc_info_path}]
mitogen_host_python:
  description: For containers without Python, run the interpreter of the container host
    (named by C(ansible_python_interpreter)) in the container.
  type: bool
  vars: [{name: mitogen_host_python}]
mitogen_docker_path:
  description: Path of the C(docker) program on the controller or the mitogen_via host.
  vars: [{name: mitogen_docker_path}]
mitogen_lxc_path:
  description: Path of the C(lxc) program on the controller or the mitogen_via host.
  vars: [{name: mitogen_lxc_path}]
mitogen_machinectl_path:
  description: Path of the C(machinectl) program on the controller or the mitogen_via host.
  vars: [{name: mitogen_machinectl_path}]
""",
    ),
)}

#: Become methods (sudo, su, doas) the connection plugins implement as a hop.
BECOME_METHODS = mitogen.parent.methods_with_role("become")


def redirects() -> Dict[str, str]:
    """Connection type -> ours, for loaders: bare, ansible.builtin./legacy. and FQCN forms."""
    out: Dict[str, str] = {}
    for t in TYPES.values():
        if t.replaces:
            for name in (t.replaces, t.name, "ansible.builtin." + t.name, "ansible.legacy." + t.name):
                out[name] = t.plugin
    return out


# -- plugin files -------------------------------------------------------------

_PLUGIN = '''"""Connection type `%(plugin)s`: %(summary)s, over Mitogen.

%(loaded)s

Generated from ansible_mitogen.connection_types.TYPES["%(name)s"] by
`python -m ansible_mitogen.connection_types`: edit the table, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.connection  # noqa: E402

DOCUMENTATION = """%(documentation)s"""

Connection = ansible_mitogen.connection.connection_type("%(name)s", __name__)
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
