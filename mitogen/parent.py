"""Starting children: boot command, PTYs, password prompts, reaping, call chains.

Runs on the controller and on intermediaries (children that start their own
children; this module then arrives by import forwarding).  Connection
methods (mitogen/ssh.py, sudo.py, ...) subclass Options and Connection and
only declare argv and prompt/failure patterns; see docs/core.md.
"""
import base64
import getpass
import inspect
import itertools
import logging
import os
import pty
import re
import select
import signal
import socket
import subprocess
import termios
import threading
import time
import tty
import zlib
from typing import Any, List, NamedTuple, Optional

import mitogen
import mitogen.core
from mitogen.core import Context, Kwargs, Message, StreamError

LOG = logging.getLogger('mitogen')

DEFAULT_CONNECT_TIMEOUT = 30.0


class EofError(StreamError):
    """The child closed its output before it finished booting."""


class CancelledError(StreamError):
    """The connection attempt was abandoned because the broker shut down."""


class PasswordError(StreamError):
    """A password was required but missing, or it was refused."""


class ConnectError(StreamError):
    """The child reported a failure pattern (e.g. 'Permission denied')."""


# ---------------------------------------------------------------------------
# Boot stages.  Stage 1 travels on the command line (zlib + base64) and must
# work under any POSIX sh; it announces itself, reads the payload from stdin
# and re-executes the interpreter with a descriptive argv[0], leaving the
# payload in a pipe on fd 100.  Stage 2 loads the core from that pipe.
# The re-executed interpreter cannot find a virtualenv's pyvenv.cfg from
# the made-up argv[0], so stage 1 also hands over its executable, prefixes
# and sys.path, which stage 2 adopts.
# argv[0] then has no directory, so Python locates its stdlib relative to
# the working directory: stage 1 runs exec from the interpreter's directory
# and stage 2 changes back.
# A forked child of stage 1 writes the payload into that pipe while the
# interpreter re-executes and reads it; stage 2 reaps the writer.  Writing
# it before exec would rely on the pipe holding the whole payload, and the
# kernel shrinks new pipes to one page once a user owns many pipe buffers
# (fs.pipe-user-pages-soft; all containers' root share one account), which
# deadlocked boots on busy hosts.
# Stage 1 may find stdin non-blocking: with sudo's I/O logging (`Defaults
# log_output`) sudo relays the child's stdout and sets O_NONBLOCK on its own
# stdout, which is the same socket as the child's stdin; so it waits with
# select() when a read would block.
# Stage 2 goes back to the directory the child was started in; a user that
# may not enter it (sudo to nobody from /root) starts in / and keeps the
# refused path in mitogen.core.denied_cwd (programs it runs want to know).

_STAGE2 = '''import os,sys,types,zlib
d=None
try:os.chdir(sys.argv[1])
except OSError:d=sys.argv[1];os.chdir("/")
w=int(sys.argv[2])
del sys.argv[1:]
b=b""
while 1:
 c=os.read(100,1<<20)
 if not c:break
 b+=c
os.close(100)
os.waitpid(w,0)
h=int(b[:10]);e=b[10:10+h].decode("utf-8","surrogateescape").split("\\0");b=b[10+h:]
sys.executable,sys.prefix,sys.exec_prefix=e[:3];sys.path[:]=e[3:]
n=int(b[:10]);z=b[10:10+n]
p=types.ModuleType("mitogen");p.__path__=[];sys.modules["mitogen"]=p
m=types.ModuleType("mitogen.core");sys.modules["mitogen.core"]=m;p.core=m
exec(compile(zlib.decompress(z),"<mitogen.core>","exec"),m.__dict__)
m.denied_cwd=d
m._child_main(b[10+n:],z)'''

_STAGE1 = '''import os,sys,select
def r(n):
 b=b""
 while len(b)<n:
  try:c=os.read(0,n-len(b))
  except BlockingIOError:select.select([0],[],[]);continue
  if not c:os._exit(1)
  b+=c
 return b
os.write(1,b"MGN:S1\\n")
d=r(int(r(10)))
i=d.index(b"\\0")
e="\\0".join([sys.executable,sys.prefix,sys.exec_prefix]+sys.path).encode("utf-8","surrogateescape")
R,W=os.pipe()
w=os.fork()
if not w:
 try:
  os.close(R)
  v=memoryview(b"%%010d"%%len(e)+e+d[i+1:])
  while v:v=v[os.write(W,v):]
 finally:os._exit(0)
os.close(W)
os.dup2(R,100)
os.close(R)
try:c=os.getcwd()
except OSError:c="/"
os.chdir(os.path.dirname(sys.executable))
os.execv(sys.executable,[d[:i].decode(),"-c",%r,c,str(w)])''' % (_STAGE2,)

_core_z = None
_core_lock = threading.Lock()
_id_lock = threading.Lock()


def _new_locks_after_fork() -> None:
    # Another thread of the parent may have held one at fork().
    global _core_lock, _id_lock
    _core_lock = threading.Lock()
    _id_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_locks_after_fork)


def get_core_source_z() -> bytes:
    """Minified, compressed mitogen.core, computed once per process."""
    global _core_z
    with _core_lock:
        if _core_z is None:
            cached = getattr(mitogen, 'core_source_z', None)
            if cached is not None:
                _core_z = cached
            else:
                from mitogen.minify import minimized
                with open(mitogen.core.__file__.replace('.pyc', '.py'), 'rb') as fp:
                    src = minimized(fp.read())
                _core_z = zlib.compress(src, 9)
        return _core_z


def get_stage1_argument() -> str:
    encoded = base64.b64encode(zlib.compress(_STAGE1.encode(), 9)).decode()
    return 'import zlib,base64;exec(zlib.decompress(base64.b64decode("%s")))' % (encoded,)


def default_remote_name() -> str:
    try:
        user = getpass.getuser()
    except Exception:
        user = str(os.getuid())
    return 'python(mitogen:%s@%s:%d)' % (user, socket.gethostname().split('.')[0], os.getpid())


def shell_join(argv: List[str]) -> str:
    """Quote argv for a POSIX sh command line (used by ssh-like methods)."""
    import shlex
    return ' '.join(shlex.quote(a) for a in argv)


#: Command-line flags whose value is a secret (kubectl --token, ...), as
#: `--flag value` or `--flag=value`.
SECRET_FLAGS = ('--token', '--password', '--passwd', '--client-key-data', '--auth-token', '--become-pass')


def _secret_flag_value(args, i):
    """The secret carried by args[i] (or by args[i] with args[i-1]), or None."""
    arg = args[i]
    if not isinstance(arg, str):
        return None
    flag, eq, value = arg.partition('=')
    if eq and flag in SECRET_FLAGS:
        return value
    if i and args[i - 1] in SECRET_FLAGS:
        return arg
    return None


def mask_argv(argv: List[Any]) -> List[Any]:
    """Copy of argv with the values of SECRET_FLAGS replaced by '[secret]'."""
    out = list(argv)
    for i in range(len(out)):
        value = _secret_flag_value(argv, i)
        if value is not None:
            out[i] = out[i][:len(out[i]) - len(value)] + mitogen.core.MASK
    return out


def register_argv_secrets(argv: List[Any]) -> None:
    """Mask the values of SECRET_FLAGS found in argv in every later log line."""
    for i in range(len(argv)):
        value = _secret_flag_value(argv, i)
        if value:
            mitogen.core.register_secret(value)


def _wait_fds(readers, writers, timeout):
    """poll() wrapper returning (readable, writable); unlike select() it takes fds >= 1024."""
    poller = select.poll()
    for fd in set(readers) | set(writers):
        mask = (select.POLLIN if fd in readers else 0) | (select.POLLOUT if fd in writers else 0)
        poller.register(fd, mask)
    r, w = [], []
    for fd, ev in poller.poll(int(timeout * 1000)):
        if fd in readers and ev & (select.POLLIN | select.POLLHUP | select.POLLERR | select.POLLNVAL):
            r.append(fd)
        if fd in writers and ev & (select.POLLOUT | select.POLLERR | select.POLLHUP):
            w.append(fd)
    return r, w


# ---------------------------------------------------------------------------
# Options and Connection base classes.


class Options(object):
    """Keyword options common to every connection method.

    Method modules subclass this, accept their own keywords and pass the rest
    on with ``super().__init__(**kwargs)``.
    """

    #: Interpreter used when python_path is not given (local uses sys.executable).
    default_python_path = 'python3'

    def __init__(self, max_message_size=None, name=None, remote_name=None, python_path=None,
                 debug=False, connect_timeout=None, profiling=False, unidirectional=False,
                 context_id=None, password=None, log_level=None, max_child_message_size=None):
        self.max_message_size = max_message_size or mitogen.core.DEFAULT_MAX_MESSAGE_SIZE
        #: Largest frame accepted from the child (it is untrusted).
        self.max_child_message_size = min(
            self.max_message_size, max_child_message_size or mitogen.core.DEFAULT_MAX_CHILD_MESSAGE_SIZE)
        self.name = name
        self.remote_name = remote_name
        if isinstance(python_path, str):
            python_path = [python_path]
        self.python_path = list(python_path) if python_path else None
        self.debug = debug
        self.connect_timeout = DEFAULT_CONNECT_TIMEOUT if connect_timeout is None else float(connect_timeout)
        self.profiling = profiling
        self.unidirectional = unidirectional
        self.context_id = context_id
        # Secret keeps the value out of logs and reprs.
        self.password = None if password is None else mitogen.core.Secret(password)
        self.log_level = log_level


class Connection(object):
    """Spawns one child, answers its prompts and waits for the boot marker.

    Subclasses override get_argv() (wrapping get_boot_command()) and the
    pattern attributes.  Runs in the thread that called router.connect().
    """

    options_class = Options
    #: Give the child a pty as controlling terminal (prompts via /dev/tty, requiretty).
    use_tty = False
    #: Level of the child's stderr lines after boot (mitogen.stderr.<name>);
    #: with `diag_verbose` the boot output is logged at that level too.
    diag_log_level = logging.WARNING
    diag_verbose = False
    #: Carry stdin/stdout over the pty too (for programs that read passwords from stdin).
    stdio_over_tty = False
    #: Write the payload at once instead of after stage 1's marker: only
    #: where nothing but the interpreter can read our stdin (no prompt
    #: answered there).  Saves a round trip on a slow link.
    eager_payload = False
    #: Regexes (bytes, case-insensitive) matching a password prompt.
    password_patterns = ()
    #: (regex, message) pairs: output matching regex means the attempt failed.
    failure_patterns = ()
    #: Regexes (bytes, case-insensitive): output saying the password was refused
    #: (e.g. su's "Authentication failure"); raises PasswordError.
    incorrect_patterns = ()
    password_required_msg = 'a password is required but none was given'
    password_incorrect_msg = 'the password was refused'
    #: Prefix of the default context name.
    name_prefix = 'local'

    def __init__(self, options, router):
        self.options = options
        self.router = router
        self.pid = None
        self.proc = None
        self._transport_r = self._transport_w = None
        self._diag_fd = None
        self._tty_fd = None
        self._password_sent = 0
        self._output = b''
        self._scanned = 0

    # -- to override --
    def get_python_argv(self) -> List[str]:
        return list(self.options.python_path or [self.options.default_python_path])

    def get_boot_command(self) -> List[str]:
        """argv that starts the first stage with the configured interpreter."""
        return self.get_python_argv() + ['-c', get_stage1_argument()]

    def get_argv(self) -> List[str]:
        """Full argv of the child process; methods wrap get_boot_command()."""
        return self.get_boot_command()

    def get_env(self) -> Optional[dict]:
        return None

    def default_name(self) -> str:
        return '%s.%d' % (self.name_prefix, self.pid)

    def use_tty_now(self) -> bool:
        return self.use_tty or self.stdio_over_tty

    def preexec(self) -> None:
        """Hook run in the child between fork and exec, after setsid() and
        (with a tty) after taking the pty as controlling terminal.  Only
        plain syscalls there: no locks, no imports.  Subclasses override it;
        the base version is never called (keeps subprocess on its fast
        vfork path)."""

    def eof_message(self, output: str) -> str:
        """Text of the EofError raised when the child exits before booting.

        Override to explain method-specific causes (e.g. a missing
        interpreter); output is everything the child printed."""
        return 'child exited before it finished booting: %s' % (output.strip() or 'no output',)

    # -- spawning --
    def _preexec(self):
        # Runs in the child after setsid(): make the pty our controlling tty.
        import fcntl
        fcntl.ioctl(2, termios.TIOCSCTTY, 0)

    def _child_setup(self):
        if self.use_tty_now():
            self._preexec()
        self.preexec()

    def _preexec_fn(self):
        """What subprocess runs before exec in the child, or None (faster spawn)."""
        if type(self).preexec is not Connection.preexec:
            return self._child_setup
        return self._preexec if self.use_tty_now() else None

    def spawn(self) -> None:
        argv = self.get_argv()
        register_argv_secrets(argv)
        LOG.debug('%s: spawning %s', self.__class__.__module__,
                  mitogen.core.mask_secrets(repr(mask_argv(argv[:-1]) + ['...'])))
        close_after = []
        if self.stdio_over_tty:
            master, slave = pty.openpty()
            tty.setraw(slave)
            stdin = stdout = stderr = slave
            close_after.append(slave)
            self._transport_r = master
            self._transport_w = os.dup(master)
            self._tty_fd = self._transport_w
        else:
            parent_sock, child_sock = socket.socketpair()
            stdin = stdout = child_sock.fileno()
            self._transport_r = parent_sock.detach()
            self._transport_w = os.dup(self._transport_r)
            close_after.append(child_sock)
            if self.use_tty:
                master, slave = pty.openpty()
                tty.setraw(master)
                stderr = slave
                close_after.append(slave)
                self._diag_fd = self._tty_fd = master
            else:
                r, w = os.pipe()
                stderr = w
                close_after.append(w)
                self._diag_fd = r
        for fd in (self._transport_r, self._transport_w, self._diag_fd):
            if fd is not None:
                mitogen.core.set_cloexec(fd)
        try:
            self.proc = subprocess.Popen(
                argv, stdin=stdin, stdout=stdout, stderr=stderr, close_fds=True,
                start_new_session=True, env=self.get_env(),
                preexec_fn=self._preexec_fn(),
            )
        except OSError as e:
            self._close_all()
            raise StreamError('cannot start %r: %s' % (argv[0], e))
        finally:
            for obj in close_after:
                obj.close() if hasattr(obj, 'close') else os.close(obj)
        self.pid = self.proc.pid
        # We reap the process ourselves (Reaper); stop subprocess trying too.
        self.proc.returncode = 0
        try:
            subprocess._active.remove(self.proc)
        except (AttributeError, ValueError):
            pass

    def _close_all(self):
        for fd in set([self._transport_r, self._transport_w, self._diag_fd, self._tty_fd]):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._transport_r = self._transport_w = self._diag_fd = self._tty_fd = None

    # -- prompt scanning --
    def _scan_output(self, data: bytes) -> None:
        self._output += data
        text = self._output[self._scanned:]
        for pattern in self.incorrect_patterns:
            if re.search(pattern, text, re.I):
                raise PasswordError(self.password_incorrect_msg if self._password_sent
                                    else self.password_required_msg)
        for pattern, message in self.failure_patterns:
            if re.search(pattern, text, re.I):
                raise ConnectError('%s: %s' % (message, mitogen.core.to_text(self._output).strip()))
        for pattern in self.password_patterns:
            m = re.search(pattern, text, re.I)
            if m:
                self._scanned += m.end()
                self._answer_password()
                return

    def _answer_password(self):
        if self.options.password is None:
            raise PasswordError(self.password_required_msg)
        if self._password_sent:
            raise PasswordError(self.password_incorrect_msg)
        self._password_sent += 1
        fd = self._tty_fd if self._tty_fd is not None else self._transport_w
        os.write(fd, (self.options.password + '\n').encode('utf-8'))

    # -- boot protocol --
    def child_config(self, context_id: int, name: str) -> dict:
        """What the child's mitogen.core.build_child() is told."""
        opts = self.options
        level = opts.log_level
        if level is None:
            level = logging.DEBUG if opts.debug else logging.getLogger('mitogen').getEffectiveLevel()
        return {
            'context_id': context_id,
            'parent_ids': [self.router.context_id] + list(mitogen.parent_ids),
            'name': name,
            'debug': bool(opts.debug),
            'log_level': level,
            'max_message_size': opts.max_message_size,
            'unidirectional': bool(opts.unidirectional),
            'prefer_parent': list(getattr(self.router, 'prefer_parent', ())),
            'version': mitogen.__version__,
            'profiling': bool(opts.profiling),
            'router_upgrade': ROUTER_UPGRADE,
        }

    def _payload(self, context_id: int, name: str) -> bytes:
        core_z = get_core_source_z()
        opts = self.options
        config = self.child_config(context_id, name)
        remote_name = (opts.remote_name or default_remote_name()).encode('utf-8')
        body = remote_name + b'\0' + b'%010d' % len(core_z) + core_z + mitogen.core.encode(config)
        return b'%010d' % len(body) + body

    def _read(self, fd):
        try:
            return os.read(fd, 65536)
        except OSError:
            return b''

    def _boot(self, context_id: int, name: str, deadline: float) -> bytes:
        """Drive the child from spawn to READY marker; returns bytes after it."""
        payload = self._payload(context_id, name)
        tr, tw = self._transport_r, self._transport_w
        buf = b''
        sent = 0 if self.eager_payload else -1
        stage1 = False
        diag = self._diag_fd
        while True:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise mitogen.core.TimeoutError(
                    'timed out after %.1fs waiting for the child to boot; output: %r'
                    % (self.options.connect_timeout, mitogen.core.to_text(self._output)[-500:]))
            if not self.router.broker.alive:
                raise CancelledError('broker shut down while connecting')
            rl = [tr] + ([diag] if diag is not None else [])
            wl = [tw] if 0 <= sent < len(payload) else []
            r, w = _wait_fds(rl, wl, min(timeout, 1.0))
            if diag is not None and diag in r:
                data = self._read(diag)
                if not data:
                    diag = None
                else:
                    self._scan_output(data)
            if tr in r:
                data = self._read(tr)
                if not data:
                    raise EofError(self.eof_message(mitogen.core.to_text(self._output)))
                buf += data
                if not stage1:
                    i = buf.find(mitogen.core.STAGE1_MARKER)
                    if i < 0:
                        self._scan_output(buf)
                        buf = b''
                        continue
                    self._scan_output(buf[:i])
                    buf = buf[i + len(mitogen.core.STAGE1_MARKER):]
                    stage1 = True
                    if sent < 0:
                        sent = 0
                        w = [tw]
                if stage1:
                    i = buf.find(mitogen.core.READY_MARKER)
                    if i >= 0:
                        return buf[i + len(mitogen.core.READY_MARKER):]
            if tw in w and 0 <= sent < len(payload):
                try:
                    sent += os.write(tw, payload[sent:sent + 65536])
                except BlockingIOError:
                    pass

    def connect(self, context_id: int) -> Context:
        """Start the child and return its registered Context (calling thread)."""
        deadline = time.monotonic() + self.options.connect_timeout
        self.spawn()
        name = self.options.name or self.default_name()
        try:
            leftover = self._boot(context_id, name, deadline)
        except BaseException:
            self._close_all()
            self._kill_now()
            raise
        context = self.router.context_by_id(context_id, name=name)
        context.name = name
        stream = mitogen.core.Stream(self.router, self._transport_r, self._transport_w,
                                     remote_id=context_id, name=name)
        stream.max_message_size = self.options.max_child_message_size
        self.router.register(context, stream)
        diag_stream = None
        diag_logger = logging.getLogger('mitogen.stderr.%s' % (name,))
        if self.diag_verbose:
            for line in mitogen.core.to_text(self._output).splitlines():
                diag_logger.log(self.diag_log_level, '%s', line.rstrip('\r'))
        if self._diag_fd is not None:
            diag_stream = mitogen.core.LineLogStream(
                self.router.broker, self._diag_fd, diag_logger,
                self.diag_log_level, keep_open=self._diag_fd == self._tty_fd)
            diag_stream.start()
        reaper = Reaper(self.router.broker, self.pid, name)
        mitogen.core.listen(stream, 'disconnect', reaper.start)
        if diag_stream is not None:
            mitogen.core.listen(stream, 'disconnect', diag_stream.disconnect)
        stream.start(leftover)
        return context

    def _kill_now(self):
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except OSError:
            pass


# ---------------------------------------------------------------------------
# Reaping children without polling: pidfd where available, else backoff timers.


class Reaper(object):
    """Collects one child's exit status after its stream disconnected (broker thread)."""

    kill_after = 5.0
    _tracked = {}

    def __init__(self, broker, pid, name):
        self.broker = broker
        self.pid = pid
        self.name = name
        self._pidfd = None
        self._delay = 0.005
        self._timer = None
        self._signals = [signal.SIGTERM, signal.SIGKILL]
        Reaper._tracked.setdefault(broker, {})[pid] = self
        if len(Reaper._tracked[broker]) == 1:
            broker.on_exit(lambda: _reap_all(broker))

    def _try(self) -> bool:
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 0
        if pid == 0:
            return False
        LOG.debug('%s: child %d exited with status %r', self.name, self.pid, status)
        self._finish()
        return True

    def _finish(self):
        Reaper._tracked.get(self.broker, {}).pop(self.pid, None)
        if self._pidfd is not None:
            self.broker.poller.stop_receive(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        if self._timer is not None:
            self.broker.cancel_timer(self._timer)

    def start(self):
        if self._try():
            return
        if hasattr(os, 'pidfd_open'):
            try:
                self._pidfd = os.pidfd_open(self.pid)
                self.broker.poller.start_receive(self._pidfd, self._try)
            except OSError:
                self._pidfd = None
        if self._pidfd is None:
            self._backoff()
        self._timer = self.broker.timer(self.kill_after, self._escalate)

    def _backoff(self):
        if not self._try():
            self._delay = min(self._delay * 2, 0.5)
            self.broker.timer(self._delay, self._backoff)

    def _escalate(self):
        if self.pid not in Reaper._tracked.get(self.broker, {}):
            return
        sig = self._signals.pop(0) if self._signals else signal.SIGKILL
        LOG.debug('%s: child %d still running, sending signal %d', self.name, self.pid, sig)
        try:
            os.kill(self.pid, sig)
        except OSError:
            pass
        self._timer = self.broker.timer(2.0, self._escalate)


def _reap_all(broker, timeout=2.0):
    """Broker exit: wait briefly for remaining children, then kill them."""
    reapers = list(Reaper._tracked.pop(broker, {}).values())
    deadline = time.monotonic() + timeout
    for reaper in reapers:
        while True:
            try:
                pid, _ = os.waitpid(reaper.pid, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                break
            if time.monotonic() > deadline:
                try:
                    os.kill(reaper.pid, signal.SIGKILL)
                    os.waitpid(reaper.pid, 0)
                except OSError:
                    pass
                break
            _wait_exit(reaper.pid, deadline - time.monotonic())
        if reaper._pidfd is not None:
            os.close(reaper._pidfd)


def _wait_exit(pid, timeout):
    if hasattr(os, 'pidfd_open'):
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            return
        try:
            _wait_fds([fd], [], max(0.0, timeout))
        finally:
            os.close(fd)
    else:
        time.sleep(min(0.02, max(0.0, timeout)))


# ---------------------------------------------------------------------------
# Intermediaries: serve our children's GET_MODULE from what we received.


class ModuleForwarder(object):
    """Answers GET_MODULE from children using this context's importer cache."""

    def __init__(self, router, importer):
        self.router = router
        self.importer = importer
        router.add_handler(self._on_get_module, mitogen.core.GET_MODULE, policy=self._from_child)

    def _from_child(self, msg, stream):
        return stream is not None and not stream.is_parent

    def _on_get_module(self, msg):
        if msg.is_dead:
            return
        try:
            fullname = mitogen.core.decode_control(msg)
        except StreamError as e:
            LOG.error('%r: bad GET_MODULE from %r: %s', self, msg.src_id, e)
            return
        if type(fullname) is not str:
            return
        stream = msg.stream
        dst = msg.src_id
        self.importer.request(fullname, callback=lambda tup: self._send(stream, dst, tup))

    def _send(self, stream, dst, tup):
        for rel in tup[4]:
            rtup = self.importer.cache.get(rel)
            if rtup is not None and rel not in stream.sent_modules:
                self._send_one(stream, dst, rtup)
        if tup[0] not in stream.sent_modules or tup[3] is None:
            self._send_one(stream, dst, tup)

    def _send_one(self, stream, dst, tup):
        stream.sent_modules.add(tup[0])
        self.router.route(Message.pickled(tup, dst_id=dst, handle=mitogen.core.LOAD_MODULE))


# ---------------------------------------------------------------------------
# Connecting, from any context.

_next_id = itertools.count(1)


def allocate_id(router) -> int:
    """A context id unique in the whole tree (the master hands them out)."""
    if mitogen.is_master and router.context_id == 0:
        with _id_lock:
            return next(_next_id)
    recv = mitogen.core.Receiver(router, persist=False)
    router.route(Message(dst_id=0, handle=mitogen.core.ALLOCATE_ID, reply_to=recv.handle))
    return recv.get(timeout=30).unpickle()


def _on_allocate_id(msg):
    """Master: a context below us starts a child.  The new id may be
    claimed (ADD_ROUTE) only through the stream the request came on."""
    if msg.is_dead:
        return
    context_id = allocate_id(msg.router)
    if msg.stream is not None and not msg.router.grant_route(msg.stream, context_id):
        msg.reply(mitogen.core.CallError('too many unclaimed context ids'))
        return
    msg.reply(context_id)


def grant_via_path(router, via: Context, context_id: int) -> None:
    """A child of `via` will be `context_id`: let it be routed on the way.

    Our own stream toward `via` gets the grant here; each context between
    us and `via` (via.via, ...) gets a GRANT_ROUTE naming the stream toward
    `via`.  The grants travel ahead of the connect call on the same
    streams, so they arrive before the child's ADD_ROUTE comes back."""
    router.grant_route(router._stream_by_id.get(via.context_id), context_id)
    hop = via.via
    while hop is not None:
        router.route(Message.pickled((context_id, via.context_id), dst_id=hop.context_id,
                                     handle=mitogen.core.GRANT_ROUTE))
        hop = hop.via


def install_master_handlers(router):
    router.add_handler(_on_allocate_id, mitogen.core.ALLOCATE_ID)


def _ensure_forwarder(router):
    if mitogen.is_master or getattr(router, '_module_forwarder', None) is not None:
        return
    econtext = getattr(mitogen, '_econtext', None)
    if econtext is None or econtext.importer is None:
        return
    router._module_forwarder = ModuleForwarder(router, econtext.importer)


def import_method(method_name: str):
    """The module implementing connection method `method_name` (METHODS)."""
    method = METHODS.get(method_name)
    if method is None:
        raise mitogen.core.Error('unknown connection method %r' % (method_name,))
    try:
        return __import__(method.module, fromlist=['Connection'])
    except ImportError as e:
        raise mitogen.core.Error('connection method %r is not available: %s' % (method_name, e))


def connect_context(router, method_name: str, name: Optional[str] = None, via: Optional[Context] = None,
                    **kwargs: Any) -> Context:
    """Start a child with the named method; implementation of Router.connect."""
    if via is not None:
        return _connect_via(router, via, method_name, name, kwargs)
    module = import_method(method_name)
    kwargs.setdefault('max_message_size', router.max_message_size)
    kwargs.setdefault('max_child_message_size', router.max_child_message_size)
    kwargs.setdefault('unidirectional', router.unidirectional)
    kwargs.setdefault('profiling', getattr(router, 'profiling', False))
    try:
        options = module.Options(name=name, **kwargs)
    except TypeError as e:
        # Name the method: "__init__() got an unexpected keyword" alone is opaque.
        raise TypeError('connection method %r: %s' % (method_name, e)) from None
    conn = module.Connection(options, router)
    context_id = options.context_id or allocate_id(router)
    _ensure_forwarder(router)
    return conn.connect(context_id)


#: Connection errors raised in a via context arrive as CallError; these are
#: raised again as themselves, with the remote message.
_VIA_ERRORS = dict(('%s.%s' % (cls.__module__, cls.__qualname__), cls) for cls in (
    EofError, CancelledError, PasswordError, ConnectError, StreamError, mitogen.core.TimeoutError))


def _connect_via(router, via, method_name, name, kwargs):
    context_id = allocate_id(router)
    grant_via_path(router, via, context_id)
    kwargs = Kwargs(kwargs, context_id=context_id)
    try:
        name = via.call(_remote_connect, method_name, name, kwargs)
    except mitogen.core.CallError as e:
        local_cls = _VIA_ERRORS.get(e.type_name)
        if local_cls is None:
            raise
        raise local_cls('%s (via %s)' % (e.remote_msg, via.name or via.context_id)) from e
    context = router.context_by_id(context_id, name=name)
    context.name = name
    context.via = via
    return context


@mitogen.core.takes_router
def _remote_connect(method_name, name, kwargs, router=None):
    """Runs in the via context: start the child there, return its name."""
    return connect_context(router, method_name, name=name, **kwargs).name


class Router(mitogen.core.Router):
    """A router that can start children (controller and intermediaries)."""

    #: Top-level package names children should always import from us.
    prefer_parent = ()
    #: Children (and their descendants) write cProfile stats to /tmp on exit.
    profiling = False

    def allocate_id(self) -> int:
        return allocate_id(self)

    def connect(self, method_name: str, name: Optional[str] = None, **kwargs: Any) -> Context:
        """Start a child using mitogen.<method_name>'s Options/Connection."""
        return connect_context(self, method_name, name=name, **kwargs)


# ---------------------------------------------------------------------------
# The connection methods: router.ssh('host'), router.sudo(), router.setns('c', 'docker').


class Method(NamedTuple):
    """One connection method, declared once: METHODS below.

    Everything that lists methods is derived from here: the Router
    shortcuts, the names a child's plain router offers (ROUTER_UPGRADE),
    and ansible_mitogen's login/become split and connection types.
    """

    name: str
    #: Login methods reach a new machine, container or interpreter; the last
    #: login hop of a stack names the target machine.  Become methods
    #: switch user on their parent's machine; fork clones its parent.
    role: str
    #: Parameters accepted positionally, in order (the first parameters of
    #: the module's Options); every other option is passed by keyword.
    positional: tuple
    summary: str

    @property
    def module(self) -> str:
        """The module implementing it: its Options and Connection classes."""
        return 'mitogen.' + self.name


METHODS = dict((m.name, m) for m in (
    Method('local', 'login', (), 'a new local Python interpreter'),
    Method('fork', 'fork', (), 'a fork of this process (controller or child)'),
    Method('ssh', 'login', ('hostname',), 'Python on a host reached with ssh'),
    Method('sudo', 'become', ('username',), 'Python as another user through sudo'),
    Method('su', 'become', ('username',), 'Python as another user through su'),
    Method('doas', 'become', ('username',), 'Python as another user through doas'),
    Method('docker', 'login', ('container', 'image'),
           'Python in a docker container (existing, or a new one from image)'),
    Method('podman', 'login', ('container',), 'Python in a podman container'),
    Method('buildah', 'login', ('container',), 'Python in a buildah working container'),
    Method('lxc', 'login', ('container',), 'Python in an LXC container (lxc-attach)'),
    Method('lxd', 'login', ('container',), 'Python in an LXD container (lxc exec)'),
    Method('jail', 'login', ('container',), 'Python in a FreeBSD jail (jexec)'),
    Method('kubectl', 'login', ('pod',), 'Python in a Kubernetes pod (kubectl exec)'),
    Method('setns', 'login', ('container', 'kind'), 'Python entering a container\'s namespaces directly'),
    Method('machinectl', 'login', ('container',), 'Python in a systemd-nspawn machine (machinectl shell)'),
))


def methods_with_role(role: str) -> tuple:
    """Names of the methods whose role is `role` ('login', 'become', 'fork')."""
    return tuple(m.name for m in METHODS.values() if m.role == role)


#: Sent in every child's boot config: the plain mitogen.core.Router there
#: becomes this module's Router when user code first asks for one of these
#: (space-separated: the config travels uncompressed with every boot).
ROUTER_UPGRADE = (__name__, ' '.join(['connect'] + list(METHODS)))


def bind_shortcut_args(method_name: str, args: tuple, kwargs: dict) -> dict:
    """Merge positional args into kwargs by the method's positional names."""
    names = METHODS[method_name].positional
    if len(args) > len(names):
        raise TypeError('router.%s() takes at most %d positional argument%s (%s), %d given'
                        % (method_name, len(names), '' if len(names) == 1 else 's',
                           ', '.join(names) or 'keywords only', len(args)))
    for name, value in zip(names, args):
        if name in kwargs:
            raise TypeError('router.%s() got multiple values for argument %r' % (method_name, name))
        kwargs[name] = value
    return kwargs


def _make_shortcut(method: Method):
    names = method.positional

    def shortcut(self, *args: Any, **kwargs: Any) -> Context:
        return self.connect(method.name, **bind_shortcut_args(method.name, args, kwargs))

    # help() shows the documented parameters instead of (*args, **kwargs).
    P = inspect.Parameter
    params = [P('self', P.POSITIONAL_OR_KEYWORD)]
    params += [P(n, P.POSITIONAL_OR_KEYWORD, default=None) for n in names]
    params += [P('kwargs', P.VAR_KEYWORD)]
    shortcut.__signature__ = inspect.Signature(params, return_annotation=Context)
    shortcut.__name__ = method.name
    shortcut.__qualname__ = 'Router.' + method.name
    shortcut.__doc__ = (
        'Start %s and return its Context.\n\n'
        'Options are those of %s.Options (and the generic ones of\n'
        'mitogen.parent.Options: name, via, python_path, remote_name,\n'
        'connect_timeout, debug, ...); %s.'
        % (method.summary, method.module,
           'only keywords' if not names else 'positionally: ' + ', '.join(names)))
    return shortcut


for _method in METHODS.values():
    setattr(Router, _method.name, _make_shortcut(_method))
del _method


# ---------------------------------------------------------------------------
# Call chains.


class CallChain(object):
    """Sequence of calls to one context sharing error state.

    With pipelined=True, call_no_reply() does not wait; the first exception
    raised by any of them is re-raised by the next call()/call_async() reply.
    """

    _counter = itertools.count(1)

    def __init__(self, context: Context, pipelined: bool = False):
        self.context = context
        self.pipelined = pipelined
        self.chain_id = self._make_chain_id() if pipelined else None
        # the target may remember an error of this chain: only after a call
        # nobody waited for, or one that failed
        self._dirty = False

    def _make_chain_id(self):
        return '%s-%d-%x-%d' % (mitogen.context_id, os.getpid(), id(self), next(self._counter))

    def reset(self) -> None:
        """Forget remembered errors; later calls start a fresh chain.

        A chain whose calls all succeeded and were waited for left nothing
        to forget: no message is sent (one less per Ansible task)."""
        if self.chain_id is None or not self._dirty:
            return
        self._dirty = False
        old = self.chain_id
        self.chain_id = self._make_chain_id()
        self.context.call_no_reply(mitogen.core.Dispatcher.forget_chain, old)

    def call_no_reply(self, fn, *args, **kwargs) -> None:
        self._dirty = True
        self.context.send(mitogen.core.make_call_message(fn, args, kwargs, self.chain_id))

    def call_async(self, fn, *args, **kwargs):
        self._dirty = True  # whoever reads the reply may never tell us it failed
        return self._send_async(fn, args, kwargs)

    def _send_async(self, fn, args, kwargs):
        return self.context.send_async(mitogen.core.make_call_message(fn, args, kwargs, self.chain_id))

    def call(self, fn, *args, **kwargs):
        return self.call_after(None, fn, *args, **kwargs)

    def call_after(self, first, fn, *args, **kwargs):
        """call(), running `first()` (if not None) once the call is sent and
        before its reply is read: what it waits for overlaps the call's
        round trip.  Its exception is raised instead of the reply."""
        recv = self._send_async(fn, args, kwargs)
        try:
            if first is not None:
                first()
            return recv.get().unpickle()
        except BaseException:
            self._dirty = True
            raise
        finally:
            self.context.router.del_handler(recv.handle)
