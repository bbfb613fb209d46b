"""UNIX-socket listener and client: other local processes join the tree.

Runs on the controller side.  The Ansible multiplexer creates a Listener;
task-worker processes of the same user call connect() and become children
of the multiplexer's router, routed like any other child.  Their messages
carry the listener's own context id as auth_id (they act on its behalf).
"""
import logging
import os
import socket
import struct
import tempfile
import threading
from typing import Optional, Tuple

import mitogen
import mitogen.core
import mitogen.parent

LOG = logging.getLogger('mitogen')

# Handshake sent by the listener before framing starts: client id, our id.
_HELLO = struct.Struct('>qq')
_PEERCRED = struct.Struct('3i')


def make_socket_path() -> str:
    fd, path = tempfile.mkstemp(prefix='mitogen_unix_', suffix='.sock')
    os.close(fd)
    os.unlink(path)
    return path


class Listener(object):
    """Accepts connections on a UNIX socket (broker thread)."""

    #: Backoff bounds (seconds) while accept() fails for lack of resources.
    min_accept_delay = 0.05
    max_accept_delay = 2.0

    def __init__(self, router, path: Optional[str] = None, backlog: int = 100):
        self.router = router
        self.broker = router.broker
        self.path = path or make_socket_path()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(self.path):
            os.unlink(self.path)
        old_umask = os.umask(0o077)
        try:
            self._sock.bind(self.path)
        finally:
            os.umask(old_umask)
        self._sock.listen(backlog)
        self._sock.setblocking(False)
        self.rfd = self._sock.fileno()
        self.closed = False
        self._accept_delay = 0.0
        self.broker.defer_sync(self._attach)

    def _attach(self):
        self.broker.streams.add(self)
        self.broker.poller.start_receive(self.rfd, self._on_accept)

    def _pause_accepting(self, error):
        """accept() failed (EMFILE, ENFILE, ENOBUFS...): the pending connection
        stays readable, so polling on would spin.  Stop watching the socket
        and look again later, backing off while the condition lasts."""
        first = not self._accept_delay
        self._accept_delay = min(max(self._accept_delay * 2, self.min_accept_delay), self.max_accept_delay)
        (LOG.warning if first else LOG.debug)(
            '%r: accept failed (%s); retrying in %.2fs', self, error, self._accept_delay)
        self.broker.poller.stop_receive(self.rfd)
        self.broker.timer(self._accept_delay, self._resume_accepting)

    def _resume_accepting(self):
        if not self.closed:
            self.broker.poller.start_receive(self.rfd, self._on_accept)

    def _on_accept(self):
        try:
            sock, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self._pause_accepting(e)
            return
        self._accept_delay = 0.0
        pid, uid, _ = _PEERCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))
        if uid != os.getuid():
            LOG.error('%r: refused connection from pid %d with uid %d', self, pid, uid)
            sock.close()
            return
        if mitogen.is_master and self.router.context_id == 0:
            self._accept(sock, pid)
        else:
            # Id allocation needs a round trip to the master: not on the broker thread.
            threading.Thread(target=self._accept, args=(sock, pid), daemon=True).start()

    def _accept(self, sock, pid):
        try:
            context_id = mitogen.parent.allocate_id(self.router)
            sock.setblocking(True)
            sock.sendall(_HELLO.pack(context_id, self.router.context_id))
        except Exception as e:
            LOG.error('%r: handshake with pid %d failed: %s', self, pid, e)
            sock.close()
            return
        fd = sock.detach()
        mitogen.core.set_cloexec(fd)
        wfd = os.dup(fd)
        mitogen.core.set_cloexec(wfd)
        name = 'unix_client.%d' % (pid,)
        context = self.router.context_by_id(context_id, name=name)
        stream = mitogen.core.Stream(self.router, fd, wfd, remote_id=context_id, name=name)
        stream.auth_id = self.router.context_id
        self.broker.defer(self._register, context, stream)

    def _register(self, context, stream):
        self.router.register(context, stream)
        stream.start()

    def on_shutdown(self):
        self.disconnect()

    def disconnect(self):
        if self.closed:
            return
        self.closed = True
        self.broker.poller.stop_receive(self.rfd)
        self.broker.streams.discard(self)
        self._sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def stop(self) -> None:
        """Stop listening and remove the socket file."""
        if self.broker.alive:
            self.broker.defer_sync(self.disconnect)
        else:
            self.disconnect()

    def __repr__(self):
        return 'Listener(%r)' % (self.path,)


def _read_exact(sock, n):
    buf = b''
    while len(buf) < n:
        data = sock.recv(n - len(buf))
        if not data:
            raise mitogen.core.StreamError('listener closed the connection during handshake')
        buf += data
    return buf


def connect(path: str, broker: Optional[mitogen.core.Broker] = None) -> Tuple[mitogen.parent.Router, mitogen.core.Context]:
    """Join the tree of the Listener at path; returns (router, listener's context)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    context_id, parent_id = _HELLO.unpack(_read_exact(sock, _HELLO.size))
    mitogen.is_master = False
    mitogen.context_id = context_id
    mitogen.parent_id = parent_id
    mitogen.parent_ids = [parent_id]
    broker = broker or mitogen.core.Broker()
    router = mitogen.parent.Router(broker)
    router.context_id = context_id
    fd = sock.detach()
    mitogen.core.set_cloexec(fd)
    wfd = os.dup(fd)
    mitogen.core.set_cloexec(wfd)
    stream = mitogen.core.Stream(router, fd, wfd, remote_id=parent_id, name='unix_listener')
    stream.is_parent = True
    router.parent_stream = stream
    stream.start()
    return router, router.context_by_id(parent_id, name='parent')
