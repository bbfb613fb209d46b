"""Turns Ansible's connection settings into a stack of Mitogen hops.

Runs in task workers (and the strategy process for `meta:
reset_connection`).  It reads every setting the vanilla ssh/local
connection plugins and sudo/su/doas become plugins read -- through the
connection's and become plugin's `get_option()` (vars, config, env, CLI),
the PlayContext (-k/-K passwords) and the task vars for `mitogen_*`
variables -- and returns plain dicts that the multiplexer's ContextService
turns into `router.<method>(**kwargs)` calls.

A hop is `{"method": name, "kwargs": {...}}`; a stack is a list of hops,
first hop nearest the controller.  The login hop of each connection type
is built as connection_types.yml declares it (`login_hops`): most
containers as a mapping of keywords evaluated here (`declared_hop`), the
rest by a Settings method or a builder function below.
"""
import getpass
import os
import shlex
import socket
from typing import Any, Callable, Dict, List, Optional

from ansible_mitogen import connection_types
from ansible_mitogen.multiplexer import process

Hop = Dict[str, Any]

SECRET_KEYS = frozenset(("password",))
MASKED = "********"
FIXED_REMOTE_NAME = "python(mitogen:ansible)"
DEFAULT_KEEPALIVE_INTERVAL = 30
DEFAULT_KEEPALIVE_COUNT = 10
BOOT_ALLOWANCE = 30  # seconds for Python to start once ssh is connected

# Shell run as the "interpreter" under auto discovery: execs the first
# Python of Ansible's fallback list, passing our boot arguments through.
# Every user-supplied string in it is one shlex-quoted word: nothing of the
# fallback list is ever expanded or run by the shell.
_DISCOVERY_SCRIPT = (
    'for p in %s; do command -v "$p" >/dev/null 2>&1 && exec "$p" "$@"; done; '
    "printf '%%s\\n' %s >&2; exit 127"
)

def remote_name(mask: bool) -> str:
    """argv[0] of our interpreters on targets: python(mitogen:USER@CONTROLLER:PID)."""
    if mask:
        return FIXED_REMOTE_NAME
    host = socket.gethostname().split(".")[0]
    return "python(mitogen:%s@%s:%d)" % (getpass.getuser(), host, process.controller_pid())


def private_key_file(key_data: str) -> str:
    """Path of a controller file (mode 0600) holding `key_data`: ansible's
    per-run local temp dir, named after the key's digest, written once."""
    import hashlib

    from ansible import constants as C

    data = key_data.strip() + "\n"
    path = os.path.join(C.DEFAULT_LOCAL_TMP, "mitogen-key-%s" % hashlib.sha256(data.encode()).hexdigest()[:16])
    if not os.path.exists(path):
        os.makedirs(C.DEFAULT_LOCAL_TMP, mode=0o700, exist_ok=True)
        fd = os.open(path + ".%d" % os.getpid(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fp:
            fp.write(data)
        os.rename(path + ".%d" % os.getpid(), path)
    return path


def to_bool(value: Any, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "yes", "true", "on", "y")


def to_int(value: Any, default: Optional[int] = None) -> Optional[int]:
    if value is None or value == "":
        return default
    return int(value)


def split_args(*values: Any) -> List[str]:
    """ssh_args / ssh_common_args / ssh_extra_args strings -> one argv list."""
    out: List[str] = []
    for value in values:
        if isinstance(value, (list, tuple)):
            out.extend(str(v) for v in value)
        elif value:
            out.extend(shlex.split(str(value)))
    return out


# ssh connection sharing is vanilla's way to amortise logins; we keep one
# connection for the whole run instead, and a ControlPersist master would
# fork into the background still holding our boot pipes.
_CONNECTION_SHARING = ("controlmaster", "controlpersist", "controlpath")


def _is_sharing_option(value: str) -> bool:
    return value.replace(" ", "=").split("=", 1)[0].strip().lower() in _CONNECTION_SHARING


def ssh_client_args(*values: Any) -> List[str]:
    """split_args() without the ssh connection-sharing options."""
    out: List[str] = []
    pending_o = False
    for arg in split_args(*values):
        if pending_o:
            pending_o = False
            if not _is_sharing_option(arg):
                out += ["-o", arg]
        elif arg == "-o":
            pending_o = True
        elif not (arg.startswith("-o") and _is_sharing_option(arg[2:])):
            out.append(arg)
    return out


def python_path(interpreter: Optional[str], fallback: List[str]) -> List[str]:
    """argv prefix that starts the target's Python.

    Paths and `/usr/bin/env python3`-style values are split like a shell
    would; `auto`, `auto_silent` and `auto_legacy*` discover the first
    interpreter of Ansible's INTERPRETER_PYTHON_FALLBACK list on the target.
    """
    value = (interpreter or "auto").strip()
    if value.startswith("auto"):
        names = " ".join(shlex.quote(str(name)) for name in fallback)
        message = "no Python interpreter found on the target (tried: %s)" % " ".join(str(n) for n in fallback)
        return ["/bin/sh", "-c", _DISCOVERY_SCRIPT % (names, shlex.quote(message)), "sh"]
    return shlex.split(value)


def is_discovery(interpreter: Optional[str]) -> bool:
    return (interpreter or "auto").strip().startswith("auto")


# Command-line flags whose next argument is a secret (kubectl_args).
SECRET_FLAGS = frozenset(("--password", "--token"))


def secret(value: Any) -> Any:
    """`value` as a mitogen.core.Secret: never shown by str()/repr(), and
    masked in every log line of each process that handles it."""
    if value is None or value == "":
        return value
    import mitogen.core

    return mitogen.core.Secret(str(value))


def _mask_flag_values(args: List[Any]) -> List[Any]:
    return [MASKED if i and args[i - 1] in SECRET_FLAGS else arg for i, arg in enumerate(args)]


def mask_secrets(stack: List[Hop]) -> List[Hop]:
    """Copy of `stack` safe to show or log: passwords and tokens replaced."""
    out = []
    for hop in stack:
        kwargs = dict(hop["kwargs"])
        for key in SECRET_KEYS:
            if kwargs.get(key):
                kwargs[key] = MASKED
        for key, value in kwargs.items():
            if isinstance(value, list):
                kwargs[key] = _mask_flag_values(value)
        out.append(dict(hop, kwargs=kwargs))
    return out


def become_option(become: Any, name: str) -> Any:
    """Option `name` of become plugin `become` (None without one, or unknown)."""
    if become is None:
        return None
    try:
        return become.get_option(name)
    except KeyError:
        return None


class Settings:
    """What one connection needs to know, gathered from Ansible's sources.

    `option(name)` reads the connection plugin's option (None if the plugin
    has no such option); `var(name)` templates a task var;
    `become_option(name)` reads the become plugin's option; `fact(name)`
    a fact of the host.  Every setting is read through these four and the
    play context (connection.py records the reads: stack_memo).
    """

    def __init__(
        self,
        option: Callable[[str], Any],
        var: Callable[[str], Any],
        play_context: Any,
        become: Any = None,
        become_option: Optional[Callable[[str], Any]] = None,
        fact: Optional[Callable[[str], Any]] = None,
    ) -> None:
        self.option = option
        self.var = var
        self.play_context = play_context
        self.become = become
        self.become_option = become_option or self._become_option
        self.fact = fact or (lambda name: (self.var("ansible_facts") or {}).get(name))

    def _become_option(self, name: str) -> Any:
        return become_option(self.become, name)

    # --- target interpreter ---------------------------------------------

    def interpreter(self) -> str:
        value = self.var("ansible_python_interpreter")
        if value:
            return str(value)
        discovered = self.fact("discovered_interpreter_python")
        if discovered:
            return str(discovered)
        from ansible import constants as C

        return str(C.config.get_config_value("INTERPRETER_PYTHON", variables=self._config_vars()) or "auto")

    def interpreter_fallback(self) -> List[str]:
        from ansible import constants as C

        return list(C.config.get_config_value("INTERPRETER_PYTHON_FALLBACK", variables=self._config_vars()))

    def _config_vars(self) -> Dict[str, Any]:
        names = ("ansible_python_interpreter", "ansible_interpreter_python_fallback")
        return {name: self.var(name) for name in names if self.var(name) is not None}

    def python_path(self) -> List[str]:
        return python_path(self.interpreter(), self.interpreter_fallback())

    def remote_name(self) -> str:
        return remote_name(to_bool(self.var("mitogen_mask_remote_name")))

    def common_kwargs(self) -> Dict[str, Any]:
        return {"python_path": self.python_path(), "remote_name": self.remote_name()}

    # --- login hops -----------------------------------------------------

    def remote_user(self) -> Optional[str]:
        return self.option("remote_user") or getattr(self.play_context, "remote_user", None)

    def ssh_hop(self) -> Hop:
        pc = self.play_context
        host_key_checking = self.option("host_key_checking")
        timeout = to_int(self.option("timeout") or getattr(pc, "timeout", None), 10)
        kwargs = dict(
            self.common_kwargs(),
            hostname=self.option("host") or pc.remote_addr,
            port=to_int(self.option("port") or getattr(pc, "port", None)),
            username=self.remote_user(),
            password=secret(self.option("password") or getattr(pc, "password", None)),
            identity_file=self.option("private_key_file") or getattr(pc, "private_key_file", None),
            ssh_path=self.option("ssh_executable") or "ssh",
            # Vanilla's timeout bounds ssh's own connection set-up; the
            # Python start-up behind it gets BOOT_ALLOWANCE more, so a busy
            # controller starting many hosts at once does not fail them.
            ssh_args=ssh_client_args(
                self.option("ssh_args"), self.option("ssh_common_args"), self.option("ssh_extra_args")
            ) + ["-o", "ConnectTimeout=%d" % timeout],
            connect_timeout=timeout + BOOT_ALLOWANCE,
            check_host_keys="enforce" if to_bool(host_key_checking, True) else "ignore",
            ssh_debug_level=to_int(self.var("mitogen_ssh_debug_level")) or to_int(self.option("verbosity")) or None,
            keepalive_interval=to_int(self.var("mitogen_ssh_keepalive_interval"), DEFAULT_KEEPALIVE_INTERVAL),
            keepalive_count=to_int(self.var("mitogen_ssh_keepalive_count"), DEFAULT_KEEPALIVE_COUNT),
            compression=to_bool(self.var("mitogen_ssh_compression"), True),
        )
        key_data = self.option("private_key")
        if key_data:  # ansible-core 2.19+: the key itself, not a path
            kwargs["identity_file"] = private_key_file(str(key_data))
        if kwargs["identity_file"]:
            kwargs["identity_file"] = os.path.expanduser(kwargs["identity_file"])
        pkcs11 = self.option("pkcs11_provider")
        if pkcs11:  # the password is the PIN, as in vanilla
            kwargs["ssh_args"] = kwargs["ssh_args"] + ["-o", "PKCS11Provider=%s" % pkcs11]
        return {"method": "ssh", "kwargs": kwargs}

    def local_hop(self) -> Hop:
        return {"method": "local", "kwargs": self.common_kwargs()}

    # --- become hops ----------------------------------------------------

    def become_hop(self, method: str, username: Optional[str] = None, password: Optional[str] = None) -> Hop:
        """A sudo/su/doas hop from the become plugin's (or vars') settings."""
        user = username or self.become_option("become_user") or self.var("ansible_become_user") or "root"
        password = (
            password
            or self.become_option("become_pass")
            or self.var("ansible_become_password")
            or self.var("ansible_become_pass")
            or getattr(self.play_context, "become_pass", None)
        )
        exe = (
            self.become_option("become_exe")
            or self.var("ansible_%s_exe" % method)
            or self.var("mitogen_%s_path" % method)
            or method
        )
        flags = self.become_option("become_flags")
        if flags is None:
            flags = self.var("ansible_become_flags") or ""
        kwargs = dict(self.common_kwargs(), username=user, password=secret(password))
        kwargs["%s_path" % method] = exe
        if method == "sudo":
            kwargs["sudo_args"] = sudo_args(flags)
        elif method == "su" and flags:
            kwargs["su_args"] = split_args(flags)
        return {"method": method, "kwargs": kwargs}


    def become_login_hop(self, method: str) -> Hop:
        """mitogen_sudo & co. as connection types: ansible_user is the
        account to switch to, from the previous hop (or the controller)."""
        user = self.var("ansible_user") or self.remote_user() or "root"
        password = self.var("ansible_password") or getattr(self.play_context, "password", None)
        return self.become_hop(method, user, password)

    # --- container hops -------------------------------------------------

    def container_hops(self, kind: str, build: Callable[["Settings"], Hop]) -> List[Hop]:
        """Hops entering the container this connection names, as `kind`
        (docker, podman, ...; `build` makes its hop, see connection_types);
        usually one, plus a su hop for lxd/incus users other than root."""
        hop = build(self)
        hop["kwargs"] = dict(self.common_kwargs(), **hop["kwargs"])
        hop["kwargs"]["connect_timeout"] = to_int(self.option("container_timeout"), 10) + BOOT_ALLOWANCE
        return [hop] + self._user_switch_hops(kind)

    def container_name(self) -> str:
        """What to enter: remote_addr as the replaced plugin resolves it
        (inventory_hostname, ansible_host, ansible_<kind>_host)."""
        return str(self.option("remote_addr") or self.play_context.remote_addr)

    def tool_path(self, tool: str, option: Optional[str] = None) -> str:
        """The container CLI: the plugin option naming it, else mitogen_<tool>_path."""
        return (option and self.option(option)) or self.var("mitogen_%s_path" % tool) or tool

    def _user_switch_hops(self, kind: str) -> List[Hop]:
        # lxc exec always enters as root; vanilla lxd/incus switch with su.
        user = self.option("remote_user")
        if kind not in ("lxd", "incus") or not user or user == "root":
            return []
        return [{"method": "su", "kwargs": dict(self.common_kwargs(), username=user)}]


# --- the login hop each connection type declares ------------------------

def login_hops(name: str, s: Settings) -> List[Hop]:
    """Hops that log in to the target for connection type `name`, built as
    its `hop` in connection_types.yml says."""
    declared = connection_types.TYPES[name]
    hop = declared.hop
    if isinstance(hop, dict):
        return s.container_hops(name, lambda s: declared_hop(name, s))
    if hop == "become":
        return [s.become_login_hop(declared.method)]
    words = hop.split()
    if words[0] == "container":
        return s.container_hops(name, globals()[words[1]])  # docker_hop, lxd_hop, ...
    return [getattr(s, words[0])()]


def _option(s: Settings, name: str, default: Optional[str] = None) -> Any:
    value = s.option(name)
    return value if default is None else value or default


#: What a value of a declared hop (`hop: {keyword: value}` in
#: connection_types.yml) can be: its first word, applied to the Settings
#: and the words after it.
_VALUES: Dict[str, Callable[..., Any]] = {
    "container": lambda s: s.container_name(),
    "option": _option,
    "flag": lambda s, name: to_bool(s.option(name)),
    "args": lambda s, name: split_args(s.option(name)),
    "tool": lambda s, tool, option=None: s.tool_path(tool, option),
}


def declared_hop(name: str, s: Settings, **given: Any) -> Hop:
    """The hop connection type `name` declares as a mapping, its keywords
    evaluated in their declared order (those `given` are not read)."""
    declared = connection_types.TYPES[name]
    kwargs = {}
    for key, value in declared.hop.items():
        if key in given:
            kwargs[key] = given[key]
        else:
            word, *args = value.split()
            kwargs[key] = _VALUES[word](s, *args)
    return {"method": declared.method, "kwargs": kwargs}


def docker_hop(s: Settings) -> Hop:
    if to_bool(s.option("mitogen_host_python")):
        # No Python in the container: docker exec cannot bring one in, so
        # enter its namespaces directly with the host's interpreter.
        return declared_hop("setns", s, kind="docker")
    exec_args: List[str] = []
    if to_bool(s.option("privileged")):
        exec_args.append("--privileged")
    if s.option("working_dir"):
        exec_args += ["--workdir", str(s.option("working_dir"))]
    for key, value in sorted((s.option("extra_env") or {}).items()):
        exec_args += ["--env", "%s=%s" % (key, value)]
    return {"method": "docker", "kwargs": dict(
        container=s.container_name(), username=s.option("remote_user"), docker_path=s.tool_path("docker"),
        docker_args=split_args(s.option("docker_extra_args")), exec_args=exec_args)}


def _lxd_like_hop(s: Settings, tool: str) -> Hop:
    # The lxd and incus clients share their command line; a remote other
    # than "local" is addressed as REMOTE:NAME, like the vanilla plugins do.
    name = s.container_name()
    remote = s.option("remote")
    if remote and remote != "local":
        name = "%s:%s" % (remote, name)
    project = s.option("project")
    return {"method": "lxd", "kwargs": dict(
        container=name, lxc_path=s.tool_path(tool, "%s_path" % tool),
        exec_args=["--project", str(project)] if project else [])}


def lxd_hop(s: Settings) -> Hop:
    return _lxd_like_hop(s, "lxc")


def incus_hop(s: Settings) -> Hop:
    return _lxd_like_hop(s, "incus")


def kubectl_hop(s: Settings) -> Hop:
    return {"method": "kubectl", "kwargs": dict(
        pod=s.option("kubectl_pod") or s.container_name(), kubectl_path=s.tool_path("kubectl"),
        kubectl_args=kubectl_args(s.option))}


# kubernetes.core.kubectl option -> kubectl flag (the pod and extra args
# are handled apart; validate_certs is inverted).
_KUBECTL_FLAGS = (
    ("kubectl_container", "-c"),
    ("kubectl_namespace", "-n"),
    ("kubectl_kubeconfig", "--kubeconfig"),
    ("kubectl_context", "--context"),
    ("kubectl_host", "--server"),
    ("kubectl_username", "--username"),
    ("kubectl_password", "--password"),
    ("client_cert", "--client-certificate"),
    ("client_key", "--client-key"),
    ("ca_cert", "--certificate-authority"),
    ("kubectl_token", "--token"),
)


def kubectl_args(option: Callable[[str], Any]) -> List[str]:
    """kubectl flags from kubernetes.core.kubectl's options, in a fixed order."""
    out: List[str] = []
    for name, flag in _KUBECTL_FLAGS:
        if option(name):
            value = str(option(name))
            out += [flag, secret(value) if flag in SECRET_FLAGS else value]
    verify = option("validate_certs")
    if verify not in (None, ""):
        out.append("--insecure-skip-tls-verify=%s" % str(not to_bool(verify)).lower())
    return out + split_args(option("kubectl_extra_args"))


def sudo_args(flags: Optional[str]) -> List[str]:
    """become_flags for sudo minus what our sudo driver handles itself.

    -n (non-interactive) and -S (password on stdin) are Ansible's way of
    driving sudo through a pipe; our sudo step answers the prompt itself.
    """
    out = []
    for flag in split_args(flags):
        if flag in ("-n", "--non-interactive", "-S", "--stdin"):
            continue
        if flag.startswith("-") and not flag.startswith("--") and len(flag) > 2:
            flag = "-" + flag[1:].replace("n", "").replace("S", "")
            if flag == "-":
                continue
        out.append(flag)
    return out


def parse_via(spec: str) -> List[Dict[str, Optional[str]]]:
    """`mitogen_via` value -> [{"host": h, "become_user": u or None}, ...].

    Accepts `host`, `user@host`, and comma-separated chains of them (the
    first entry nearest the controller).
    """
    out: List[Dict[str, Optional[str]]] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        user, sep, host = item.rpartition("@")
        out.append({"host": host, "become_user": user if sep else None})
    return out
