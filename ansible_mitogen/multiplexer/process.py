"""Connection-multiplexer processes and the task workers' way to reach them.

`start()` runs once in the controller's strategy process (via activation):
it forks N multiplexers (N = CPU count, MITOGEN_CPU_COUNT overrides).  Each
multiplexer owns a `mitogen.master.Router`, a UNIX-socket listener and a
service pool (ContextService, FileService, PushFileService, the module
cache), and the connections of a stable share of the hosts (crc32 of the
inventory name modulo N).  Connections, interpreters and cached module code
live for the whole run.

Task workers (forked by Ansible from the strategy process, so they inherit
the socket paths) call `client(host)` to get a `(router, parent_context)`
pair connected to the host's multiplexer; the first one for a multiplexer
waits until it serves (start() does not wait, see there).

No orphans: each multiplexer watches a pipe whose write end only the
controller tree holds; when the controller exits for any reason (normal end,
Ctrl+C, kill) the pipe reaches EOF and the multiplexer shuts its router
down, which disconnects every target.
"""
import array
import atexit
import fcntl
import logging
import os
import select
import signal
import sys
import tempfile
import termios
import threading
import time
import zlib
from typing import Any, List, Optional, Tuple

LOG = logging.getLogger(__name__)

DEFAULT_POOL_SIZE = 16
STOP_GRACE = 10.0  # seconds multiplexers get to disconnect their targets


class Multiplexer:
    """Controller-side record of one forked multiplexer."""

    def __init__(self, index: int, path: str, pid: int, death_pipe: int, ready_fd: int) -> None:
        self.index = index
        self.path = path
        self.pid = pid
        self.death_pipe = death_pipe  # write end; closing it ends the child
        self.ready_fd = ready_fd  # read end; the child writes b"1" once serving
        self.ready = False  # seen serving (forked processes inherit the answer)


_multiplexers: List[Multiplexer] = []
_socket_dir: Optional[str] = None
_owner_pid: Optional[int] = None
_client: Optional[Tuple[int, Any]] = None  # (pid, {path: (router, context)})
_client_lock = threading.Lock()


def _new_client_lock() -> None:
    # An executor thread may hold it at fork(); the child starts its own client.
    global _client_lock
    _client_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_client_lock)


def cpu_count() -> int:
    """How many multiplexers to run: MITOGEN_CPU_COUNT or the CPU count."""
    value = os.environ.get("MITOGEN_CPU_COUNT")
    if value:
        return max(1, int(value))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def pool_size(forks: int) -> int:
    """Service threads per multiplexer: enough for `forks` parallel connects."""
    value = os.environ.get("MITOGEN_POOL_SIZE")
    if value:
        return max(1, int(value))
    return max(DEFAULT_POOL_SIZE, forks + 4)


def is_started() -> bool:
    return bool(_multiplexers)


def socket_paths() -> List[str]:
    return [mux.path for mux in _multiplexers]


def controller_pid() -> int:
    """The strategy process's pid, which names our interpreters on targets
    (transport_config.remote_name) and is the one process that holds
    context puts back (context_uses): the process that started the
    multiplexers, inherited by every process it forks; before that, this one."""
    return os.getpid() if _owner_pid is None else _owner_pid


def multiplexer_pids() -> List[int]:
    return [mux.pid for mux in _multiplexers]


def index_for(host: str, count: Optional[int] = None) -> int:
    """Stable multiplexer index owning `host` (same answer in every process)."""
    count = count or len(_multiplexers) or 1
    return zlib.crc32(host.encode("utf-8")) % count


def start(forks: int = 5, count: Optional[int] = None) -> None:
    """Fork the multiplexers (once per controller process tree)."""
    global _socket_dir, _owner_pid
    if _multiplexers:
        return
    _socket_dir = tempfile.mkdtemp(prefix="ansible-mitogen-")
    _owner_pid = os.getpid()
    size = pool_size(forks)
    for index in range(count or cpu_count()):
        _multiplexers.append(_fork_one(index, size))
    # Not waited for here: the first client() of each multiplexer waits, so
    # its start overlaps the play's start, and a play that never connects
    # (debug, set_fact, an empty play) never waits at all.
    atexit.register(stop)


def _fork_one(index: int, size: int) -> Multiplexer:
    path = os.path.join(_socket_dir or tempfile.gettempdir(), "mux-%d.sock" % index)
    death_r, death_w = os.pipe()
    ready_r, ready_w = os.pipe()
    # Flush before fork so buffered output is not written twice.
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(death_w)
        os.close(ready_r)
        status = 1
        try:
            _multiplexer_main(index, path, size, death_r, ready_w)
            status = 0
        except BaseException:
            LOG.exception("multiplexer %d crashed", index)
        finally:
            os._exit(status)
    os.close(death_r)
    os.close(ready_w)
    return Multiplexer(index, path, pid, death_w, ready_r)


def _wait_ready(mux: Multiplexer) -> None:
    """Block until `mux` serves its socket; raise if it died first.

    The byte is never read: any process of the tree (the strategy process,
    a worker or executor process forked from it) may ask, so each looks at
    the pipe without consuming it (FIONREAD: bytes waiting)."""
    if mux.ready:
        return
    select.select([mux.ready_fd], [], [])  # the byte, or EOF if the child died
    waiting = array.array("i", [0])
    fcntl.ioctl(mux.ready_fd, termios.FIONREAD, waiting)
    if not waiting[0]:
        raise RuntimeError("ansible_mitogen multiplexer %d (pid %d) failed to start" % (mux.index, mux.pid))
    mux.ready = True


def _multiplexer_main(index: int, path: str, size: int, death_fd: int, ready_fd: int) -> None:
    """Body of a multiplexer process: serve until the controller goes away."""
    # Ctrl+C reaches the whole process group; the controller decides when
    # we stop, via the death pipe, so in-flight cleanups still complete.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: _raise_exit())
    _close_inherited_fds(keep=(0, 1, 2, death_fd, ready_fd))
    _set_process_title("ansible-mitogen: multiplexer %d" % index)
    from ansible_mitogen.multiplexer import services

    server = services.MultiplexerServer(path, pool_size=size)
    try:
        os.write(ready_fd, b"1")
        os.close(ready_fd)
        _wait_for_eof(death_fd)
    except SystemExit:
        pass
    finally:
        server.shutdown()


def _raise_exit() -> None:
    raise SystemExit(0)


def _wait_for_eof(fd: int) -> None:
    while True:
        try:
            if not os.read(fd, 1):
                return
        except InterruptedError:
            continue


def _close_inherited_fds(keep: Tuple[int, ...]) -> None:
    # Pipes of Ansible's workers/result queue and other multiplexers' death
    # pipes must not stay open here, or their readers never see EOF.
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return
    for fd in fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _set_process_title(title: str) -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.prctl(15, title.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except Exception:
        pass


def stop() -> None:
    """End every multiplexer and wait for it (controller only, idempotent)."""
    if os.getpid() != _owner_pid:
        return
    for mux in _multiplexers:
        try:
            os.close(mux.death_pipe)
        except OSError:
            pass
    deadline = time.monotonic() + STOP_GRACE
    for mux in _multiplexers:
        _reap(mux.pid, deadline)
        # Only now: a multiplexer still starting writes its byte here.
        os.close(mux.ready_fd)
    del _multiplexers[:]
    if _socket_dir and os.path.isdir(_socket_dir):
        for name in os.listdir(_socket_dir):
            try:
                os.unlink(os.path.join(_socket_dir, name))
            except OSError:
                pass
        try:
            os.rmdir(_socket_dir)
        except OSError:
            pass


def _reap(pid: int, deadline: float) -> None:
    """Wait for a multiplexer to exit; SIGKILL it if it outlives `deadline`
    (a stuck shutdown must not hang the controller's exit)."""
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        if time.monotonic() > deadline:
            LOG.warning("multiplexer pid %d did not exit in time; killing it", pid)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        _wait_exit(pid, min(0.05, max(0.0, deadline - time.monotonic())))


def _wait_exit(pid: int, timeout: float) -> None:
    """Sleep until `pid` exits or `timeout` passes.  A pidfd wakes us the
    moment it exits: a multiplexer ends a few ms after its death pipe
    closes, and a fixed 50 ms nap added that much to every run's end."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd (Linux < 5.3, not Linux)
        time.sleep(timeout)
        return
    try:
        select.select([fd], [], [], timeout)
    finally:
        os.close(fd)


def client(host: str) -> Tuple[Any, Any]:
    """(router, multiplexer context) for `host`, connected once per process."""
    global _client
    if not _multiplexers:
        raise RuntimeError("ansible_mitogen multiplexers are not running; is the strategy active?")
    mux = _multiplexers[index_for(host)]
    path = mux.path
    with _client_lock:
        if _client is None or _client[0] != os.getpid():
            # A forked worker must not reuse its parent's broker or sockets.
            _client = (os.getpid(), {})
        conns = _client[1]
        if path not in conns:
            _wait_ready(mux)
            conns[path] = _connect_unix(path)
        return conns[path]


def _connect_unix(path: str) -> Tuple[Any, Any]:
    import mitogen.unix

    return mitogen.unix.connect(path)


def drop_client(path: Optional[str] = None) -> None:
    """Forget this process's multiplexer connections (after a broker death)."""
    global _client
    with _client_lock:
        if _client is not None and _client[0] == os.getpid():
            if path is None:
                _client = None
            else:
                _client[1].pop(path, None)

