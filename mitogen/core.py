"""Messages, serializer, broker, router, contexts and the child main loop.

Runs everywhere: imported normally on the controller, and streamed (minified,
zlib-compressed) into every child by mitogen.parent, where it is executed as
the module ``mitogen.core`` without touching the target's disk.  Must stay
Python 3.8 compatible and free of imports beyond the standard library.
"""
import collections
import errno
import fcntl
import heapq
import itertools
import importlib.util
import linecache
import logging
import os
import select
import signal
import struct
import sys
import threading
import time
import traceback
import types
import zlib

import mitogen

LOG = logging.getLogger('mitogen')

# Well-known handles.  Dynamic handles (receivers) start at 1000.
GET_MODULE = 100
LOAD_MODULE = 101
CALL_FUNCTION = 102
FORWARD_LOG = 103
ADD_ROUTE = 104
DEL_ROUTE = 105
SHUTDOWN = 106
ALLOCATE_ID = 107
GRANT_ROUTE = 108
CALL_SERVICE = 110
FILE_ACK = 111

NO_REPLY = 0
IS_DEAD = 0xFFFFFFFF

CHUNK_SIZE = 256 * 1024
#: Buffers handed to one writev() call (well below any IOV_MAX).
WRITEV_MAX = 64
#: Payloads this large are written beside their header instead of joined to it.
WRITEV_THRESHOLD = 16384
DEFAULT_MAX_MESSAGE_SIZE = 128 * 1024 * 1024
#: Largest frame a parent accepts from a child (a target is untrusted; the
#: biggest legitimate frames are task results).  Options(max_child_message_size=).
DEFAULT_MAX_CHILD_MESSAGE_SIZE = 64 * 1024 * 1024
#: Decoding may build at most this many times the payload size (estimated
#: Python object sizes) plus DECODE_SLACK: a list of empty sets must not
#: turn one frame into gigabytes.
DECODE_EXPANSION = 16
DECODE_SLACK = 64 * 1024
#: A container may hold at most this many keys (or items) with one hash
#: value among those whose hash is not randomised (ints, floats, tuples...):
#: colliding keys would make decoding quadratic.
MAX_SAME_HASH = 16
#: Control messages handled on the broker thread: largest payload accepted.
CONTROL_LIMITS = {
    ADD_ROUTE: 4096, DEL_ROUTE: 64, GRANT_ROUTE: 64, GET_MODULE: 1024, ALLOCATE_ID: 64,
    FORWARD_LOG: 1024 * 1024,
}
#: Forwarded log records are cut to this many characters (FORWARD_LOG limit).
MAX_LOG_TEXT = 256 * 1024
#: Route grants (ids a child may still claim with ADD_ROUTE) kept per stream.
MAX_GRANTS = 1024
#: Replies trusted clients may await from one child stream at once.
MAX_AWAITED = 65536
# Markers written by the first stage and by the booted core; see mitogen.parent.
STAGE1_MARKER = b'MGN:S1\n'
READY_MARKER = b'MGN:UP\n'


class Error(Exception):
    """Base class for errors raised by this library."""


class StreamError(Error):
    """A stream or message could not be processed."""


class ChannelError(Error):
    """The peer of a channel went away or refused a message."""


class LatchError(Error):
    """Raised when a closed Latch is used."""


class TimeoutError(Error):
    """A blocking operation did not complete in time."""


class CallError(Error):
    """An exception raised by a remote function, with its remote traceback.

    Built either from a live exception (on the side where it happened) or from
    its three text parts (when decoded from the wire).
    """

    def __init__(self, exc=None, remote_msg=None, remote_tb=None):
        if isinstance(exc, BaseException):
            cls = type(exc)
            self.type_name = '%s.%s' % (cls.__module__, cls.__qualname__)
            self.remote_msg = str(exc)
            self.remote_tb = ''.join(traceback.format_exception(cls, exc, exc.__traceback__))
        else:
            self.type_name = exc or 'mitogen.core.CallError'
            self.remote_msg = remote_msg or ''
            self.remote_tb = remote_tb or ''
        Exception.__init__(self, self.type_name, self.remote_msg)

    def __str__(self):
        s = '%s: %s' % (self.type_name, self.remote_msg)
        if self.remote_tb:
            s += '\n' + self.remote_tb.rstrip('\n')
        return s

    def __reduce__(self):
        return (CallError, (self.type_name, self.remote_msg, self.remote_tb))


class Secret(str):
    """A string (password) whose str() and repr() never reveal the value.

    The value stays reachable via ordinary string operations (concatenation,
    slicing, ``.encode()``), which is what connection code uses.  Creating
    one registers the value with register_secret(), so log lines that
    contain it anyway (an argv built by concatenation) show '[secret]'.
    """

    def __new__(cls, value=''):
        # str(Secret) is '[secret]', so unwrap str subclasses explicitly.
        if isinstance(value, str):
            value = str.__str__(value)
        register_secret(value)
        return str.__new__(cls, value)

    def __repr__(self):
        return '[secret]'

    __str__ = __repr__

    def __format__(self, spec):
        return '[secret]'


# ---------------------------------------------------------------------------
# Secret masking: every log record of a process that knows secrets is
# checked for their values (passwords, tokens), whatever logger or level.

MASK = '[secret]'
#: Secret values remembered per process (more are refused, with a warning).
MAX_SECRETS = 4096
#: Shorter values are not masked in log text (masking 'ab' everywhere would
#: garble every line); they stay hidden as Secret objects.
MIN_MASKED_LEN = 4
_secrets = set()
_secrets_sorted = ()
_secrets_lock = threading.Lock()
_masking_installed = False


def _new_secrets_lock():
    # A thread of the parent may have held it at fork(): the child's would stay locked.
    global _secrets_lock
    _secrets_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_secrets_lock)


def register_secret(value):
    """Mask `value` in every log line of this process from now on."""
    global _secrets_sorted
    if not isinstance(value, str) or len(value) < MIN_MASKED_LEN:
        return
    value = str.__str__(value)
    with _secrets_lock:
        if value in _secrets:
            return
        if len(_secrets) >= MAX_SECRETS:
            return
        _secrets.add(value)
        # Longest first: a secret containing another is masked whole.
        _secrets_sorted = tuple(sorted(_secrets, key=len, reverse=True))
        _install_masking()


def mask_secrets(text):
    """`text` with every registered secret value replaced by '[secret]'."""
    if not _secrets_sorted or not isinstance(text, str):
        return text
    for value in _secrets_sorted:
        if value in text:
            text = text.replace(value, MASK)
    return text


def _install_masking():
    """Wrap the log record factory once: records are formatted and masked
    when created, so no handler (ours, Ansible's, a test's) sees a secret."""
    global _masking_installed
    if _masking_installed:
        return
    _masking_installed = True
    previous = logging.getLogRecordFactory()

    def masking_factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            text = record.getMessage()
        except Exception:
            return record
        masked = mask_secrets(text)
        if masked is not text and masked != text:
            record.msg, record.args = masked, None
        return record
    logging.setLogRecordFactory(masking_factory)


class Blob(bytes):
    """Bytes whose repr shows only the length (large file contents)."""

    def __repr__(self):
        return '[blob: %d bytes]' % len(self)


class Kwargs(dict):
    """Keyword arguments dict, kept distinct on the wire."""

    def __repr__(self):
        return 'Kwargs(%s)' % dict.__repr__(self)


class _Dead(object):
    """Payload of a dead message: why the channel died."""

    def __init__(self, reason=None):
        self.reason = reason

    def __repr__(self):
        return '_Dead(%r)' % (self.reason,)


# ---------------------------------------------------------------------------
# Signals: tiny observer mechanism.


def listen(obj, name, func):
    """Arrange for func() to be called when fire(obj, name) happens."""
    obj.__dict__.setdefault('_signals', {}).setdefault(name, []).append(func)


def unlisten(obj, name, func):
    try:
        obj.__dict__['_signals'][name].remove(func)
    except (KeyError, ValueError):
        pass


def fire(obj, name, *args, **kwargs):
    for func in list(obj.__dict__.get('_signals', {}).get(name, ())):
        func(*args, **kwargs)


def takes_router(func):
    """Mark a function to receive the calling context's router as `router=`."""
    func.mitogen_takes_router = True
    return func


def takes_econtext(func):
    """Mark a function to receive the child's ExternalContext as `econtext=`."""
    func.mitogen_takes_econtext = True
    return func


def set_nonblock(fd):
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)


def set_block(fd):
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)


def set_cloexec(fd):
    flags = fcntl.fcntl(fd, fcntl.F_GETFD)
    fcntl.fcntl(fd, fcntl.F_SETFD, flags | fcntl.FD_CLOEXEC)


def to_text(s):
    if isinstance(s, bytes):
        return s.decode('utf-8', 'replace')
    return s


# ---------------------------------------------------------------------------
# Serializer: a tagged binary format that can only build an explicit set of
# types.  Nothing on the wire can name a class or trigger code execution.

MAX_DEPTH = 64
_Q = struct.Struct('>q')
_L = struct.Struct('>I')
_D = struct.Struct('>d')

T_NONE, T_TRUE, T_FALSE, T_INT, T_BIGINT, T_FLOAT = b'N', b'T', b'F', b'i', b'I', b'f'
T_STR, T_BYTES, T_BLOB, T_SECRET = b's', b'b', b'B', b'X'
T_LIST, T_TUPLE, T_DICT, T_SET, T_FROZENSET, T_KWARGS = b'l', b't', b'd', b'S', b'z', b'K'
T_CONTEXT, T_SENDER, T_CALLERROR, T_DEAD = b'C', b'R', b'E', b'D'


def _enc_str(s, out):
    b = s.encode('utf-8', 'surrogatepass')
    out.append(_L.pack(len(b)))
    out.append(b)


def _enc_seq(tag, seq, out, depth):
    out.append(tag)
    out.append(_L.pack(len(seq)))
    for item in seq:
        _encode(item, out, depth)


def _encode(obj, out, depth):
    if depth > MAX_DEPTH:
        raise TypeError('object nesting exceeds %d levels' % MAX_DEPTH)
    depth += 1
    t = type(obj)
    if t is str:
        out.append(T_STR)
        _enc_str(obj, out)
    elif obj is None:
        out.append(T_NONE)
    elif t is bool:
        out.append(T_TRUE if obj else T_FALSE)
    elif t is int:
        if -(1 << 63) <= obj < (1 << 63):
            out.append(T_INT)
            out.append(_Q.pack(obj))
        else:
            b = obj.to_bytes((obj.bit_length() + 8) // 8, 'big', signed=True)
            out.append(T_BIGINT)
            out.append(_L.pack(len(b)))
            out.append(b)
    elif t is tuple:
        _enc_seq(T_TUPLE, obj, out, depth)
    elif t is list:
        _enc_seq(T_LIST, obj, out, depth)
    elif t is dict or t is Kwargs:
        out.append(T_KWARGS if t is Kwargs else T_DICT)
        out.append(_L.pack(len(obj)))
        for k, v in obj.items():
            _encode(k, out, depth)
            _encode(v, out, depth)
    elif t is bytes or t is Blob:
        out.append(T_BLOB if t is Blob else T_BYTES)
        out.append(_L.pack(len(obj)))
        out.append(obj)
    elif t is float:
        out.append(T_FLOAT)
        out.append(_D.pack(obj))
    elif t is Secret:
        out.append(T_SECRET)
        _enc_str(str.__str__(obj), out)
    elif t is set:
        _enc_seq(T_SET, obj, out, depth)
    elif t is frozenset:
        _enc_seq(T_FROZENSET, obj, out, depth)
    elif isinstance(obj, Context):
        out.append(T_CONTEXT)
        out.append(_Q.pack(obj.context_id))
        _enc_str(obj.name or '', out)
    elif isinstance(obj, Sender):
        out.append(T_SENDER)
        out.append(_Q.pack(obj.context.context_id))
        _enc_str(obj.context.name or '', out)
        out.append(_Q.pack(obj.dst_handle))
    elif isinstance(obj, CallError):
        out.append(T_CALLERROR)
        _enc_str(obj.type_name, out)
        _enc_str(obj.remote_msg, out)
        _enc_str(obj.remote_tb, out)
    elif t is _Dead:
        out.append(T_DEAD)
        _encode(obj.reason, out, depth)
    # Subclasses of plain types (e.g. Ansible's unsafe text) travel as the
    # base type: the receiver never learns about foreign classes.
    elif isinstance(obj, str):
        out.append(T_STR)
        _enc_str(str.__str__(obj), out)
    elif isinstance(obj, bool):
        out.append(T_TRUE if obj else T_FALSE)
    elif isinstance(obj, int):
        _encode(int(obj), out, depth)
    elif isinstance(obj, float):
        _encode(float(obj), out, depth)
    elif isinstance(obj, bytes):
        _encode(bytes(obj), out, depth)
    elif isinstance(obj, dict):
        _encode(dict(obj), out, depth)
    elif isinstance(obj, (list, tuple)):
        _enc_seq(T_LIST if isinstance(obj, list) else T_TUPLE, obj, out, depth)
    else:
        raise TypeError('cannot serialize %r object' % (t.__name__,))


def encode(obj):
    """Serialize obj to bytes, or raise TypeError for unsupported types."""
    out = []
    _encode(obj, out, 0)
    return b''.join(out)


class _Decoder(object):
    """One decoding pass over a byte string.

    `router` resolves Contexts (None: detached Context objects; with
    contexts=False they are refused, as in control messages).  `budget` is
    the estimated memory the built objects may take; decoding stops with
    StreamError past it.
    """

    def __init__(self, data, router, budget, contexts=True):
        self.data = data
        self.pos = 0
        self.router = router
        self.budget = budget
        self.contexts = contexts

    def charge(self, n):
        self.budget -= n
        if self.budget < 0:
            raise StreamError('serialized data expands beyond the decode limit')

    def take(self, n):
        p = self.pos
        end = p + n
        if end > len(self.data):
            raise StreamError('truncated serialized data')
        self.pos = end
        return self.data[p:end]

    def blob(self, n):
        # Copied once, straight into the Blob (slicing first would copy twice).
        p = self.pos
        if p + n > len(self.data):
            raise StreamError('truncated serialized data')
        self.pos = p + n
        with memoryview(self.data) as view:
            return Blob(view[p:p + n])

    def u32(self):
        return _L.unpack(self.take(4))[0]

    def text(self):
        n = self.u32()
        self.charge(n + 49)
        return self.take(n).decode('utf-8', 'surrogatepass')

    def count(self, item_cost=8):
        n = self.u32()
        if n > len(self.data) - self.pos:
            raise StreamError('serialized container length is invalid')
        self.charge(64 + item_cost * n)
        return n

    def items(self, depth):
        return [self.decode(depth) for _ in range(self.count())]

    def decode(self, depth):
        if depth > MAX_DEPTH:
            raise StreamError('serialized data nested too deeply')
        depth += 1
        tag = self.take(1)
        if tag == T_STR:
            return self.text()
        if tag == T_INT:
            return _Q.unpack(self.take(8))[0]
        if tag == T_NONE:
            return None
        if tag == T_TUPLE:
            return tuple(self.items(depth))
        if tag == T_LIST:
            return self.items(depth)
        if tag == T_DICT or tag == T_KWARGS:
            d = {}
            hashes = None
            for _ in range(self.count(item_cost=40)):
                k = self.decode(depth)
                if type(k) is not str:
                    hashes = _count_hash(hashes, k)
                d[k] = self.decode(depth)
            return Kwargs(d) if tag == T_KWARGS else d
        if tag == T_TRUE:
            return True
        if tag == T_FALSE:
            return False
        if tag == T_BYTES:
            n = self.u32()
            self.charge(n + 33)
            return self.take(n)
        if tag == T_BLOB:
            n = self.u32()
            self.charge(n + 33)
            return self.blob(n)
        if tag == T_FLOAT:
            return _D.unpack(self.take(8))[0]
        if tag == T_SECRET:
            # Not registered: a peer must not fill our registry (see register_secret).
            return str.__new__(Secret, self.text())
        if tag == T_BIGINT:
            n = self.u32()
            self.charge(n + 28)
            return int.from_bytes(self.take(n), 'big', signed=True)
        if tag == T_SET or tag == T_FROZENSET:
            self.charge(160)   # a set takes 216 bytes even when empty
            items = self.items(depth)
            hashes = None
            for item in items:
                if type(item) is not str:
                    hashes = _count_hash(hashes, item)
            return set(items) if tag == T_SET else frozenset(items)
        if tag == T_CONTEXT:
            cid = _Q.unpack(self.take(8))[0]
            return self._context(cid, self.text())
        if tag == T_SENDER:
            cid = _Q.unpack(self.take(8))[0]
            ctx = self._context(cid, self.text())
            return Sender(ctx, _Q.unpack(self.take(8))[0])
        if tag == T_CALLERROR:
            return CallError(self.text(), self.text(), self.text())
        if tag == T_DEAD:
            return _Dead(self.decode(depth))
        raise StreamError('unknown type tag %r in serialized data' % (tag,))

    def _context(self, cid, name):
        if not self.contexts:
            raise StreamError('context references are not allowed here')
        if self.router is None:
            return Context(None, cid, name or None)
        # Never register a context because a peer mentioned it: only
        # connecting and ADD_ROUTE do that (a frame full of made-up ids
        # would otherwise grow the router's table for good).
        ctx = self.router.context_by_id(cid, create=False)
        if ctx is None:
            ctx = self.router.context_class(self.router, cid, name or None)
        return ctx


def _count_hash(hashes, key):
    """Count keys per hash value in one container; refuse engineered
    collisions (str and bytes hashes are randomised, others are not)."""
    if type(key) is bytes:
        return hashes
    h = hash(key)
    if hashes is None:
        hashes = {}
    n = hashes.get(h, 0) + 1
    if n > MAX_SAME_HASH:
        raise StreamError('serialized container has too many colliding keys')
    hashes[h] = n
    return hashes


def decode(data, router=None, contexts=True, budget=None):
    """Rebuild an object from encode() output; StreamError if malformed.

    The objects built may take at most `budget` bytes (default:
    DECODE_EXPANSION times the input plus DECODE_SLACK)."""
    if budget is None:
        budget = DECODE_EXPANSION * len(data) + DECODE_SLACK
    d = _Decoder(data, router, budget, contexts)
    try:
        obj = d.decode(0)
    except (struct.error, UnicodeDecodeError, ValueError, TypeError, RecursionError) as e:
        raise StreamError('malformed serialized data: %s' % (e,))
    if d.pos != len(data):
        raise StreamError('trailing garbage after serialized data')
    return obj


def decode_control(msg):
    """Payload of a control message handled on the broker thread: small,
    without context references, bounded decoded size (see CONTROL_LIMITS)."""
    limit = CONTROL_LIMITS.get(msg.handle, 4096)
    if len(msg.data) > limit:
        raise StreamError('control message on handle %d of %d bytes exceeds %d'
                          % (msg.handle, len(msg.data), limit))
    return decode(msg.data, None, contexts=False, budget=4 * len(msg.data) + 4096)


# ---------------------------------------------------------------------------
# Messages.

HEADER = struct.Struct('>HIIIIII')
HEADER_MAGIC = 0x4d47
HEADER_LEN = HEADER.size


class Message(object):
    """One routed message: addressing header plus serialized payload."""

    __slots__ = ('dst_id', 'src_id', 'auth_id', 'handle', 'reply_to', 'data', 'router', 'stream')

    def __init__(self, dst_id=0, src_id=None, auth_id=None, handle=0, reply_to=NO_REPLY,
                 data=b'', router=None):
        self.dst_id = dst_id
        self.src_id = mitogen.context_id if src_id is None else src_id
        self.auth_id = mitogen.context_id if auth_id is None else auth_id
        self.handle = handle
        self.reply_to = reply_to
        self.data = data
        self.router = router
        self.stream = None

    @classmethod
    def pickled(cls, obj, **kwargs):
        """Build a message whose payload is the serialized obj."""
        return cls(data=encode(obj), **kwargs)

    @classmethod
    def dead(cls, reason=None, **kwargs):
        return cls(data=encode(_Dead(reason)), reply_to=IS_DEAD, **kwargs)

    @property
    def is_dead(self):
        return self.reply_to == IS_DEAD

    def unpickle(self, throw=True, throw_dead=True):
        """Decode the payload; raise CallError/ChannelError as requested."""
        obj = decode(self.data, self.router)
        if type(obj) is _Dead:
            if throw_dead:
                raise ChannelError(obj.reason or 'channel is dead')
            return obj
        if throw and isinstance(obj, CallError):
            raise obj
        return obj

    def _dead_reason(self):
        try:
            return decode(self.data).reason
        except Exception:
            return None

    def reply(self, obj, router=None, **kwargs):
        """Send obj (or a ready Message) to whoever this message asked for a reply."""
        if self.reply_to in (NO_REPLY, IS_DEAD):
            return
        msg = obj if isinstance(obj, Message) else Message.pickled(obj)
        msg.dst_id = self.src_id
        msg.handle = self.reply_to
        for k, v in kwargs.items():
            setattr(msg, k, v)
        (router or self.router).route(msg)

    def __repr__(self):
        return 'Message(%r, %r, %r, %r, %r, %d bytes)' % (
            self.dst_id, self.src_id, self.auth_id, self.handle, self.reply_to, len(self.data))


# ---------------------------------------------------------------------------
# Latch, Receiver, Sender, Channel.


#: The directory this child was started in but its user may not enter
#: (set by the bootstrap; it then started in /), else None.
denied_cwd = None

#: None, or a context manager factory that a host application sets to be
#: told when a thread is about to wait in Latch.get() (every blocking wait
#: for a reply passes there); ansible_mitogen releases a lock around it.
blocking_hook = None


class Latch(object):
    """Thread-safe queue whose get() blocks; wakes waiters via a Condition."""

    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._items = collections.deque()
        self.closed = False
        self.notify = None

    def put(self, obj=None):
        with self._cond:
            if self.closed:
                raise LatchError('latch is closed')
            self._items.append(obj)
            self._cond.notify()
        if self.notify is not None:
            self.notify(self)

    def get(self, timeout=None, block=True):
        hook = blocking_hook
        if hook is not None and block and not self._items:
            with hook():
                return self._get(timeout, block)
        return self._get(timeout, block)

    def _get(self, timeout, block):
        with self._cond:
            if not self._items and block and not self.closed:
                if timeout is None:
                    while not self._items and not self.closed:
                        self._cond.wait()
                else:
                    deadline = time.monotonic() + timeout
                    while not self._items and not self.closed:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        self._cond.wait(remaining)
            if self._items:
                return self._items.popleft()
            if self.closed:
                raise LatchError('latch is closed')
            if not block:
                raise TimeoutError('latch is empty')
            raise TimeoutError('timed out after %.2fs' % (timeout,))

    def empty(self):
        return not self._items

    def size(self):
        return len(self._items)

    def close(self):
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class Receiver(object):
    """Queue of messages arriving on one handle of a router."""

    def __init__(self, router, handle=None, persist=True, respondent=None, policy=None, overwrite=False):
        self.router = router
        self._latch = Latch()
        self.notify = None
        self.persist = persist
        self.handle = router.add_handler(self._on_receive, handle=handle, persist=persist,
                                         policy=policy, respondent=respondent, overwrite=overwrite)

    def _on_receive(self, msg):
        try:
            self._latch.put(msg)
        except LatchError:
            return
        if self.notify is not None:
            self.notify(self)

    def to_sender(self):
        return Sender(self.router.myself(), self.handle)

    def close(self):
        """Stop receiving; blocked get() calls raise ChannelError."""
        self.router.del_handler(self.handle)
        try:
            self._latch.put(Message.dead('receiver closed'))
        except LatchError:
            pass

    def empty(self):
        return self._latch.empty()

    def size(self):
        return self._latch.size()

    def get(self, timeout=None, block=True, throw_dead=True):
        msg = self._latch.get(timeout=timeout, block=block)
        if msg.is_dead and throw_dead:
            # Keep later get() calls failing the same way.
            try:
                self._latch.put(msg)
            except LatchError:
                pass
            raise ChannelError(msg._dead_reason() or 'channel is dead')
        return msg

    def __iter__(self):
        """Yield messages until the channel dies (closed, or its sender is gone)."""
        try:
            while True:
                yield self.get()
        except ChannelError:
            return

    def __repr__(self):
        return 'Receiver(%r, %r)' % (self.router, self.handle)


class Sender(object):
    """Sends serialized objects to a fixed (context, handle) pair."""

    def __init__(self, context, dst_handle):
        self.context = context
        self.dst_handle = dst_handle

    def send(self, data):
        self.context.send(Message.pickled(data, handle=self.dst_handle))

    def close(self):
        """Tell the receiving side no more data follows."""
        self.context.send(Message.dead('sender closed', handle=self.dst_handle))

    def __repr__(self):
        return 'Sender(%r, %r)' % (self.context, self.dst_handle)


class Channel(Receiver):
    """A Receiver on a local handle that also sends to a remote (context, handle).

    Closing it closes both directions: local get() fails and the peer's
    receiver gets a dead message.
    """

    def __init__(self, router, context, dst_handle, handle=None):
        super().__init__(router, handle)
        self.peer = Sender(context, dst_handle)

    @property
    def context(self):
        return self.peer.context

    @property
    def dst_handle(self):
        return self.peer.dst_handle

    def send(self, data):
        self.peer.send(data)

    def close(self):
        super().close()
        self.peer.close()


# ---------------------------------------------------------------------------
# Poller and Broker.


class Poller(object):
    """epoll where available, else poll(); tracks read/write interest per fd."""

    def __init__(self):
        if hasattr(select, 'epoll'):
            self._p = select.epoll()
            self._R, self._W = select.EPOLLIN, select.EPOLLOUT
            self._ERR = select.EPOLLERR | select.EPOLLHUP
            set_cloexec(self._p.fileno())
            self._is_epoll = True
        else:
            self._is_epoll = False
            self._p = select.poll()
            self._R, self._W = select.POLLIN, select.POLLOUT
            self._ERR = select.POLLERR | select.POLLHUP | select.POLLNVAL
        self._masks = {}
        self.readers = {}
        self.writers = {}

    def _update(self, fd):
        mask = (self._R if fd in self.readers else 0) | (self._W if fd in self.writers else 0)
        old = self._masks.get(fd)
        if mask == 0:
            if old is not None:
                del self._masks[fd]
                try:
                    self._p.unregister(fd)
                except (OSError, ValueError, KeyError):
                    pass
        elif old is None:
            self._masks[fd] = mask
            self._p.register(fd, mask)
        elif old != mask:
            self._masks[fd] = mask
            self._p.modify(fd, mask)

    def _set_interest(self, table, fd, func):
        if func is None:
            table.pop(fd, None)
        else:
            table[fd] = func
        self._update(fd)

    def start_receive(self, fd, func):
        self._set_interest(self.readers, fd, func)

    def stop_receive(self, fd):
        self._set_interest(self.readers, fd, None)

    def start_transmit(self, fd, func):
        self._set_interest(self.writers, fd, func)

    def stop_transmit(self, fd):
        self._set_interest(self.writers, fd, None)

    def poll(self, timeout):
        if self._is_epoll:
            events = self._p.poll(-1 if timeout is None else timeout)
        else:
            events = self._p.poll(None if timeout is None else int(timeout * 1000))
        for fd, ev in events:
            if ev & (self._R | self._ERR):
                func = self.readers.get(fd)
                if func is not None:
                    yield func
                    continue
            if ev & (self._W | self._ERR):
                func = self.writers.get(fd)
                if func is not None:
                    yield func

    def close(self):
        if hasattr(self._p, 'close'):
            self._p.close()


class Broker(object):
    """The single IO thread of a process: polls streams, runs deferred work and timers."""

    shutdown_timeout = 3.0

    def __init__(self, install_watcher=True):
        self.poller = Poller()
        self._wake_r, self._wake_w = os.pipe()
        for fd in (self._wake_r, self._wake_w):
            set_nonblock(fd)
            set_cloexec(fd)
        self._wake_pending = False
        self._lock = threading.Lock()
        self._deferred = collections.deque()
        self._timers = []
        self._timer_seq = 0
        self.streams = set()
        self._alive = True
        self._exit_hooks = []
        self.poller.start_receive(self._wake_r, self._on_wake)
        self._thread = threading.Thread(target=self._run, name='mitogen.broker', daemon=True)
        self._thread.start()

    # -- cross-thread entry points --
    def on_thread(self):
        return threading.current_thread() is self._thread

    def defer(self, func, *args, **kwargs):
        """Run func on the broker thread soon."""
        with self._lock:
            self._deferred.append((func, args, kwargs))
            must_wake = not self._wake_pending
            self._wake_pending = True
        if must_wake and not self.on_thread():
            try:
                os.write(self._wake_w, b'x')
            except OSError:
                pass

    def defer_sync(self, func, timeout=None):
        """Run func on the broker thread and return its result."""
        if self.on_thread():
            return func()
        latch = Latch()

        def wrapper():
            try:
                latch.put((True, func()))
            except Exception as e:
                latch.put((False, e))
        self.defer(wrapper)
        ok, value = latch.get(timeout=timeout)
        if not ok:
            raise value
        return value

    def _on_wake(self):
        try:
            os.read(self._wake_r, 4096)
        except OSError:
            pass

    def start_receive(self, stream):
        self.poller.start_receive(stream.rfd, stream.on_readable)

    def stop_receive(self, stream):
        self.poller.stop_receive(stream.rfd)

    def start_transmit(self, stream):
        self.poller.start_transmit(stream.wfd, stream.on_writable)

    def stop_transmit(self, stream):
        self.poller.stop_transmit(stream.wfd)

    def timer(self, delay, func):
        """Call func on the broker thread after delay seconds; returns a cancel token."""
        self._timer_seq += 1
        entry = [time.monotonic() + delay, self._timer_seq, func]
        heapq.heappush(self._timers, entry)
        return entry

    def cancel_timer(self, entry):
        entry[2] = None

    def on_exit(self, func):
        """Register func to run on the broker thread just before it exits."""
        self._exit_hooks.append(func)

    def shutdown(self):
        """Ask the broker to disconnect all streams and exit."""
        self.defer(self._begin_shutdown)

    def join(self, timeout=None):
        self._thread.join(timeout)

    @property
    def alive(self):
        return self._alive

    # -- broker thread --
    def _run_deferred(self):
        with self._lock:
            items = self._deferred
            self._deferred = collections.deque()
            self._wake_pending = False
        for func, args, kwargs in items:
            try:
                func(*args, **kwargs)
            except Exception:
                LOG.exception('broker: deferred %r failed', func)

    def _run_timers(self):
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            entry = heapq.heappop(self._timers)
            if entry[2] is not None:
                try:
                    entry[2]()
                except Exception:
                    LOG.exception('broker: timer %r failed', entry[2])

    def _next_timeout(self):
        while self._timers and self._timers[0][2] is None:
            heapq.heappop(self._timers)
        if self._deferred:
            return 0
        if not self._timers:
            return None
        return max(0.0, self._timers[0][0] - time.monotonic())

    def _begin_shutdown(self):
        if not self._alive:
            return
        self._alive = False
        for stream in list(self.streams):
            stream.on_shutdown()
        self.timer(self.shutdown_timeout, self._force_disconnect)

    def _force_disconnect(self):
        for stream in list(self.streams):
            stream.disconnect()

    def _loop_once(self):
        for func in self.poller.poll(self._next_timeout()):
            try:
                func()
            except Exception:
                LOG.exception('broker: %r failed', func)
                # A failing stream would fire again at once: drop it.
                owner = getattr(func, '__self__', None)
                if owner is not None and hasattr(owner, 'disconnect'):
                    try:
                        owner.disconnect()
                    except Exception:
                        LOG.exception('broker: disconnecting %r failed', owner)
        self._run_deferred()
        self._run_timers()

    def _run(self):
        try:
            while self._alive or self.streams:
                self._loop_once()
            self._run_deferred()
        except Exception:
            LOG.exception('broker crashed')
            for stream in list(self.streams):
                stream.disconnect()
        finally:
            self._alive = False
            for hook in self._exit_hooks:
                try:
                    hook()
                except Exception:
                    LOG.exception('broker exit hook failed')
            self.poller.close()
            os.close(self._wake_r)
            os.close(self._wake_w)
            fire(self, 'exit')


# ---------------------------------------------------------------------------
# Streams: framed messages over a pair of file descriptors.


class Stream(object):
    """Connection to one directly attached peer context.

    Reading and parsing happen on the broker thread; send() may be called from
    any thread and writes directly when nothing is queued (no broker wakeup).
    """

    def __init__(self, router, rfd, wfd=None, remote_id=None, name=None):
        self.router = router
        self.broker = router.broker
        self.rfd = rfd
        self.wfd = rfd if wfd is None else wfd
        set_nonblock(self.rfd)
        if self.wfd != self.rfd:
            set_nonblock(self.wfd)
        self.remote_id = remote_id
        self.name = name or 'stream.%s' % (remote_id,)
        self.auth_id = None
        self.is_parent = False
        self.sent_modules = set()
        self.closed = False
        self._closing = False
        self._rbuf = bytearray()
        self._wbuf = collections.deque()
        self._wlock = threading.Lock()
        self._transmitting = False
        self.max_message_size = router.max_message_size
        self.pending_bytes = 0
        #: Context ids routed through this stream.
        self.routes = set()
        #: Ids this stream's peer may still claim with ADD_ROUTE (allocated
        #: for a context below it); see Router.grant_route().
        self.grants = set()
        #: (dst_id, handle) of replies a trusted client (task worker) awaits
        #: from this child stream; only those may cross a unidirectional router.
        self.awaited = set()
        self.rx_bytes = self.tx_bytes = 0

    def __repr__(self):
        return 'Stream(%r)' % (self.name,)

    def start(self, initial=b''):
        """Attach to the broker (from any thread); initial = bytes read during boot."""
        def attach():
            self.broker.streams.add(self)
            self.broker.start_receive(self)
            if initial:
                self._on_data(initial)
        self.broker.defer(attach) if not self.broker.on_thread() else attach()

    def on_readable(self):
        try:
            data = os.read(self.rfd, CHUNK_SIZE)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EINTR):
                return
            data = b''
        if not data:
            self.disconnect()
            return
        self._on_data(data)

    def _on_data(self, data):
        self.rx_bytes += len(data)
        if self._rbuf:
            self._rbuf += data
            buf = self._rbuf
        else:
            buf = data     # Common case: parse the bytes just read, no copy.
        pos = self._parse_frames(buf)
        if buf is self._rbuf:
            del buf[:pos]
        elif pos < len(buf):
            self._rbuf = bytearray(memoryview(buf)[pos:])

    def _parse_frames(self, buf):
        """Route every complete frame in buf; returns the offset of the rest."""
        # Slicing bytes copies once; a bytearray is sliced through a view so
        # that it is copied once too (and can be trimmed after release()).
        view = memoryview(buf) if isinstance(buf, bytearray) else None
        pos = 0
        size = len(buf)
        try:
            while size - pos >= HEADER_LEN and not self.closed:
                magic, dst, src, auth, handle, reply_to, length = HEADER.unpack_from(buf, pos)
                if magic != HEADER_MAGIC or length > self.max_message_size:
                    self._bad_frame(magic, length)
                    break
                end = pos + HEADER_LEN + length
                if size < end:
                    break
                payload = buf[pos + HEADER_LEN:end] if view is None else view[pos + HEADER_LEN:end].tobytes()
                pos = end
                self._route_received(Message(dst, src, auth, handle, reply_to, payload, self.router))
        finally:
            if view is not None:
                view.release()
        return pos

    def _bad_frame(self, magic, length):
        if magic != HEADER_MAGIC:
            LOG.error('%r: bad frame magic 0x%x, closing stream', self, magic)
        else:
            LOG.error('%r: frame of %d bytes exceeds max_message_size %d, closing stream',
                      self, length, self.max_message_size)
        self.disconnect()

    def _route_received(self, msg):
        msg.stream = self
        try:
            self.router._async_route(msg, self)
        except Exception:
            # Keep parsing: later frames are already buffered.
            LOG.exception('%r: routing %r failed', self, msg)

    def send(self, msg):
        """Queue or directly write one message; safe from any thread."""
        data = msg.data
        header = HEADER.pack(HEADER_MAGIC, msg.dst_id, msg.src_id, msg.auth_id, msg.handle,
                             msg.reply_to, len(data))
        # Small frames are joined (one cheap copy) and written with write();
        # large payloads go out with writev() beside the header, uncopied.
        parts = [header + data] if len(data) < WRITEV_THRESHOLD else [header, data]
        self.tx_bytes += HEADER_LEN + len(data)
        start = False
        with self._wlock:
            if self.closed:
                return False
            if not self._wbuf:
                try:
                    self._write_from(parts)
                except OSError:
                    self.broker.defer(self.disconnect)
                    return False
                if not parts:
                    return True
            self._wbuf.extend(parts)
            self.pending_bytes += sum(len(p) for p in parts)
            if not self._transmitting:
                self._transmitting = start = True
        if start:
            if self.broker.on_thread():
                self.broker.start_transmit(self)
            else:
                self.broker.defer(self._start_transmit)
        return True

    def _write_from(self, parts):
        """Write as much of the deque/list parts as the fd takes, consuming it
        from the left (a partly written part is replaced by a view of its
        rest).  Returns bytes written; OSError other than EAGAIN propagates."""
        try:
            if len(parts) == 1:
                n = os.write(self.wfd, parts[0])
            else:
                n = os.writev(self.wfd, list(itertools.islice(parts, WRITEV_MAX)))
        except (BlockingIOError, InterruptedError):
            return 0
        written = n
        while n:
            size = len(parts[0])
            if n < size:
                parts[0] = memoryview(parts[0])[n:]
                break
            n -= size
            del parts[0]
        return written

    def _start_transmit(self):
        if not self.closed:
            self.broker.start_transmit(self)

    def on_writable(self):
        failed = False
        with self._wlock:
            while self._wbuf:
                try:
                    n = self._write_from(self._wbuf)
                except OSError:
                    failed = True
                    break
                if not n:
                    return
                self.pending_bytes -= n
            self._transmitting = False
            self.broker.stop_transmit(self)
        if failed or self._closing:
            self.disconnect()

    def on_shutdown(self):
        """Broker is shutting down: disconnect once queued output is flushed."""
        self._closing = True
        with self._wlock:
            pending = bool(self._wbuf)
        if not pending:
            self.disconnect()

    def disconnect(self):
        """Close the fds and tell the router (broker thread only)."""
        if self.closed:
            return
        with self._wlock:
            self.closed = True
            self._wbuf.clear()
        self.broker.poller.stop_receive(self.rfd)
        self.broker.poller.stop_transmit(self.wfd)
        self.broker.streams.discard(self)
        for fd in set((self.rfd, self.wfd)):
            try:
                os.close(fd)
            except OSError:
                pass
        self.router._on_stream_disconnect(self)
        fire(self, 'disconnect')


class LineLogStream(object):
    """Reads a pipe or pty (child stderr, captured stdout) and logs each line.

    With keep_open=True (a pty master) EOF only stops reading: closing the
    master would hang up the terminal and SIGHUP the child, so the fd is
    closed by disconnect(), called when the child's transport goes away.
    """

    def __init__(self, broker, fd, logger, level=logging.INFO, keep_open=False):
        self.broker = broker
        self.rfd = fd
        set_nonblock(fd)
        self.logger = logger
        self.level = level
        self._buf = b''
        self.closed = False
        self.keep_open = keep_open

    def start(self):
        def attach():
            self.broker.streams.add(self)
            self.broker.poller.start_receive(self.rfd, self.on_readable)
        self.broker.defer(attach) if not self.broker.on_thread() else attach()

    def on_readable(self):
        try:
            data = os.read(self.rfd, 65536)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EINTR):
                return
            data = b''
        if not data:
            if self.keep_open:
                self._stop_reading()
            else:
                self.disconnect()
            return
        lines = (self._buf + data).split(b'\n')
        self._buf = lines.pop()
        if len(self._buf) > 65536:
            lines.append(self._buf)   # endless line: log it in pieces
            self._buf = b''
        for line in lines:
            self.logger.log(self.level, '%s', to_text(line.rstrip(b'\r')))

    def on_shutdown(self):
        self.disconnect()

    def _stop_reading(self):
        if self._buf:
            self.logger.log(self.level, '%s', to_text(self._buf))
            self._buf = b''
        self.broker.poller.stop_receive(self.rfd)
        self.broker.streams.discard(self)

    def disconnect(self):
        if self.closed:
            return
        self.closed = True
        self._stop_reading()
        try:
            os.close(self.rfd)
        except OSError:
            pass


# ---------------------------------------------------------------------------
# Contexts and the router.


def has_parent_authority(msg, stream=None):
    """Policy: accept only messages authorised by this context or its parents."""
    return msg.auth_id == mitogen.context_id or msg.auth_id in mitogen.parent_ids


def _describe_function(fn):
    """(module, class name or None, function name) for a callable."""
    self_obj = getattr(fn, '__self__', None)
    if isinstance(self_obj, type):
        return self_obj.__module__, self_obj.__qualname__, fn.__name__
    if self_obj is not None and not isinstance(self_obj, types.ModuleType):
        raise TypeError('cannot call bound method of instance %r remotely' % (self_obj,))
    if '<locals>' in getattr(fn, '__qualname__', ''):
        raise TypeError('cannot call nested function %r remotely' % (fn,))
    qualname = getattr(fn, '__qualname__', fn.__name__)
    klass, _, name = qualname.rpartition('.')
    return fn.__module__, klass or None, name


def make_call_message(fn, args, kwargs, chain_id=None):
    mod, klass, name = _describe_function(fn)
    if mod == '__main__':
        mod = '__mitogen_main__'
    return Message.pickled((chain_id, mod, klass, name, tuple(args), Kwargs(kwargs)),
                           handle=CALL_FUNCTION)


class Context(object):
    """A handle to a (possibly remote) context: a Python process in the tree."""

    def __init__(self, router, context_id, name=None):
        self.router = router
        self.context_id = context_id
        self.name = name
        self.via = None

    def __repr__(self):
        return 'Context(%s, %r)' % (self.context_id, self.name)

    def __eq__(self, other):
        return isinstance(other, Context) and other.context_id == self.context_id

    def __hash__(self):
        return hash(('mitogen.Context', self.context_id))

    def __reduce__(self):
        return (Context, (None, self.context_id, self.name))

    def send(self, msg):
        """Route msg to this context."""
        msg.dst_id = self.context_id
        self.router.route(msg)

    def send_async(self, msg, persist=False):
        """Send msg and return a Receiver for its reply (dead if we disconnect)."""
        recv = Receiver(self.router, persist=persist, respondent=self)
        msg.reply_to = recv.handle
        self.send(msg)
        return recv

    def send_await(self, msg, deadline=None):
        recv = self.send_async(msg)
        return recv.get(timeout=deadline).unpickle()

    def call_async(self, fn, *args, **kwargs):
        return self.send_async(make_call_message(fn, args, kwargs))

    def call(self, fn, *args, **kwargs):
        """Call fn(*args, **kwargs) in this context and return its result."""
        recv = self.call_async(fn, *args, **kwargs)
        try:
            return recv.get().unpickle()
        finally:
            self.router.del_handler(recv.handle)

    def call_no_reply(self, fn, *args, **kwargs):
        self.send(make_call_message(fn, args, kwargs))

    def call_service(self, service_name, method_name, **kwargs):
        """Call method_name of a service registered in this context's Pool."""
        if not isinstance(service_name, str):
            service_name = '%s.%s' % (service_name.__module__, service_name.__qualname__)
        recv = self.send_async(Message.pickled((service_name, method_name, Kwargs(kwargs)),
                                               handle=CALL_SERVICE))
        try:
            return recv.get().unpickle()
        finally:
            self.router.del_handler(recv.handle)

    def shutdown(self, wait=False):
        """Ask the context to exit; with wait=True block until it disconnected."""
        latch = Latch()
        listen(self, 'disconnect', lambda: latch.put(None))
        self.send(Message(handle=SHUTDOWN))
        if wait:
            if self.router.stream_by_id(self.context_id) is None:
                return
            latch.get(timeout=30)


class Router(object):
    """Routes messages between local handlers and streams by context id."""

    max_message_size = DEFAULT_MAX_MESSAGE_SIZE
    #: Frames larger than this from a child stream close it (children are untrusted).
    max_child_message_size = DEFAULT_MAX_CHILD_MESSAGE_SIZE
    unidirectional = False
    context_class = Context

    def __init__(self, broker):
        self.broker = broker
        self.context_id = mitogen.context_id
        self._lock = threading.Lock()
        self._handlers = {}
        self._next_handle = 1000
        self._stream_by_id = {}
        self._contexts = {}
        self._respondents = {}
        # (src_id, reply_to) of ALLOCATE_ID requests forwarded upwards for a
        # child stream: the reply tells which id that child may claim.
        self._alloc_pending = {}
        self.parent_stream = None
        broker.on_exit(self._on_broker_exit)
        self.add_handler(self._on_add_route, ADD_ROUTE, policy=self._route_update_policy)
        # DEL_ROUTE also comes down from the parent: "a context you may be
        # waiting on is gone" (see _propagate_down).
        self.add_handler(self._on_del_route, DEL_ROUTE, policy=lambda msg, stream: stream is not None)
        self.add_handler(self._on_grant_route, GRANT_ROUTE, policy=self._from_parent_policy)

    def __repr__(self):
        return 'Router(%r)' % (self.context_id,)

    def __getattr__(self, name):
        # Children run this plain Router; the parent's boot config names the
        # module whose Router starts grandchildren, and the attributes it
        # adds, space-separated (router_upgrade).  User code asking for one of them
        # (router.local(), router.connect('ssh', ...)) imports that module
        # and upgrades this router to its class.  Never on the broker thread.
        upgrade = self.__dict__.get('upgrade')
        if upgrade is None or name not in upgrade[1].split():
            raise AttributeError(name)
        module = __import__(upgrade[0], fromlist=['Router'])
        self.__class__ = module.Router
        return getattr(self, name)

    # -- contexts --
    def myself(self):
        return self.context_by_id(self.context_id, name=getattr(mitogen, 'context_name', None) or 'self')

    def context_by_id(self, context_id, via_id=None, create=True, name=None):
        ctx = self._contexts.get(context_id)
        if ctx is None and create:
            ctx = self.context_class(self, context_id, name)
            ctx = self._contexts.setdefault(context_id, ctx)
        if ctx is not None and name and not ctx.name:
            ctx.name = name
        return ctx

    def stream_by_id(self, context_id):
        stream = self._stream_by_id.get(context_id)
        if stream is None and context_id != self.context_id:
            return self.parent_stream
        return stream

    def register(self, context, stream):
        """Make context reachable through stream and tell our parents."""
        self._contexts[context.context_id] = context
        context.router = self
        self._stream_by_id[context.context_id] = stream
        stream.remote_id = context.context_id
        stream.routes.add(context.context_id)
        self._propagate_up(ADD_ROUTE, (context.context_id, context.name or ''))

    def grant_route(self, stream, context_id):
        """Let the peer of `stream` claim `context_id` once with ADD_ROUTE.

        Ids are granted where they are allocated: by the master for the
        stream an ALLOCATE_ID came through, by every intermediary for the
        stream it forwarded that request for, and along the path of a
        via= connection (GRANT_ROUTE).  Nothing else can be claimed."""
        if stream is None or stream is self.parent_stream:
            return False
        if len(stream.grants) >= MAX_GRANTS:
            LOG.error('%r: %r holds %d unclaimed route grants, refusing more', self, stream, MAX_GRANTS)
            return False
        stream.grants.add(context_id)
        return True

    def _propagate_up(self, handle, payload):
        if self.parent_stream is not None:
            self.parent_stream.send(Message.pickled(payload, dst_id=mitogen.parent_id, handle=handle))

    def _propagate_down(self, target_id, skip):
        """Tell children that `target_id` is gone, so their pending calls to
        it fail instead of waiting forever (a task worker attached to a
        multiplexer only hears of a target's death this way).  Children
        that may not talk to other children never hear of them."""
        for stream in set(self._stream_by_id.values()):
            if stream is skip or stream is self.parent_stream or stream.closed:
                continue
            if self.unidirectional and stream.auth_id is None:
                continue
            stream.send(Message.pickled(target_id, dst_id=stream.remote_id, handle=DEL_ROUTE))

    def _route_update_policy(self, msg, stream):
        return stream is not None and stream is not self.parent_stream

    def _from_parent_policy(self, msg, stream):
        return stream is not None and stream is self.parent_stream and has_parent_authority(msg, stream)

    def _on_add_route(self, msg):
        if msg.is_dead:
            return
        try:
            target_id, name = decode_control(msg)
            if type(target_id) is not int or type(name) is not str:
                raise StreamError('bad ADD_ROUTE payload')
        except (StreamError, ValueError, TypeError) as e:
            LOG.error('%r: malformed ADD_ROUTE from %r: %s', self, msg.stream, e)
            return
        stream = msg.stream
        if target_id not in stream.grants:
            # Parent ids, our own id, other children's ids and made-up ids
            # were never granted to this stream (route hijack).
            LOG.error('%r: %r tried to claim route to %r, refused', self, stream, target_id)
            return
        stream.grants.discard(target_id)
        self._stream_by_id[target_id] = stream
        stream.routes.add(target_id)
        ctx = self.context_by_id(target_id)
        if name and not ctx.name:
            ctx.name = name
        self._propagate_up(ADD_ROUTE, (target_id, name))

    def _on_grant_route(self, msg):
        """A via= connection below us: its new id may come up from the
        child stream that leads to the via context."""
        if msg.is_dead:
            return
        try:
            context_id, via_id = decode_control(msg)
        except (StreamError, ValueError, TypeError):
            return
        stream = self._stream_by_id.get(via_id)
        if type(context_id) is int and stream is not None:
            self.grant_route(stream, context_id)

    def _snoop_allocation(self, msg, in_stream, out):
        """Remember ALLOCATE_ID requests forwarded for a child, and grant
        the id in the reply to that child's stream (broker thread)."""
        if in_stream is not self.parent_stream:
            if msg.handle == ALLOCATE_ID and out is self.parent_stream and msg.reply_to not in (NO_REPLY, IS_DEAD):
                if len(self._alloc_pending) < MAX_GRANTS:
                    self._alloc_pending[(msg.src_id, msg.reply_to)] = in_stream
            return
        stream = self._alloc_pending.pop((msg.dst_id, msg.handle), None)
        if stream is not None and stream is out and not msg.is_dead and len(msg.data) <= 64:
            try:
                context_id = decode(msg.data, None, contexts=False)
            except StreamError:
                return
            if type(context_id) is int:
                self.grant_route(stream, context_id)

    def _on_del_route(self, msg):
        if msg.is_dead:
            return
        try:
            target_id = decode_control(msg)
        except StreamError:
            return
        if type(target_id) is not int:
            return
        if msg.stream is self.parent_stream:
            # Only contexts we reach through the parent can be gone that way.
            if target_id not in self._stream_by_id and target_id not in mitogen.parent_ids:
                self._propagate_down(target_id, None)
                self._on_context_gone(target_id, 'context %s disconnected' % (target_id,))
            return
        if self._stream_by_id.get(target_id) is not msg.stream:
            return
        self._lose_route(target_id)

    def _lose_route(self, target_id):
        stream = self._stream_by_id.pop(target_id, None)
        if stream is not None:
            stream.routes.discard(target_id)
        self._propagate_up(DEL_ROUTE, target_id)
        self._propagate_down(target_id, stream)
        self._on_context_gone(target_id, 'context %s disconnected' % (target_id,))

    def _on_context_gone(self, context_id, reason):
        with self._lock:
            handles = self._respondents.pop(context_id, ())
        for handle in list(handles):
            self._kill_handler(handle, reason)
        ctx = self._contexts.get(context_id)
        if ctx is not None:
            fire(ctx, 'disconnect')

    def _on_stream_disconnect(self, stream):
        for target_id in list(stream.routes):
            if self._stream_by_id.get(target_id) is stream:
                self._lose_route(target_id)
        if self._alloc_pending:
            for key in [k for k, v in self._alloc_pending.items() if v is stream]:
                del self._alloc_pending[key]
        if stream.auth_id is not None:
            # A trusted client went away: forget the replies it awaited.
            for other in set(self._stream_by_id.values()):
                if other.awaited:
                    other.awaited = set(k for k in other.awaited if k[0] != stream.remote_id)
        if stream is self.parent_stream:
            self._on_parent_lost()

    def _on_parent_lost(self):
        # Everything upstream is unreachable now.
        with self._lock:
            gone = [cid for cid in self._respondents if cid not in self._stream_by_id]
        for cid in gone:
            self._on_context_gone(cid, 'parent stream disconnected')
        fire(self, 'parent_lost')

    def _on_broker_exit(self):
        with self._lock:
            handles = list(self._handlers)
        for handle in handles:
            self._kill_handler(handle, 'broker shut down')

    # -- handlers --
    def add_handler(self, fn, handle=None, persist=True, policy=None, respondent=None, overwrite=False):
        """Register fn(msg) for messages to handle; returns the handle."""
        with self._lock:
            if handle is None:
                handle = self._next_handle
                self._next_handle += 1
            elif handle in self._handlers and not overwrite:
                raise Error('handle %r is already registered' % (handle,))
            rid = respondent.context_id if respondent is not None else None
            if respondent is not None and policy is None:
                policy = self._respondent_policy(respondent)
            self._handlers[handle] = (fn, persist, policy, rid)
            if rid is not None:
                self._respondents.setdefault(rid, set()).add(handle)
        if not self.broker.alive:
            self._kill_handler(handle, 'broker shut down')
        return handle

    def _respondent_policy(self, respondent):
        """A reply handle accepts messages only from the context it awaits
        (and dead notices from the hops toward it, this context or its
        parents): another target cannot answer in its place."""
        allowed = set([respondent.context_id])
        hop = respondent.via
        while hop is not None:
            allowed.add(hop.context_id)
            hop = hop.via

        def from_respondent(msg, stream):
            if msg.src_id == respondent.context_id:
                return True
            return msg.is_dead and (msg.src_id in allowed or msg.src_id == self.context_id
                                    or msg.src_id in mitogen.parent_ids)
        return from_respondent

    def del_handler(self, handle):
        with self._lock:
            entry = self._handlers.pop(handle, None)
            if entry is not None and entry[3] is not None:
                self._respondents.get(entry[3], set()).discard(handle)
        return entry is not None

    def _kill_handler(self, handle, reason):
        with self._lock:
            entry = self._handlers.pop(handle, None)
            if entry is not None and entry[3] is not None:
                self._respondents.get(entry[3], set()).discard(handle)
        if entry is not None:
            msg = Message.dead(reason, handle=handle, router=self)
            try:
                entry[0](msg)
            except Exception:
                LOG.exception('%r: handler %r failed on dead message', self, entry[0])

    # -- routing --
    def route(self, msg):
        """Send msg to its destination; callable from any thread."""
        if msg.src_id == mitogen.context_id != self.context_id:
            # A process may hold several routers (a client of several
            # multiplexers): the process-wide default id is not this one's.
            msg.src_id = msg.auth_id = self.context_id
        if msg.dst_id != self.context_id:
            stream = self._stream_by_id.get(msg.dst_id) or self.parent_stream
            if stream is not None and not stream.closed:
                stream.send(msg)
                return
        self.broker.defer(self._async_route, msg, None)

    def _refuse(self, msg, reason):
        LOG.debug('%r: refusing %r: %s', self, msg, reason)
        if msg.reply_to not in (NO_REPLY, IS_DEAD):
            dead = Message.dead(reason, dst_id=msg.src_id, handle=msg.reply_to,
                                src_id=self.context_id, auth_id=self.context_id)
            self._async_route(dead, None)

    def _async_route(self, msg, in_stream):
        if in_stream is not None and in_stream is not self.parent_stream:
            # Source authentication: a stream may only speak for the contexts
            # routed through it; auth_id is ours to assign, never the peer's.
            if self._stream_by_id.get(msg.src_id) is not in_stream:
                LOG.error('%r: %r sent message claiming src_id %r, dropped', self, in_stream, msg.src_id)
                return
            msg.auth_id = msg.src_id if in_stream.auth_id is None else in_stream.auth_id
        if msg.dst_id == self.context_id:
            self._deliver(msg, in_stream)
            return
        out = self._stream_by_id.get(msg.dst_id) or self.parent_stream
        if out is None or out.closed:
            self._refuse(msg, 'no route to context %s' % (msg.dst_id,))
            return
        if out is in_stream:
            LOG.error('%r: %r: message would loop back to its stream, dropped', self, msg)
            return
        if in_stream is not None and (self._alloc_pending or msg.handle == ALLOCATE_ID):
            self._snoop_allocation(msg, in_stream, out)
        if self.unidirectional and in_stream is not None and out is not self.parent_stream \
                and in_stream is not self.parent_stream and not self._unidirectional_allows(msg, in_stream, out):
            return
        out.send(msg)

    def _unidirectional_allows(self, msg, in_stream, out):
        """Unidirectional: a child reaches its parents only; trusted local
        clients (UNIX listener streams carry an auth_id: task workers) reach
        children, and a child answers a client only where that client
        awaits a reply from it."""
        if in_stream.auth_id is not None:
            if out.auth_id is None and msg.reply_to not in (NO_REPLY, IS_DEAD):
                if len(out.awaited) >= MAX_AWAITED:
                    LOG.error('%r: %r awaits too many replies from %r', self, in_stream, out)
                    self._refuse(msg, 'too many replies awaited')
                    return False
                out.awaited.add((msg.src_id, msg.reply_to))
            return True
        if out.auth_id is not None:
            key = (msg.dst_id, msg.handle)
            if key in in_stream.awaited:
                in_stream.awaited.discard(key)
                return True
            LOG.error('%r: %r sent %r, which no client awaits from it, dropped', self, in_stream, msg)
            return False
        LOG.error('%r: unidirectional mode refuses %r from %r to %r', self, msg, in_stream, out)
        self._refuse(msg, 'unidirectional routing refused message')
        return False

    def _deliver(self, msg, in_stream):
        entry = self._handlers.get(msg.handle)
        if entry is None:
            if not msg.is_dead:
                self._refuse(msg, 'no handler %s in context %s' % (msg.handle, self.context_id))
            return
        fn, persist, policy, _ = entry
        if policy is not None and not policy(msg, in_stream):
            LOG.error('%r: policy refused %r on handle %r', self, msg, msg.handle)
            self._refuse(msg, 'message refused by policy')
            return
        if not persist:
            self.del_handler(msg.handle)
        msg.router = self
        try:
            fn(msg)
        except Exception:
            LOG.exception('%r: handler %r failed', self, fn)


# ---------------------------------------------------------------------------
# Import forwarding: a meta_path finder that asks the parent for modules.


# Top-level names a parent never serves (stdlib: its own or another
# platform's; Jython's `org`): asking for one would only cost a round trip.
LOCAL_ONLY = frozenset(getattr(sys, 'stdlib_module_names', ())) | frozenset(
    ('org', 'java', 'nt', '_winapi', 'msvcrt', 'winreg', '_overlapped', '_scproxy'))


class Importer(object):
    """Finds modules the child lacks by asking its parent, in RAM.

    Runs in children.  Modules whose top-level package was itself forwarded
    always come from the parent; other names are looked up locally first so
    the target's own stdlib wins.  Answers (positive and negative) are cached
    and reused to serve our own children (see mitogen.parent).
    """

    def __init__(self, router, prefer_parent=()):
        self.router = router
        self.cache = {}
        self.prefer_parent = tuple(prefer_parent)
        self._waiters = {}
        self._lock = threading.Lock()
        self.get_module_requests = 0
        router.add_handler(self._on_load_module, LOAD_MODULE, policy=_from_parent_stream)
        self.callbacks = {}

    # The broker thread stores everything the parent sends.
    def _on_load_module(self, msg):
        if msg.is_dead:
            return
        tup = msg.unpickle()
        fullname = tup[0]
        with self._lock:
            self.cache[fullname] = tup
            waiters = self._waiters.pop(fullname, ())
            callbacks = self.callbacks.pop(fullname, ())
        for latch in waiters:
            latch.put(tup)
        for cb in callbacks:
            cb(tup)

    def request(self, fullname, callback=None):
        """Ask the parent for fullname unless already pending; returns a Latch or None."""
        latch = None
        with self._lock:
            if fullname in self.cache:
                tup = self.cache[fullname]
                send = False
            else:
                tup = None
                send = fullname not in self._waiters and fullname not in self.callbacks
                if callback is None:
                    latch = Latch()
                    self._waiters.setdefault(fullname, []).append(latch)
                else:
                    self.callbacks.setdefault(fullname, []).append(callback)
        if tup is not None:
            if callback is not None:
                callback(tup)
                return None
            latch = Latch()
            latch.put(tup)
            return latch
        if send:
            self.get_module_requests += 1
            self.router.route(Message.pickled(fullname, dst_id=mitogen.parent_id, handle=GET_MODULE))
        return latch

    def _fetch(self, fullname):
        tup = self.request(fullname).get()
        return tup if tup[3] is not None else None

    def _wants(self, fullname):
        if fullname in self.cache:
            return self.cache[fullname][3] is not None
        pkg = fullname.rpartition('.')[0]
        if pkg:
            parent = sys.modules.get(pkg)
            if parent is None:
                return False
            # isinstance, not identity: a forked child inherits modules loaded
            # by its parent's importer.
            return isinstance(getattr(parent, '__loader__', None), Importer) or pkg == 'mitogen'
        if fullname in sys.builtin_module_names or fullname in LOCAL_ONLY:
            return False
        if fullname == '__mitogen_main__':
            return True
        if fullname.startswith(self.prefer_parent) and self.prefer_parent:
            return True
        try:
            import importlib.machinery
            if importlib.machinery.PathFinder.find_spec(fullname) is not None:
                return False
        except (ImportError, ValueError):
            pass
        return True

    def find_spec(self, fullname, path=None, target=None):
        if not self._wants(fullname):
            return None
        tup = self._fetch(fullname)
        if tup is None:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=tup[1], is_package=tup[2])

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        fullname = module.__name__
        _, path, is_pkg, source_z, _ = self.cache[fullname]
        source = zlib.decompress(source_z)
        filename = 'master:' + path
        module.__file__ = filename
        if is_pkg:
            module.__path__ = []
            module.__package__ = fullname
        else:
            module.__package__ = fullname.rpartition('.')[0]
        text = to_text(source)
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        exec(compile(source, filename, 'exec'), module.__dict__)

    def get_source(self, fullname):
        tup = self.cache.get(fullname)
        if tup and tup[3] is not None:
            return to_text(zlib.decompress(tup[3]))
        return None

    def is_package(self, fullname):
        tup = self.cache.get(fullname)
        return bool(tup and tup[2])


def _from_parent_stream(msg, stream=None):
    """Policy for LOAD_MODULE: only our parent may feed the importer."""
    return stream is None or stream.is_parent or has_parent_authority(msg, stream)


# ---------------------------------------------------------------------------
# Logging forwarded to the master.


class LogForwarder(logging.Handler):
    """Logging handler in children: ships records to the master (context 0)."""

    def __init__(self, router):
        logging.Handler.__init__(self)
        self.router = router
        self._busy = threading.local()

    def emit(self, record):
        if getattr(self._busy, 'on', False):
            return
        self._busy.on = True
        try:
            msg = mask_secrets(self.format(record) if record.exc_info else record.getMessage())
            if len(msg) > MAX_LOG_TEXT:
                msg = msg[:MAX_LOG_TEXT] + ' [... %d characters cut]' % (len(msg) - MAX_LOG_TEXT,)
            self.router.route(Message.pickled((str(record.name)[:200], int(record.levelno), msg),
                                              dst_id=0, handle=FORWARD_LOG))
        except Exception:
            pass
        finally:
            self._busy.on = False


# ---------------------------------------------------------------------------
# Child side: dispatcher of CALL_FUNCTION and the process main loop.


class Dispatcher(object):
    """Runs calls from CALL_FUNCTION messages on the child's main thread."""

    _chain_errors = {}

    def __init__(self, econtext):
        self.econtext = econtext
        self.recv = Receiver(econtext.router, CALL_FUNCTION, policy=has_parent_authority)
        listen(econtext.router, 'parent_lost', self.recv.close)

    @classmethod
    def forget_chain(cls, chain_id):
        cls._chain_errors.pop(chain_id, None)

    def _resolve(self, modname, klass, func):
        __import__(modname)
        obj = sys.modules[modname]
        if klass:
            for part in klass.split('.'):
                obj = getattr(obj, part)
        return getattr(obj, func)

    def _run(self, msg):
        try:
            chain_id, modname, klass, func, args, kwargs = _call_fields(msg.unpickle(throw=False))
        except Exception as e:
            # A malformed call is the caller's error, never the end of us.
            LOG.error('malformed CALL_FUNCTION from %r: %s', msg.src_id, e)
            return CallError(e)
        if chain_id is not None and chain_id in self._chain_errors:
            return self._chain_errors[chain_id]
        try:
            fn = self._resolve(modname, klass, func)
            if getattr(fn, 'mitogen_takes_router', False):
                kwargs['router'] = self.econtext.router
            if getattr(fn, 'mitogen_takes_econtext', False):
                kwargs['econtext'] = self.econtext
            return fn(*args, **kwargs)
        except Exception as e:
            err = CallError(e)
            if chain_id is not None:
                self._chain_errors[chain_id] = err
            if msg.reply_to == NO_REPLY:
                LOG.error('call_no_reply %s.%s() failed: %s', modname, func, err)
            return err

    def run(self):
        for msg in self.recv:
            result = self._run(msg)
            if msg.reply_to == NO_REPLY:
                continue
            try:
                reply = Message.pickled(result)
            except TypeError as e:
                reply = Message.pickled(CallError(e))
            msg.reply(reply)


def _call_fields(obj):
    """Validate a CALL_FUNCTION payload: (chain_id, module, class, function, args, kwargs)."""
    if type(obj) is not tuple or len(obj) != 6:
        raise StreamError('CALL_FUNCTION payload is not a 6-tuple')
    chain_id, modname, klass, func, args, kwargs = obj
    if not (chain_id is None or type(chain_id) is str):
        raise StreamError('CALL_FUNCTION chain id must be a string')
    if type(modname) is not str or type(func) is not str or not (klass is None or type(klass) is str):
        raise StreamError('CALL_FUNCTION names must be strings')
    if type(args) not in (tuple, list) or not isinstance(kwargs, dict):
        raise StreamError('CALL_FUNCTION arguments are malformed')
    if not all(type(k) is str for k in kwargs):
        raise StreamError('CALL_FUNCTION keyword names must be strings')
    return chain_id, modname, klass, func, tuple(args), dict(kwargs)


class ExternalContext(object):
    """Everything a child process owns: broker, router, parent, importer.

    build_child() fills the attributes in; they stay None until then.
    """

    broker = router = parent = importer = dispatcher = None

    def __init__(self, config):
        self.config = config


def _setup_package(config):
    mitogen.is_master = False
    mitogen.context_id = config['context_id']
    mitogen.parent_id = config['parent_ids'][0]
    mitogen.parent_ids = list(config['parent_ids'])
    mitogen.context_name = config.get('name')
    if not hasattr(mitogen, 'main'):
        # Scripts decorated with @mitogen.main() are imported here as
        # __mitogen_main__: the decorator must exist but never run anything.
        mitogen.main = lambda log_level='INFO', profiling=False: (lambda func: func)
    if not hasattr(mitogen, '__version__'):
        mitogen.__version__ = config.get('version', '0')
        mitogen.version = tuple(int(x) for x in mitogen.__version__.split('.'))


def _setup_stdio(broker):
    """Move fds 0/1/2 off the transport: /dev/null in, captured pipes out."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.close(null)
    for fd, name in ((1, 'stdout'), (2, 'stderr')):
        r, w = os.pipe()
        os.dup2(w, fd)
        os.close(w)
        set_cloexec(r)
        LineLogStream(broker, r, logging.getLogger(name), logging.INFO if fd == 1 else logging.WARNING).start()
    sys.stdin = open(0, 'r', closefd=False)
    sys.stdout = open(1, 'w', buffering=1, closefd=False)
    sys.stderr = open(2, 'w', buffering=1, closefd=False)


def _setup_logging(router, level):
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(LogForwarder(router))
    root.setLevel(level)


def _on_shutdown_msg(econtext, msg):
    LOG.debug('shutdown requested by %r', msg.src_id)
    econtext.dispatcher.recv.close()
    econtext.broker.shutdown()


def _descendants():
    """Pids of processes below this one (Linux /proc; elsewhere none)."""
    try:
        names = [n for n in os.listdir('/proc') if n.isdigit()]
    except OSError:
        return []
    children = {}
    for name in names:
        try:
            with open('/proc/%s/stat' % name, 'rb') as fp:
                ppid = int(fp.read().rsplit(b')', 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    found, todo = [], [os.getpid()]
    while todo:
        kids = children.get(todo.pop(), [])
        found.extend(kids)
        todo.extend(kids)
    return found


def _signal_descendants(signum):
    # What a running task started (a command, a pipeline, a forked task)
    # must not outlive us; daemons and async jobs detached themselves and
    # were re-parented away, so they are not found here.
    for pid in _descendants():
        try:
            os.kill(pid, signum)
        except OSError:
            pass


_exit_lock = threading.Lock()
_exit_hooks = []


def register_exit_hook(func):
    """Run func() when this child exits.  Children end with os._exit(),
    which skips atexit; code that leaves files behind (on-disk module
    bundles) registers their removal here."""
    _exit_hooks.append(func)


def run_exit_hooks():
    """Run the exit hooks now; only the first call (of any thread) runs them."""
    if _exit_lock.acquire(False):
        for func in reversed(_exit_hooks):
            try:
                func()
            except Exception:
                pass


def _exit_process(status=0):
    """End a child after its exit hooks ran (once, whichever thread is first)."""
    run_exit_hooks()
    os._exit(status)


def _exit_soon(econtext):
    """Parent is gone: stop what we started, give the main thread a moment,
    then leave regardless."""
    grace = econtext.config.get('exit_grace', 0.5)
    _signal_descendants(signal.SIGTERM)
    econtext.broker.shutdown()

    def killer():
        time.sleep(grace)
        _signal_descendants(signal.SIGKILL)
        _exit_process(0)
    t = threading.Thread(target=killer, name='mitogen.exit', daemon=True)
    t.start()


def build_child(config, rfd, wfd, broker=None):
    """Create broker, router and parent stream of a child; returns ExternalContext."""
    _setup_package(config)
    econtext = ExternalContext(config)
    econtext.broker = broker or Broker()
    if config.get('capture_stdio', True):
        _setup_stdio(econtext.broker)
    router = Router(econtext.broker)
    router.max_message_size = config.get('max_message_size', DEFAULT_MAX_MESSAGE_SIZE)
    router.unidirectional = config.get('unidirectional', False)
    router.prefer_parent = tuple(config.get('prefer_parent', ()))
    router.profiling = bool(config.get('profiling'))
    router.upgrade = config.get('router_upgrade')
    econtext.router = router
    stream = Stream(router, rfd, wfd, remote_id=mitogen.parent_id, name='parent')
    stream.is_parent = True
    router.parent_stream = stream
    econtext.parent = router.context_by_id(mitogen.parent_id, name='parent')
    _setup_logging(router, config.get('log_level', logging.INFO))
    econtext.importer = Importer(router, config.get('prefer_parent', ()))
    # A forked child replaces its parent's importer but keeps what it knew.
    for old in [f for f in sys.meta_path if isinstance(f, Importer)]:
        econtext.importer.cache.update(old.cache)
        sys.meta_path.remove(old)
    sys.meta_path.insert(0, econtext.importer)
    econtext.dispatcher = Dispatcher(econtext)
    router.add_handler(lambda msg: _on_shutdown_msg(econtext, msg), SHUTDOWN, policy=has_parent_authority)
    listen(router, 'parent_lost', lambda: _exit_soon(econtext))
    mitogen._econtext = econtext
    return econtext


def run_profiled(func, *args):
    """func(*args) under cProfile; stats go to /tmp/mitogen.stats.<pid>.<context id>."""
    import cProfile
    profiler = cProfile.Profile()
    try:
        return profiler.runcall(func, *args)
    finally:
        profiler.dump_stats('/tmp/mitogen.stats.%d.%s' % (os.getpid(), mitogen.context_id))


def run_child(econtext):
    """Main loop of a child: serve calls until told to stop, then exit."""
    try:
        if econtext.config.get('profiling'):
            run_profiled(econtext.dispatcher.run)
        else:
            econtext.dispatcher.run()
    finally:
        econtext.broker.shutdown()
        econtext.broker.join(econtext.broker.shutdown_timeout + 1)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        _exit_process(0)


def _child_main(config_bytes, core_z):
    """Entry point of a bootstrapped child (called by the second stage)."""
    config = decode(config_bytes)
    mitogen.core_source_z = core_z
    if not sys.executable:
        # argv[0] is our descriptive name, so Python could not work this out.
        try:
            sys.executable = os.readlink('/proc/self/exe')
        except OSError:
            pass
    rfd, wfd = os.dup(0), os.dup(1)
    for fd in (rfd, wfd):
        set_cloexec(fd)
    econtext = build_child(config, rfd, wfd)
    # Announce readiness before the broker may write any frame.
    set_block(wfd)
    os.write(wfd, READY_MARKER)
    econtext.router.parent_stream.start()
    if config.get('debug'):
        LOG.debug('child %s booted as %r', mitogen.context_id, sys.argv[0])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A parent that goes away SIGTERMs what it started, this child included:
    # its exit hooks still run (they remove what it left on disk).
    signal.signal(signal.SIGTERM, lambda *_: _exit_process(128 + signal.SIGTERM))
    run_child(econtext)


__all__ = [
    'Blob', 'Broker', 'CallError', 'Channel', 'ChannelError', 'Context', 'Error', 'Kwargs', 'Latch',
    'LatchError', 'Message', 'Receiver', 'Router', 'Secret', 'Sender', 'StreamError', 'TimeoutError',
    'fire', 'listen', 'takes_econtext', 'takes_router',
]
