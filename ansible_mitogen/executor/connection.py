"""Connection plugin base shared by every mitogen_* connection type.

Runs in task workers (and in the strategy process for `meta:
reset_connection`).  `_connect()` builds the hop stack from Ansible's
settings (transport_config; mitogen_via hosts first, recursively; reused
while every setting it read reads the same, stack_memo), asks
the multiplexer of the host -- or of the first host of its mitogen_via
chain -- for the matching contexts over the multiplexer's UNIX socket, and
keeps them for the task.  Become (sudo/su/doas) is one more hop: commands
run in the become user's interpreter, so nothing is prefixed to command
lines.  Behind an intermediary, module sources go through its
source_relay (source_relay_chain).  connection_type() builds the classes of
the plugin files in plugins/connection/.

Contract used by ansible_mitogen.executor.mixins (action plugins): get_chain(),
homedir, cwd, get_default_cwd(), allocates_tty(), runs_login_shell(),
get_default_env(), get_good_temp_dir(), context, login_context, parent, put_data(), get_binding(), get_stack().
"""
import contextlib
import logging
import os
import re
import tempfile
import threading
import time
from typing import Any, BinaryIO, Dict, Iterator, List, Optional, Tuple

from ansible import constants as C
from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

from ansible_mitogen import connection_types
from ansible_mitogen.connection_types import BECOME_METHODS
from ansible_mitogen.executor import context_cache, context_uses, stack_memo, transport_config
from ansible_mitogen.executor.source_relay_chain import SourceRelayChain
from ansible_mitogen.executor.transport_config import Hop
from ansible_mitogen.multiplexer import process
from ansible_mitogen.multiplexer.service_names import CONTEXT_SERVICE, MODULE_CACHE_SERVICE

display = Display()
LOG = logging.getLogger(__name__)

# put_file() sends files up to this size inside one call; larger ones are
# streamed by the target pulling from the multiplexer's FileService.
INLINE_FILE_LIMIT = 128 * 1024
FILE_SERVICE = "mitogen.service.FileService"
# Service names as plain strings: importing ansible_mitogen.multiplexer.services would
# pull the multiplexer-only code into every task worker.


# Longest wait (s) for the multiplexer to shut a reset connection down: it
# waits up to 30 s per context of the reset stack (docs/troubleshooting.md).
RESET_TIMEOUT = 120.0


class BecomeFailed(AnsibleError):
    """A become step failed; `output` is what its tool printed when it just
    exited (vanilla shows that as the module's stderr), else None."""

    def __init__(self, message: str, output: Optional[str]) -> None:
        super().__init__(message)
        self.output = output


class InterpreterMissing(AnsibleConnectionFailure):
    """The target has no interpreter at ansible_python_interpreter's path."""

    def __init__(self, message: str, python: str) -> None:
        super().__init__(message)
        self.python = python


_VIA_SUFFIX = re.compile(r" \(via [^()]*\)$")
_EXITED = "child exited before it finished booting: "
_MISSING_PYTHON = re.compile(r"python interpreter '([^']*)' not found on the target \(python_path\)")


def tool_output(method: str, msg: str) -> Optional[str]:
    """What a become tool printed before exiting, from a hop failure message
    (`<method> to <user>: <reason>[: <output>][ (via ...)]`), or None when
    the tool did not just exit (a password problem, a time-out)."""
    import mitogen.parent

    text = _VIA_SUFFIX.sub("", msg.partition(": ")[2])
    if text.startswith(_EXITED):
        output = text[len(_EXITED):]
        return "" if output == "no output" else output + "\n"
    patterns = mitogen.parent.import_method(method).Connection.failure_patterns
    for _, reason in patterns:
        if text.startswith(reason + ": "):
            return text[len(reason) + 2:] + "\n"
    return None


# Login failures that no retry can mend (vanilla stops retrying on a
# refused password too, to spare the account).
_FINAL_FAILURES = ("password", "authentication failed", "host key verification", "not found on the target",
                   "no usable shell")


def is_retryable(reply: Dict[str, Any]) -> bool:
    """A failed ssh login hop worth another attempt (reconnection_retries)."""
    return reply.get("depth") == 1 and reply.get("method") == "ssh" and not any(
        text in reply["msg"] for text in _FINAL_FAILURES)


def missing_interpreter(msg: str) -> Optional[str]:
    match = _MISSING_PYTHON.search(msg)
    return match.group(1) if match else None


class Binding:
    """The worker's handle on its multiplexer's services."""

    def __init__(self, parent: Any) -> None:
        self.parent = parent

    def call(self, service: str, method: str, timeout: Optional[float] = None, **kwargs: Any) -> Any:
        if timeout is None:
            return self.parent.call_service(service, method, **kwargs)
        import mitogen.core

        msg = mitogen.core.Message.pickled((service, method, mitogen.core.Kwargs(kwargs)),
                                           handle=mitogen.core.CALL_SERVICE)
        recv = self.parent.send_async(msg)
        try:
            return recv.get(timeout=timeout).unpickle()
        finally:
            self.parent.router.del_handler(recv.handle)

    def get_context(self, stack: List[Hop], init_kwargs: Dict[str, Any], wait_init: bool = True) -> Dict[str, Any]:
        context_uses.USES.flush()
        return self.call(CONTEXT_SERVICE, "get", stack=stack, init_kwargs=init_kwargs, wait_init=wait_init)

    def get_context_async(self, stack: List[Hop], init_kwargs: Dict[str, Any]) -> Any:
        """ContextService.get (init_child not waited for) without waiting:
        the Receiver of its answer."""
        import mitogen.core

        context_uses.USES.flush()
        kwargs = {"stack": stack, "init_kwargs": init_kwargs, "wait_init": False}
        msg = mitogen.core.Message.pickled((CONTEXT_SERVICE, "get", mitogen.core.Kwargs(kwargs)),
                                           handle=mitogen.core.CALL_SERVICE)
        return self.parent.send_async(msg)

    def init_of(self, stack: List[Hop]) -> Dict[str, Any]:
        return self.call(CONTEXT_SERVICE, "init_of", stack=stack)

    def acquire_context(self, context: Any) -> None:
        # No reply wanted: the point of reusing an answer is to skip a round
        # trip; and none sent when it takes over a put still held back.
        context_uses.USES.acquire(self.parent, context)

    def put_context(self, context: Any) -> None:
        # No reply wanted: saves a round trip at the end of every task (and
        # held back a moment, for the next task to take over: context_uses).
        context_uses.USES.put(self.parent, context)

    def reset(self, stack: List[Hop]) -> bool:
        return self.call(CONTEXT_SERVICE, "reset", timeout=RESET_TIMEOUT, stack=stack)

    def register_file(self, path: str, context: Any = None) -> None:
        """Let `context` pull `path` from the multiplexer's FileService (until unregister_file)."""
        self.call(FILE_SERVICE, "register", path=path, context=context)

    def unregister_file(self, path: str, context: Any = None) -> None:
        import mitogen.service

        mitogen.service.call_service_no_reply(self.parent, FILE_SERVICE, "unregister", path=path, context=context)

    def cache_get(self, key: str) -> Any:
        return self.call(MODULE_CACHE_SERVICE, "get", key=key)

    def cache_put(self, key: str, value: Any) -> None:
        self.call(MODULE_CACHE_SERVICE, "put", key=key, value=value)

    def claim_code(self, context: Any, bundle: str, digests: List[str]) -> List[str]:
        return self.call(CONTEXT_SERVICE, "claim_code", context=context, bundle=bundle, digests=digests)

    def claim(self, key: str, items: List[str]) -> List[str]:
        """Those of `items` no other worker claimed under `key` before."""
        return self.call(MODULE_CACHE_SERVICE, "claim", key=key, items=items)


class Connection(ConnectionBase):
    """Shared implementation; subclasses set `transport` and `login_method`."""

    transport = "mitogen"
    login_method = "ssh"
    is_mitogen_connection = True
    has_pipelining = True
    has_tty = True
    has_native_async = False
    supports_persistence = False
    cwd: Any = None  # vanilla local's attribute, see get_default_cwd()
    become_methods = BECOME_METHODS

    def __init__(self, play_context: Any, new_stdin: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(play_context, new_stdin, *args, **kwargs)
        self._task_vars: Dict[str, Any] = {}
        self._templar: Any = None
        self.router: Any = None
        self.parent: Any = None
        self.context: Any = None
        self.login_context: Any = None
        self.init_child_result: Optional[Dict[str, Any]] = None
        self._login_init: Optional[Dict[str, Any]] = None
        self._mitogen_stack: Optional[List[Hop]] = None
        self._chains: Dict[Any, Any] = {}
        self._fork_contexts: List[Any] = []
        self._via_depth = 0
        self._relay: Any = None
        # ContextService.get sent by start_connect(), answer not read yet
        self._pending: Any = None
        # the kept get() answer while its init_child answers are not read
        self._init_pending: Optional[Dict[str, Any]] = None

    # --- where settings come from ----------------------------------------

    def _resolve_option_variables(self, variables: Any, templar: Any) -> Any:
        # TaskExecutor and the strategy hand us the host's vars here; keep
        # them for mitogen_* variables and ansible_python_interpreter.
        self._task_vars = variables
        self._templar = templar
        return super()._resolve_option_variables(variables, templar)

    def on_action_run(self, task_vars: Dict[str, Any], delegate_to_hostname: Optional[str] = None,
                      loader_basedir: Optional[str] = None) -> None:
        """Optional hook for action plugins that have the task vars at hand."""
        if not self._task_vars:
            self._task_vars = task_vars

    def _var(self, name: str) -> Any:
        value = self._raw_var(name)
        if self._is_template(value):
            value = self._templar.template(value)
        return value

    def _raw_var(self, name: str) -> Any:
        return self._task_vars.get(name) if self._task_vars else None

    def _is_template(self, value: Any) -> bool:
        return isinstance(value, str) and self._templar is not None and ("{{" in value or "{%" in value)

    def _fact(self, name: str) -> Any:
        return (self._raw_var("ansible_facts") or {}).get(name)

    def _become_option(self, name: str) -> Any:
        return transport_config.become_option(self.become, name)

    def _option(self, name: str) -> Any:
        try:
            return self.get_option(name)
        except KeyError:
            return None

    def _settings(self) -> transport_config.Settings:
        return transport_config.Settings(self._option, self._var, self._play_context, self.become)

    def _inventory_name(self) -> str:
        name = self._var("inventory_hostname") or getattr(self._play_context, "remote_addr", None)
        return str(name or "localhost")

    def _multiplexer_key(self) -> str:
        """Host whose multiplexer serves us: the first host of a mitogen_via
        chain, so everything behind one intermediary shares its connection."""
        spec = self._var("mitogen_via")
        if not spec:
            return self._inventory_name()
        return via_root(str(spec), self._var("hostvars") or {})

    # --- the hop stack -------------------------------------------------

    def _become_method(self) -> Optional[str]:
        if self.become is None:
            return None
        name = getattr(self.become, "name", None) or getattr(self.become, "_load_name", "")
        return str(name).rsplit(".", 1)[-1]

    def _become_changes_user(self) -> bool:
        """Vanilla's rule (ActionBase._low_level_execute_command): no become
        step to the user we already log in as, unless become_allow_same_user.
        A needless sudo would change what modules see (no SSH_CLIENT, SUDO_*
        set), which DebOps' pam_access role, for one, depends on."""
        if C.BECOME_ALLOW_SAME_USER:
            return True
        try:
            buser = self.become.get_option("become_user")
        except KeyError:
            buser = None
        ruser = self._vanilla_remote_user()
        return buser != ruser or not (ruser or buser)

    def _vanilla_remote_user(self) -> Optional[str]:
        # ActionBase._get_remote_user(), step for step
        try:
            return self.get_option("remote_user")
        except KeyError:
            return getattr(self, "default_user", None) or self._play_context.remote_user
        except AttributeError:
            return self._play_context.remote_user

    def _via_hops(self) -> List[Hop]:
        spec = self._var("mitogen_via")
        if not spec:
            return []
        return via_hops(str(spec), self._var("hostvars") or {}, [self._inventory_name()])

    def build_stack(self) -> List[Hop]:
        """Every hop from the multiplexer to the context that runs tasks
        (this process's last build for the host when its inputs still
        read the same: stack_memo)."""
        return self._stack_entry().stack

    def _stack_entry(self) -> stack_memo.Entry:
        key = (self.transport, self._inventory_name())
        readers = self._readers()
        entry = stack_memo.STACKS.lookup(key, readers)
        if entry is None:
            recorder = stack_memo.Recorder(readers)
            stack, via_depth = self._build_stack(recorder)
            entry = stack_memo.STACKS.keep(key, recorder, stack, via_depth)
        self._via_depth = entry.via_depth
        return entry

    def _readers(self) -> stack_memo.Readers:
        """Everything a build reads, by kind (see _build_stack)."""
        return {"option": self._option, "var": self._raw_var, "become": self._become_option,
                "pc": lambda name: getattr(self._play_context, name, None), "fact": self._fact,
                "self": lambda name: getattr(self, name)()}

    def _build_stack(self, recorder: stack_memo.Recorder) -> Tuple[List[Hop], int]:
        var = recorder.reader("var")

        def templated(name: str) -> Any:
            value = var(name)
            if self._is_template(value):
                recorder.spoil()  # its value depends on more than we read
                value = self._templar.template(value)
            return value

        settings = transport_config.Settings(recorder.reader("option"), templated,
                                             _RecordedAttributes(recorder.reader("pc")), self.become,
                                             become_option=recorder.reader("become"), fact=recorder.reader("fact"))
        via = self._via_hops()
        if via:
            recorder.spoil()  # read the via hosts' variables, which we do not record
        templated("mitogen_via")
        stack = via + transport_config.login_hops(self.login_method, settings)
        method = recorder.reader("self")("_become_method")
        if method and recorder.reader("self")("_become_changes_user"):
            if method not in self.become_methods:
                raise AnsibleError("become method %r is not supported by ansible_mitogen connections" % method)
            stack.append(settings.become_hop(method))
        return stack, len(via)

    def get_stack(self) -> List[Hop]:
        """The hop stack with secrets masked (for mitogen_get_stack)."""
        return transport_config.mask_secrets(self._mitogen_stack or self.build_stack())

    # --- connecting ----------------------------------------------------

    def _candidate_temp_dirs(self) -> List[str]:
        dirs = []
        shell = getattr(self, "_shell", None)
        for name in ("remote_tmp", "system_tmpdirs"):
            try:
                value = shell.get_option(name) if shell is not None else None
            except KeyError:
                value = None
            if isinstance(value, str):
                dirs.append(value)
            elif value:
                dirs.extend(value)
        return dirs or ["~/.ansible/tmp", "/var/tmp", "/tmp"]

    def _init_kwargs(self) -> Dict[str, Any]:
        # Targets log ours at the level this process does (controller.logging
        # set it up at activation, from MITOGEN_LOG_LEVEL).
        return {"log_level": logging.getLogger("ansible_mitogen").getEffectiveLevel(),
                "candidate_temp_dirs": self._candidate_temp_dirs()}

    def start_connect(self) -> None:
        """Ask the multiplexer for the task's contexts without waiting.

        Called before the module build: on a fresh host ssh, the boot and
        init_child then run while the worker builds the module, and
        _connect() only collects the answer.  Anything going wrong here is
        left for _connect() to find again and report, in vanilla's order
        (a module that fails to build fails the task first).
        """
        if self.context is not None or self._pending is not None:
            return
        try:
            entry = self._stack_entry()
            self.router, self.parent = process.client(self._multiplexer_key())
            if context_cache.CONTEXTS.get(self.router, entry.stack, self._hops(entry)) is None:
                self._pending = self.get_binding().get_context_async(entry.stack, self._init_kwargs())
        except Exception as exc:
            LOG.debug("early connect of %s not started: %s", self._inventory_name(), exc)

    def _connect(self) -> "Connection":
        if self.context is not None:
            return self
        entry = self._stack_entry()
        stack = entry.stack
        retries = transport_config.to_int(self._option("reconnection_retries"), 0) if self.login_method == "ssh" else 0
        for attempt in range(retries + 1):
            try:
                self.router, self.parent = process.client(self._multiplexer_key())
                reply = self._contexts_for(entry)
            except AnsibleError:
                raise
            except Exception as exc:
                process.drop_client()
                raise AnsibleConnectionFailure("ansible_mitogen: multiplexer unavailable: %s" % exc)
            if not (reply.get("msg") and attempt < retries and is_retryable(reply)):
                break
            # vanilla ssh's reconnection_retries and back-off
            pause = min(2 ** attempt - 1, 30)
            display.vv("ansible_mitogen: %s; retrying in %d s" % (reply["msg"], pause), host=self._inventory_name())
            time.sleep(pause)
        if reply.get("msg"):
            self._raise_connect_failure(reply, stack)
        self._mitogen_stack = stack
        self.context = reply["context"]
        self.login_context = reply["login_context"]
        self._init_pending = reply
        if not (reply.get("init_pending") and self._may_pipeline_init()):
            self.wait_init()
        # Shared by this process's tasks on the context (context_cache.put).
        self.known_bundles = reply["bundles"]
        self._connected = True
        display.vvv("ESTABLISHED MITOGEN CONTEXT %r" % (self.context,), host=self._inventory_name())
        return self

    def _contexts_for(self, entry: stack_memo.Entry) -> Dict[str, Any]:
        """ContextService.get's answer for the entry's stack, reused if this
        process has it already (context_cache)."""
        binding = self.get_binding()
        stack = entry.stack
        hops = self._hops(entry)
        pending, self._pending = self._pending, None
        if pending is not None:
            reply = self._pending_reply(pending)
        else:
            reply = context_cache.CONTEXTS.get(self.router, stack, hops)
            if reply is not None:
                binding.acquire_context(reply["context"])
                return reply
            reply = binding.get_context(stack, self._init_kwargs(), wait_init=False)
        if not reply.get("msg"):
            reply = context_cache.CONTEXTS.put(self.router, stack, reply, hops)
        return reply

    def _may_pipeline_init(self) -> bool:
        # behind an intermediary the source relay calls the relay first
        return not self._via_depth

    def wait_init(self) -> None:
        """Read the init_child answers of the task's contexts (home dir,
        temp dir, uid) once: a fresh context is handed out before they are
        in, so the first call goes out behind init_child; a failed
        init_child fails the connection as it did before."""
        answer, self._init_pending = self._init_pending, None
        if answer is None:
            return
        if answer.get("init_pending"):
            stack = self._mitogen_stack or self.build_stack()
            got = self.get_binding().init_of(stack)
            if got.get("msg"):
                context_cache.CONTEXTS.forget(self.router, stack)
                self.context = self.login_context = None
                self._connected = False
                self._raise_connect_failure(got, stack)
            # in place: the answer is kept for later tasks (context_cache)
            answer.update(init=got["init"], login_init=got["login_init"])
            answer.pop("init_pending", None)
        self.init_child_result = answer.get("init") or {}
        self._login_init = answer.get("login_init") or {}

    def _hops(self, entry: stack_memo.Entry) -> Any:
        hops = entry.extra.get("hops")
        if hops is None:
            hops = entry.extra["hops"] = context_cache.hops_key(entry.stack)
        return hops

    def _pending_reply(self, recv: Any) -> Dict[str, Any]:
        """The answer start_connect() asked for (sent to this router's parent)."""
        try:
            return recv.get().unpickle()
        finally:
            self.router.del_handler(recv.handle)

    def _raise_connect_failure(self, reply: Dict[str, Any], stack: List[Hop]) -> None:
        method = reply.get("method")
        msg = reply["msg"]
        # A failed login is UNREACHABLE like vanilla; a failed become step
        # (bad password, requiretty, ...) is a task failure.
        if method in BECOME_METHODS and reply.get("depth", 0) > 1:
            raise BecomeFailed("%s failed: %s" % (method, msg), tool_output(method, msg))
        python = missing_interpreter(msg)
        if python is not None:
            raise InterpreterMissing(msg, python)
        if method == "ssh":
            msg = "Failed to connect to the host via ssh: %s" % (msg,)
        raise AnsibleConnectionFailure(msg)

    def get_binding(self) -> Binding:
        if self.parent is None:
            self.router, self.parent = process.client(self._multiplexer_key())
        return Binding(self.parent)

    # --- the contract used by action plugins -----------------------------

    def get_chain(self, use_login: bool = False, use_fork: bool = False) -> Any:
        """A CallChain to the task context (login one or a fresh fork)."""
        import mitogen.parent

        self._connect()
        context = self.login_context if use_login else self.context
        if use_fork:
            from ansible_mitogen.remote import target

            context = mitogen.parent.CallChain(context).call(target.create_fork_child)
            self._fork_contexts.append(context)
            return mitogen.parent.CallChain(context)
        chain = self._chains.get(context)
        if chain is None:
            chain = mitogen.parent.CallChain(context, pipelined=True)
            if self._via_depth and transport_config.to_bool(self._var("mitogen_source_relay"), True):
                chain = SourceRelayChain(chain, context, self)
            self._chains[context] = chain
        if self._init_pending is not None:
            return _InitWaitingChain(chain, self)
        return chain

    def relay_context(self) -> Any:
        """The context of the last mitogen_via hop (fetched once per task)."""
        if self._relay is None:
            stack = self._mitogen_stack or self.build_stack()
            reply = self.get_binding().get_context(stack[:self._via_depth], self._init_kwargs())
            if reply.get("msg"):
                raise AnsibleConnectionFailure(reply["msg"])
            self._relay = reply["context"]
        return self._relay

    @property
    def homedir(self) -> Optional[str]:
        self._connect()
        self.wait_init()
        return (self.init_child_result or {}).get("home_dir")

    @property
    def login_homedir(self) -> Optional[str]:
        """Home of the login user (where vanilla puts remote_tmp)."""
        self._connect()
        self.wait_init()
        return (self._login_init or {}).get("home_dir")

    def becomes(self) -> bool:
        """True if tasks run in a become context on top of the login one."""
        self._connect()
        return self.context != self.login_context

    def file_owner(self) -> Optional[Tuple[int, int]]:
        """(uid, gid) to give the task's temp dirs and uploads, or None.

        Under vanilla the login user creates them, also when the task then
        becomes root; our become-root context hands them to that user.
        """
        if not self.becomes():  # connects
            return None
        self.wait_init()
        task, login = self.init_child_result or {}, self._login_init or {}
        if task.get("uid") != 0 or login.get("uid") in (None, 0):
            return None
        return login["uid"], login["gid"]

    def get_good_temp_dir(self) -> Optional[str]:
        self._connect()
        self.wait_init()
        return (self.init_child_result or {}).get("good_temp_dir")

    def get_default_cwd(self) -> Optional[str]:
        """Where commands and modules start, as under vanilla.

        Its `local` plugin runs them in its `cwd` attribute, or where
        ansible-playbook was started while that is None; ActionBase sets
        it to the playbook directory before each low-level command (mixins
        does the same).  Every other kind starts where the login does.
        """
        if self.login_method != "local":
            return None
        if self.cwd:  # bytes up to ansible-core 2.20, str from 2.21
            return os.fsdecode(self.cwd)
        return os.getcwd()

    def allocates_tty(self, in_data: Optional[bytes], sudoable: bool) -> bool:
        """Whether vanilla runs this command on a TTY: its ssh plugin adds
        ``-tt`` when no stdin is sent, the command may become and `use_tty`
        (default true) is on; no other connection kind allocates one.  The
        output then has stderr merged into stdout, with CRLF line ends."""
        return bool(self.login_method == "ssh" and not in_data and sudoable and self._option("use_tty") is not False)

    def runs_login_shell(self) -> bool:
        """Vanilla ssh hands a command line to the login user's shell."""
        return self.login_method == "ssh"

    def get_default_env(self) -> Dict[str, str]:
        # The task `environment:` keyword is applied by the action path.
        return {}

    # --- ConnectionBase API --------------------------------------------

    def exec_command(self, cmd: str, in_data: Optional[bytes] = None, sudoable: bool = True) -> Tuple[int, bytes, bytes]:
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        from ansible_mitogen.remote import target

        shell = target.runner.LOGIN_SHELL if self.runs_login_shell() else None
        # vanilla runs it as the login user: become is the caller's to add
        rc, stdout, stderr = self.get_chain(use_login=True).call(
            target.exec_command, cmd, in_data=in_data or b"", chdir=self.get_default_cwd(), shell=shell,
            emulate_tty=self.allocates_tty(in_data, sudoable),
        )
        return rc, _as_bytes(stdout), _as_bytes(stderr)

    def put_data(self, out_path: str, data: bytes, mode: Optional[int] = None, utimes: Any = None,
                 masked: bool = False) -> None:
        """Write `data` to `out_path` on the target atomically, in one call
        (mode and owner as target.write_path and file_owner() say)."""
        import mitogen.core

        from ansible_mitogen.remote import target

        self.get_chain().call(target.write_path, out_path, mitogen.core.Blob(data), mode=mode, utimes=utimes,
                              owner=self.file_owner(), masked=masked)

    def put_file(self, in_path: str, out_path: str) -> None:
        """As vanilla's sftp upload: the local file's mode minus the target's
        umask, owned by the login user."""
        super().put_file(in_path, out_path)
        try:
            st = os.stat(in_path)
        except OSError as exc:
            raise AnsibleError("file or module does not exist: %s (%s)" % (in_path, exc))
        mode = st.st_mode & 0o777
        if st.st_size <= INLINE_FILE_LIMIT:
            with open(in_path, "rb") as fp:
                self.put_data(out_path, fp.read(), mode=mode, masked=True)
            return
        from ansible_mitogen.remote import target

        # Only the task's own context may read the file, and only meanwhile.
        chain = self.get_chain()
        binding = self.get_binding()
        binding.register_file(in_path, chain.context)
        try:
            chain.call(target.transfer_file, self.parent, in_path, out_path, mode=mode, owner=self.file_owner(),
                       masked=True)
        finally:
            binding.unregister_file(in_path, chain.context)

    def fetch_file(self, in_path: str, out_path: str) -> None:
        super().fetch_file(in_path, out_path)
        from ansible_mitogen.remote import target

        data = self.get_chain().call(target.read_path, in_path)
        with replacing(out_path) as fp:
            fp.write(_as_bytes(data))

    def _release_forks(self) -> None:
        for context in self._fork_contexts:
            try:
                context.shutdown()
            except Exception:
                pass
        del self._fork_contexts[:]

    def close(self) -> None:
        """End of task: release our reference; the context stays cached."""
        self._release_forks()
        self._drop_pending()
        for context in (self.context, self._relay):
            if context is not None and self.parent is not None:
                try:
                    self.get_binding().put_context(context)
                except Exception as exc:
                    display.vvvv("ansible_mitogen: release failed: %s" % exc)
        self._relay = None
        for chain in self._chains.values():
            try:
                chain.reset()
            except Exception:
                pass
        self._chains.clear()
        self._init_pending = None
        self.context = self.login_context = None
        self._connected = False

    def _drop_pending(self) -> None:
        """A start_connect() nobody collected (the module failed to build):
        release its context now if the answer is in, else when it arrives
        (on the broker thread), so the multiplexer's count of its users
        comes back down either way."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        binding, router, released = self.get_binding(), self.router, threading.Lock()

        def release(_receiver: Any = None) -> None:
            if pending.empty() or not released.acquire(blocking=False):
                return
            try:
                reply = pending.get().unpickle()
                router.del_handler(pending.handle)
                if reply.get("context") is not None:
                    binding.put_context(reply["context"])
            except Exception as exc:
                display.vvvv("ansible_mitogen: release failed: %s" % exc)

        pending.notify = release
        release()  # the answer may have come in before notify was set

    def reset(self) -> None:
        """`meta: reset_connection`, reboot, wait_for_connection: start over."""
        try:
            stack = self._mitogen_stack or self.build_stack()
        except AnsibleError:
            return
        self.close()
        stack_memo.STACKS.forget(self._inventory_name())
        try:
            binding = self.get_binding()
            context_cache.CONTEXTS.forget(self.router, stack)
            binding.reset(stack)
        except Exception as exc:
            # the next task connects afresh either way (a stuck old context
            # is the multiplexer's to reap)
            display.warning("ansible_mitogen: reset of %s failed: %s" % (self._inventory_name(), exc))
        self._mitogen_stack = None


class _InitWaitingChain:
    """The task's CallChain while init_child's answers are not read: its
    next call() reads them after sending (connection.wait_init), so the
    first call of a fresh context follows init_child without waiting."""

    def __init__(self, chain: Any, connection: "Connection") -> None:
        self.chain = chain
        self.connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self.chain, name)

    def call(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        return self.chain.call_after(self.connection.wait_init, func, *args, **kwargs)


class _RecordedAttributes:
    """The PlayContext as a build sees it: each attribute read is recorded."""

    def __init__(self, read: Any) -> None:
        self._read = read

    def __getattr__(self, name: str) -> Any:
        return self._read(name)


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return bytes(value)


def _host_vars(host: str, hostvars: Any) -> Dict[str, Any]:
    try:
        return dict(hostvars[host])
    except KeyError:
        raise AnsibleError("mitogen_via names unknown inventory host %r" % host)


def via_root(spec: str, hostvars: Any) -> str:
    """The host nearest the controller in a mitogen_via chain."""
    seen: List[str] = []
    host = transport_config.parse_via(spec)[0]["host"]
    while host not in seen:
        seen.append(host)
        inner = _host_vars(host, hostvars).get("mitogen_via")
        if not inner:
            return host
        host = transport_config.parse_via(str(inner))[0]["host"]
    raise AnsibleError("mitogen_via loops: %s" % " -> ".join(seen + [host]))


def via_hops(spec: str, hostvars: Any, seen: List[str]) -> List[Hop]:
    """Hops reaching every host of a `mitogen_via` value, recursively: a via
    host with its own mitogen_via is reached through that first."""
    hops: List[Hop] = []
    for item in transport_config.parse_via(spec):
        host = item["host"]
        if host in seen:
            raise AnsibleError("mitogen_via loops: %s" % " -> ".join(seen + [host]))
        host_vars = _host_vars(host, hostvars)
        if host_vars.get("mitogen_via"):
            hops += via_hops(str(host_vars["mitogen_via"]), hostvars, seen + [host])
        hops += via_host_hops(host, host_vars, item["become_user"])
    return hops


def via_host_hops(host: str, host_vars: Dict[str, Any], become_user: Optional[str]) -> List[Hop]:
    """One via host's own login hops (its ansible_connection and settings),
    then a become hop: to `become_user` (the user@host form), or as its
    ansible_become* variables say."""
    from ansible.plugins.loader import connection_loader

    conn_type = connection_types.redirected_name(str(host_vars.get("ansible_connection") or "ssh"))
    plugin = connection_loader.get(conn_type, class_only=True)
    login_method = getattr(plugin, "login_method", None)
    if login_method is None:
        raise AnsibleError("mitogen_via host %r uses connection %r, which is not ours" % (host, conn_type))
    plugin_name = getattr(plugin, "_load_name", conn_type)
    settings = transport_config.Settings(
        _config_reader(plugin_name, host_vars), host_vars.get, _ViaPlayContext(host, host_vars), None)
    hops = transport_config.login_hops(login_method, settings)
    if become_user or transport_config.to_bool(host_vars.get("ansible_become")):
        method = str(host_vars.get("ansible_become_method") or "sudo").rsplit(".", 1)[-1]
        if method not in BECOME_METHODS:
            raise AnsibleError("mitogen_via host %r: become method %r is not supported" % (host, method))
        hops.append(settings.become_hop(method, become_user))
    return hops


def _config_reader(plugin_name: str, host_vars: Dict[str, Any]):
    """option(name) for a via host: its value from the host's variables,
    the environment or ansible.cfg, as the plugin's own get_option() would."""
    from ansible import constants as C

    known = C.config.get_configuration_definitions("connection", plugin_name) or {}

    def option(name: str) -> Any:
        if name not in known:
            return None
        try:
            return C.config.get_config_value(name, plugin_type="connection", plugin_name=plugin_name,
                                             variables=host_vars)
        except Exception:  # an unresolvable option reads as unset, like a missing one
            return None
    return option


@contextlib.contextmanager
def replacing(out_path: str) -> Iterator[BinaryIO]:
    """A file to write that replaces `out_path` only once whole.

    Written beside it, fsync'd, then renamed over it: a fetch that fails
    or is interrupted leaves the old file (or none) and no partial copy.
    """
    fd, tmp = tempfile.mkstemp(prefix=".mitogen-fetch-", dir=os.path.dirname(out_path) or ".")
    try:
        with os.fdopen(fd, "wb") as fp:
            yield fp
            fp.flush()
            os.fsync(fp.fileno())
        os.rename(tmp, out_path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class _ViaPlayContext:
    """Minimal PlayContext stand-in for a via host."""

    def __init__(self, host: str, host_vars: Dict[str, Any]) -> None:
        self.remote_addr = host_vars.get("ansible_host") or host
        self.remote_user = None
        self.port = None
        self.password = None
        self.private_key_file = None
        self.timeout = None
        self.become_pass = None


# Options every connection type of ours takes, on top of its own
# DOCUMENTATION (merged by register_options and the collection's docs).
COMMON_OPTIONS = """
mitogen_via:
  description: Reach this host through another inventory host, C(host) or
    C(become_user@host); comma-separated for longer chains.
  vars: [{name: mitogen_via}]
mitogen_mask_remote_name:
  description: Show target processes as C(python(mitogen:ansible)) instead
    of naming the controller user, host and pid.
  type: bool
  vars: [{name: mitogen_mask_remote_name}]
mitogen_task_isolation:
  description: C(fork) runs each task in a fresh fork of the interpreter.
  vars: [{name: mitogen_task_isolation}]
mitogen_source_relay:
  description: Behind C(mitogen_via), module sources cross the link to the
    intermediary once and are handed on from its cache; false sends each
    target its own copy.
  type: bool
  default: true
  vars: [{name: mitogen_source_relay}]
"""


def common_options() -> Dict[str, Any]:
    import yaml

    return yaml.safe_load(COMMON_OPTIONS)


def register_options(name: str, base: str, documentation: str) -> None:
    """Give connection type `name` the builtin `base` plugin's options, the
    COMMON_OPTIONS and the ones in `documentation`, so get_option() reads
    exactly what the builtin plugin reads (vars, ansible.cfg, environment,
    CLI)."""
    import importlib

    import yaml
    from ansible import constants as C

    if C.config.get_configuration_definitions("connection", name):
        return
    if not C.config.get_configuration_definitions("connection", base):
        from ansible.plugins.loader import fragment_loader
        from ansible.utils.plugin_docs import add_fragments

        module = importlib.import_module("ansible.plugins.connection." + base)
        doc = yaml.safe_load(module.DOCUMENTATION)
        add_fragments(doc, module.__file__, fragment_loader=fragment_loader, is_module=False)
        C.config.initialize_plugin_configuration_definitions("connection", base, doc.get("options") or {})
    defs = dict(C.config.get_configuration_definitions("connection", base))
    defs.update(common_options())
    defs.update(yaml.safe_load(documentation).get("options") or {})
    C.config.initialize_plugin_configuration_definitions("connection", name, defs)


def connection_type(login_method: str, module: str) -> type:
    """The Connection class of plugin file mitogen_<login_method>.py (pass
    its __name__ as `module`), as connection_types.TYPES declares it:
    options registered, `transport`, `login_method` and `has_tty` set."""
    declared = connection_types.TYPES[login_method]
    register_options(declared.plugin, declared.base, declared.documentation())
    namespace = dict(transport=declared.plugin, login_method=login_method, has_tty=declared.has_tty,
                     __module__=module, __doc__="Connection type %s." % declared.plugin)
    return type("Connection", (Connection,), namespace)
