"""Services: named objects whose exposed methods other contexts may call.

Runs in any context that creates a Pool (the controller / Ansible
multiplexer mostly, but also intermediaries for PushFileService).  Callers
use ``context.call_service(service_name, method_name, **kwargs)``; a Pool's
threads dispatch those CALL_SERVICE messages, checking each method's policy
and argument types.  FileService streams files with flow control.
"""
import contextlib
import hashlib
import logging
import os
import sys
import tempfile
import threading
import time
from typing import Any, BinaryIO, Dict, Iterable, Iterator, Optional

import mitogen
import mitogen.core
from mitogen.core import Blob, CallError, Message, Receiver, Sender

LOG = logging.getLogger('mitogen.service')

CHUNK_SIZE = 128 * 1024
WINDOW_SIZE = 1024 * 1024
SMALL_FILE_SIZE = 32 * 1024


# ---------------------------------------------------------------------------
# Policies and decorators.


class Policy(object):
    """Decides whether a message may invoke a method."""

    def is_authorized(self, msg: Message, stream: Any) -> bool:
        raise NotImplementedError

    def __call__(self, msg, stream):
        return self.is_authorized(msg, stream)


class AllowAny(Policy):
    def is_authorized(self, msg, stream):
        return True


class AllowParents(Policy):
    """Only this context itself or its parents (and UNIX clients acting as us)."""

    def is_authorized(self, msg, stream):
        return mitogen.core.has_parent_authority(msg, stream)


def expose(policy: Policy):
    """Make a Service method callable remotely, subject to policy."""
    def decorator(func):
        func.mitogen_service__policy = policy
        return func
    return decorator


def arg_spec(spec: Dict[str, Any]):
    """Declare the types of keyword arguments; calls with other types are refused."""
    def decorator(func):
        func.mitogen_service__arg_spec = spec
        return func
    return decorator


def takes_msg():
    """The method also receives the calling message as `msg=` (who asked:
    msg.src_id, authenticated by the routers on the way)."""
    def decorator(func):
        func.mitogen_service__takes_msg = True
        return func
    return decorator


def no_reply():
    """The method's result is not sent back (callers use send, not call)."""
    def decorator(func):
        func.mitogen_service__no_reply = True
        return func
    return decorator


class Service(object):
    """Base class; the service's name is its dotted class path."""

    name = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.name = '%s.%s' % (cls.__module__, cls.__qualname__)

    def __init__(self, router):
        self.router = router

    def on_shutdown(self) -> None:
        """Called when the Pool stops."""


def call_service_no_reply(to_context, service, method_name: str, kwargs: Optional[Dict[str, Any]] = None,
                          **more_kwargs: Any) -> None:
    """Send a service call without waiting for (or getting) a reply.

    Arguments of the service method go in `kwargs` and/or as keywords.
    """
    kwargs = dict(kwargs or {}, **more_kwargs)
    name = service if isinstance(service, str) else service.name
    to_context.send(Message.pickled((name, method_name, mitogen.core.Kwargs(kwargs)),
                                 handle=mitogen.core.CALL_SERVICE))


# ---------------------------------------------------------------------------
# Pool.


class Pool(object):
    """Threads serving CALL_SERVICE messages for the services of one router."""

    def __init__(self, router, services: Iterable[Service] = (), size: int = 1):
        self.router = router
        self._services = {}
        self._lock = threading.Lock()
        for service in services:
            self.add(service)
        self._recv = Receiver(router, mitogen.core.CALL_SERVICE)
        self._threads = []
        for i in range(size):
            t = threading.Thread(target=self._worker, name='mitogen.service.%d' % i, daemon=True)
            t.start()
            self._threads.append(t)

    def add(self, service: Service) -> None:
        with self._lock:
            if service.name in self._services:
                raise mitogen.core.Error('service %r already registered' % (service.name,))
            self._services[service.name] = service

    def get_service(self, name: str, msg: Optional[Message] = None) -> Service:
        """Return the registered service, activating Service subclasses on demand.

        On-demand activation imports a module: only this context and its
        parents (`msg` with parent authority) may cause that; any other
        caller reaches registered services only."""
        with self._lock:
            service = self._services.get(name)
            if service is not None:
                return service
            if not isinstance(name, str) or (msg is not None and not mitogen.core.has_parent_authority(msg)):
                raise mitogen.core.Error('no such service: %r' % (name,))
            modname, _, clsname = name.rpartition('.')
            try:
                __import__(modname)
                cls = getattr(sys.modules[modname], clsname)
            except (ImportError, AttributeError, ValueError, KeyError):
                raise mitogen.core.Error('no such service: %r' % (name,))
            if not (isinstance(cls, type) and issubclass(cls, Service)):
                raise mitogen.core.Error('%r is not a Service' % (name,))
            service = cls(self.router)
            self._services[name] = service
            return service

    def _invoke(self, msg):
        payload = msg.unpickle(throw=False)
        if type(payload) is not tuple or len(payload) != 3:
            raise mitogen.core.Error('malformed CALL_SERVICE message')
        name, method_name, kwargs = payload
        if not (isinstance(name, str) and isinstance(method_name, str) and isinstance(kwargs, dict)
                and all(isinstance(k, str) for k in kwargs)):
            raise mitogen.core.Error('malformed CALL_SERVICE message')
        service = self.get_service(name, msg)
        method = getattr(service, method_name, None) if not method_name.startswith('_') else None
        policy = getattr(method, 'mitogen_service__policy', None)
        if method is None or policy is None:
            raise mitogen.core.Error('%s.%s is not exposed' % (name, method_name))
        if not policy(msg, msg.stream):
            raise mitogen.core.Error('%s.%s refused by policy' % (name, method_name))
        spec = getattr(method, 'mitogen_service__arg_spec', None)
        if spec is not None:
            for key, value in kwargs.items():
                if key not in spec or not isinstance(value, spec[key]):
                    raise mitogen.core.Error('%s.%s: bad argument %r' % (name, method_name, key))
        if getattr(method, 'mitogen_service__takes_msg', False):
            kwargs = dict(kwargs, msg=msg)
        return method, method(**kwargs)

    def _dispatch(self, msg):
        method = None
        try:
            method, result = self._invoke(msg)
        except Exception as e:
            LOG.debug('service call failed: %s', e)
            result = CallError(e)
        if getattr(method, 'mitogen_service__no_reply', False) and not isinstance(result, CallError):
            return
        if msg.reply_to == mitogen.core.NO_REPLY:
            if isinstance(result, CallError):
                LOG.error('service call without reply failed: %s', result)
            return
        try:
            msg.reply(result)
        except TypeError as e:
            msg.reply(CallError(e))

    def _worker(self):
        while True:
            try:
                msg = self._recv.get()
            except mitogen.core.ChannelError:
                return
            self._dispatch(msg)

    def stop(self, join: bool = True) -> None:
        self._recv.close()
        if join:
            for t in self._threads:
                t.join(5)
        for service in list(self._services.values()):
            service.on_shutdown()


# ---------------------------------------------------------------------------
# File transfer.


class _Window(object):
    """Bytes in flight towards one stream; senders block when it is full."""

    def __init__(self, size):
        self.size = size
        self.in_flight = 0
        self.dead = False
        self._cond = threading.Condition()

    def acquire(self, n):
        with self._cond:
            while self.in_flight and self.in_flight + n > self.size and not self.dead:
                self._cond.wait()
            if self.dead:
                raise mitogen.core.ChannelError('receiver disconnected')
            self.in_flight += n

    def release(self, n):
        with self._cond:
            self.in_flight = max(0, self.in_flight - n)
            self._cond.notify_all()

    def kill(self):
        with self._cond:
            self.dead = True
            self._cond.notify_all()


class FileService(Service):
    """Serves registered files to other contexts, 128 KiB chunks, ~1 MiB in flight per stream.

    Server side: ``register(path)`` / ``register_prefix(dir)``.  Client side
    (any context): ``FileService.get(context, path, fp)`` or
    ``FileService.get_to_path(context, path, dest, mode=None)``; the latter
    writes to a temporary file next to dest and renames it into place only
    when size and SHA-1 match, so interrupted transfers leave nothing.
    """

    def __init__(self, router):
        super().__init__(router)
        # realpath -> {context id (None: any context): registration count}
        self._paths = {}
        self._prefixes = []
        self._windows = {}
        self._lock = threading.Lock()
        self._watched = set()
        self._ack_handle = router.add_handler(self._on_ack)

    @expose(AllowParents())
    @arg_spec({'path': str, 'context': mitogen.core.Context})
    def register(self, path: str, context: Optional[mitogen.core.Context] = None) -> None:
        """Serve `path` to `context` (None: to any context) until unregister().

        Registrations for a context are counted (one per unregister()) and
        dropped when the context disconnects."""
        key = None if context is None else context.context_id
        with self._lock:
            grants = self._paths.setdefault(os.path.realpath(path), {})
            grants[key] = grants.get(key, 0) + 1
            watch = key is not None and key not in self._watched
            if watch:
                self._watched.add(key)
        if watch:
            ctx = self.router.context_by_id(key, create=False)
            if ctx is not None:
                mitogen.core.listen(ctx, 'disconnect', lambda: self._forget_context(key))

    @expose(AllowParents())
    @arg_spec({'path': str, 'context': mitogen.core.Context})
    def unregister(self, path: str, context: Optional[mitogen.core.Context] = None) -> None:
        """Undo one register(path, context)."""
        key = None if context is None else context.context_id
        real = os.path.realpath(path)
        with self._lock:
            grants = self._paths.get(real, {})
            if grants.get(key, 0) > 1:
                grants[key] -= 1
            else:
                grants.pop(key, None)
            if not grants:
                self._paths.pop(real, None)

    def _forget_context(self, context_id):
        with self._lock:
            self._watched.discard(context_id)
            for real in list(self._paths):
                grants = self._paths[real]
                grants.pop(context_id, None)
                if not grants:
                    del self._paths[real]

    @expose(AllowParents())
    @arg_spec({'path': str})
    def register_prefix(self, path: str) -> None:
        """Serve every file under directory `path` to any context."""
        self._prefixes.append(os.path.realpath(path).rstrip(os.sep) + os.sep)

    def _allowed(self, path, context_id):
        real = os.path.realpath(path)
        with self._lock:
            grants = self._paths.get(real)
            if grants and (None in grants or context_id in grants):
                return True
        return any(real.startswith(p) for p in self._prefixes)

    def _window_for(self, stream):
        with self._lock:
            window = self._windows.get(stream)
            if window is None or window.dead:
                window = self._windows[stream] = _Window(WINDOW_SIZE)
                mitogen.core.listen(stream, 'disconnect', window.kill)
            return window

    def _on_ack(self, msg):
        if msg.is_dead:
            return
        stream = self.router.stream_by_id(msg.src_id)
        window = self._windows.get(stream)
        if window is None:
            return
        try:
            n = mitogen.core.decode_control(msg)
        except mitogen.core.StreamError:
            return
        if type(n) is int:
            window.release(n)

    @expose(AllowAny())
    @takes_msg()
    @arg_spec({'path': str, 'sender': Sender})
    def fetch(self, path: str, sender: Sender, msg: Message) -> dict:
        """Start sending path to sender; returns metadata (and small files inline).

        The data goes only to the caller itself (`sender` must be one of
        its own handles), and only if the path was registered for it: no
        context can make us send to a third one."""
        if sender.context.context_id != msg.src_id:
            raise mitogen.core.Error('FileService.fetch: sender must belong to the caller')
        if not self._allowed(path, msg.src_id):
            raise mitogen.core.Error('path is not registered with FileService: %r' % (path,))
        sender = Sender(self.router.context_by_id(msg.src_id, create=False)
                        or mitogen.core.Context(self.router, msg.src_id), sender.dst_handle)
        fp = open(path, 'rb')
        st = os.fstat(fp.fileno())
        meta = {'size': st.st_size, 'mode': st.st_mode, 'mtime': st.st_mtime, 'data': None, 'sha1': None,
                'ack': None}
        if st.st_size <= SMALL_FILE_SIZE:
            with fp:
                data = fp.read()
            meta.update(size=len(data), data=Blob(data), sha1=hashlib.sha1(data).hexdigest())
            return meta
        meta['ack'] = Sender(self.router.myself(), self._ack_handle)
        stream = self.router.stream_by_id(msg.src_id)
        t = threading.Thread(target=self._stream_file, args=(fp, sender, self._window_for(stream), stream),
                             name='mitogen.file', daemon=True)
        t.start()
        return meta

    def _stream_file(self, fp, sender, window, stream):
        digest = hashlib.sha1()
        try:
            with fp:
                while True:
                    chunk = fp.read(CHUNK_SIZE)
                    if not chunk:
                        break
                    digest.update(chunk)
                    window.acquire(len(chunk))
                    # Acks are the receiver's word; what it has not read
                    # stays queued here, so that is bounded too.
                    while stream is not None and stream.pending_bytes > WINDOW_SIZE and not stream.closed:
                        time.sleep(0.005)
                    sender.send(chunk)   # bytes: Blob(chunk) would copy it once more
            sender.send(('done', digest.hexdigest()))
        except Exception as e:
            LOG.error('file transfer to %r failed: %s', sender, e)
            try:
                sender.send(('error', str(e)))
            except Exception:
                pass

    @classmethod
    def get(cls, context, path: str, out_fp: BinaryIO) -> dict:
        """Copy path from the FileService in context to out_fp; verify size and SHA-1."""
        router = context.router
        recv = Receiver(router, respondent=context)
        try:
            meta = context.call_service(cls.name, 'fetch', path=path, sender=recv.to_sender())
            if meta['data'] is not None:
                out_fp.write(meta['data'])
                return meta
            digest = hashlib.sha1()
            received = 0
            ack = meta['ack']
            while True:
                obj = recv.get().unpickle()
                if isinstance(obj, bytes):
                    ack.send(len(obj))
                    out_fp.write(obj)
                    digest.update(obj)
                    received += len(obj)
                    continue
                if obj[0] == 'error':
                    raise mitogen.core.StreamError('transfer of %r failed: %s' % (path, obj[1]))
                if received != meta['size'] or obj[1] != digest.hexdigest():
                    raise mitogen.core.StreamError('transfer of %r corrupted: got %d of %d bytes'
                                                   % (path, received, meta['size']))
                meta['sha1'] = obj[1]
                return meta
        finally:
            recv.close()

    @classmethod
    def get_to_path(cls, context, path: str, dest: str, mode: Optional[int] = None) -> dict:
        """Fetch into dest atomically: temp file in dest's directory, renamed when verified."""
        with replacing_file(dest) as fp:
            meta = cls.get(context, path, fp)
            os.fchmod(fp.fileno(), (meta['mode'] & 0o7777) if mode is None else mode)
        return meta


@contextlib.contextmanager
def replacing_file(dest: str) -> Iterator[BinaryIO]:
    """A temporary file beside dest, open for writing.

    When the block completes the file replaces dest in one rename(); when it
    raises the file is removed, so readers never see a partial dest.
    """
    directory = os.path.dirname(os.path.abspath(dest))
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(dest), suffix='.mitogen', dir=directory)
    done = False
    try:
        with os.fdopen(fd, 'wb') as fp:
            yield fp
            fp.flush()
            os.fsync(fp.fileno())   # a crash after rename() must not leave an empty dest
        os.rename(tmp, dest)
        done = True
    finally:
        if not done and os.path.exists(tmp):
            os.unlink(tmp)


class PushFileService(Service):
    """Files pushed down the tree once; every hop caches and forwards them.

    The master calls ``propagate_to(context, path)``; each intermediary stores
    the data and forwards it one hop further (each file once per stream).  In
    the destination, ``get(path)`` blocks until the file has arrived.
    """

    def __init__(self, router):
        super().__init__(router)
        self._cache = {}
        self._sent = set()
        self._cond = threading.Condition()

    def get(self, path: str, timeout: Optional[float] = None) -> bytes:
        with self._cond:
            if not self._cond.wait_for(lambda: path in self._cache, timeout):
                raise mitogen.core.TimeoutError('file %r did not arrive' % (path,))
            return self._cache[path]

    def propagate_to(self, context, path: str) -> None:
        with open(path, 'rb') as fp:
            data = Blob(fp.read())
        self.store_and_forward(path, data, context)

    @expose(AllowParents())
    @no_reply()
    @arg_spec({'path': str, 'data': bytes, 'context': mitogen.core.Context})
    def store_and_forward(self, path: str, data: bytes, context) -> None:
        with self._cond:
            self._cache[path] = Blob(data)
            self._cond.notify_all()
        if context.context_id != self.router.context_id:
            self.forward(path, context)

    @expose(AllowParents())
    @no_reply()
    @arg_spec({'path': str, 'context': mitogen.core.Context})
    def forward(self, path: str, context) -> None:
        stream = self.router.stream_by_id(context.context_id)
        if stream is None or stream.remote_id is None:
            raise mitogen.core.Error('no route to %r' % (context,))
        key = (stream, path)
        with self._cond:
            if key in self._sent and stream.remote_id == context.context_id:
                return
            self._sent.add(key)
            data = self._cache[path]
        hop = self.router.context_by_id(stream.remote_id)
        call_service_no_reply(hop, self, 'store_and_forward', {'path': path, 'data': data, 'context': context})
