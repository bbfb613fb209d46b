"""The controller's router: module responder (import forwarding source) and log sink.

Runs only in the master process.  Children send GET_MODULE for modules they
lack; ModuleResponder answers with LOAD_MODULE messages, preloading the
dependencies it finds by scanning bytecode, within the requested module's
top-level package.  FORWARD_LOG records from any child are re-emitted here.
"""
import collections
import dis
import importlib.util
import logging
import os
import sys
import sysconfig
import threading
import types
import zlib
from typing import List, Optional, Tuple

import mitogen
import mitogen.core
import mitogen.minify
import mitogen.parent
from mitogen.core import Message

LOG = logging.getLogger('mitogen')

Broker = mitogen.core.Broker

_STDLIB_DIRS = tuple(sorted(set(
    os.path.realpath(p) for p in (sysconfig.get_paths().get('stdlib'), sysconfig.get_paths().get('platstdlib'))
    if p
)))
# Parts of this library that children already have from the bootstrap.
_NEVER_SEND = ('mitogen', 'mitogen.core', '__main__')


def is_stdlib_path(path: str) -> bool:
    real = os.path.realpath(path)
    if 'site-packages' in real or 'dist-packages' in real:
        return False
    return any(real.startswith(d + os.sep) for d in _STDLIB_DIRS)


def scan_imports(code: types.CodeType, package: str) -> List[str]:
    """Absolute module names imported anywhere in code (IMPORT_NAME opcodes)."""
    found = []
    stack = [code]
    while stack:
        co = stack.pop()
        consts = []
        for ins in dis.get_instructions(co):
            if ins.opname == 'LOAD_CONST':
                consts.append(ins.argval)
                continue
            if ins.opname == 'IMPORT_NAME' and len(consts) >= 2:
                level, fromlist = consts[-2], consts[-1]
                base = _resolve(ins.argval, level, package)
                if base:
                    found.append(base)
                    for item in fromlist or ():
                        if item != '*':
                            found.append(base + '.' + item)
            consts = []
        stack.extend(c for c in co.co_consts if isinstance(c, types.CodeType))
    return found


def _resolve(name: str, level, package: str) -> Optional[str]:
    if not isinstance(level, int) or level == 0:
        return name
    parts = package.split('.') if package else []
    if level - 1 > len(parts):
        return None
    base = '.'.join(parts[:len(parts) - (level - 1)])
    if not base:
        return None
    return base + '.' + name if name else base


class ModuleResponder(object):
    """Serves GET_MODULE requests from the master's direct children."""

    def __init__(self, router):
        self.router = router
        self._cache = {}
        self._lock = threading.Lock()
        self.whitelist = []
        self.blacklist = []
        #: Packages sent with docstrings and comments blanked (line numbers
        #: kept, see mitogen.minify.blank_source): code we know reads no
        #: docstring; a user's own modules travel as they are.
        self.minify_prefixes = ['mitogen', 'ansible_mitogen']
        self.get_module_count = 0
        self.good_load_module_count = 0
        self.good_load_module_size = 0
        # Finding, reading and compiling sources is slow: done by a thread of
        # our own, never on the broker thread that serves every other stream.
        self._queue = collections.deque()
        self._queue_cond = threading.Condition()
        self._thread = None
        router.add_handler(self._on_get_module, mitogen.core.GET_MODULE, policy=self._from_child)

    def whitelist_prefix(self, name: str) -> None:
        """Only serve modules under the given prefixes (once any is set)."""
        self.whitelist.append(name)

    def blacklist_prefix(self, name: str) -> None:
        """Never serve modules under the prefix."""
        self.blacklist.append(name)

    def _matches(self, fullname, prefixes):
        return any(fullname == p or fullname.startswith(p + '.') for p in prefixes)

    def _from_child(self, msg, stream):
        return stream is not None and not stream.is_parent

    # -- building module tuples: (fullname, path, is_pkg, source_z|None, related) --
    def _negative(self, fullname):
        return (fullname, None, False, None, ())

    def _locate(self, fullname) -> Tuple[Optional[str], Optional[bytes], bool]:
        if fullname == '__mitogen_main__':
            mod = sys.modules.get('__main__')
            path = getattr(mod, '__file__', None)
            if not path or not path.endswith('.py'):
                return None, None, False
            with open(path, 'rb') as fp:
                return path, fp.read(), False
        mod = sys.modules.get(fullname)
        if mod is not None:
            path = getattr(mod, '__file__', None)
            is_pkg = hasattr(mod, '__path__')
            loader = getattr(mod, '__loader__', None)
        elif '.' in fullname and fullname.rpartition('.')[0] not in sys.modules:
            # find_spec() would import the parent package: a child's request
            # must never make us run a module's code.
            return None, None, False
        else:
            try:
                spec = importlib.util.find_spec(fullname)
            except (ImportError, ValueError, AttributeError):
                spec = None
            if spec is None or spec.origin in (None, 'built-in', 'frozen'):
                return None, None, False
            path, is_pkg, loader = spec.origin, spec.submodule_search_locations is not None, spec.loader
        if not path or not path.endswith('.py') or is_stdlib_path(path):
            return None, None, False
        source = None
        if loader is not None and hasattr(loader, 'get_source'):
            try:
                text = loader.get_source(fullname)
                source = text.encode('utf-8') if text is not None else None
            except Exception:
                source = None
        if source is None:
            try:
                with open(path, 'rb') as fp:
                    source = fp.read()
            except OSError:
                return None, None, False
        return path, source, is_pkg

    def _build(self, fullname):
        tup = self._cache.get(fullname)
        if tup is not None:
            return tup
        if (fullname in _NEVER_SEND or self._matches(fullname, self.blacklist)
                or (self.whitelist and not self._matches(fullname, self.whitelist))):
            tup = self._negative(fullname)
        else:
            path, source, is_pkg = self._locate(fullname)
            if source is None:
                tup = self._negative(fullname)
            else:
                related = self._related(fullname, path, source, is_pkg)
                if self._matches(fullname, self.minify_prefixes):
                    source = mitogen.minify.blanked(source)
                tup = (fullname, path, is_pkg, zlib.compress(source, 9), tuple(related))
        self._cache[fullname] = tup
        return tup

    def _related(self, fullname, path, source, is_pkg):
        """Dependencies inside the same top-level package that we imported ourselves."""
        top = fullname.split('.')[0]
        package = fullname if is_pkg else fullname.rpartition('.')[0]
        try:
            code = compile(source, path, 'exec', dont_inherit=True)
        except SyntaxError:
            return []
        names = set()
        parts = fullname.split('.')
        for i in range(1, len(parts)):
            names.add('.'.join(parts[:i]))
        for name in scan_imports(code, package):
            if name.split('.')[0] == top:
                names.add(name)
        names.discard(fullname)
        return sorted(n for n in names if sys.modules.get(n) is not None and n not in _NEVER_SEND)

    def _closure(self, tup):
        """All related modules, transitively, parents before children."""
        seen = {}
        todo = list(tup[4])
        while todo:
            name = todo.pop()
            if name in seen or name == tup[0]:
                continue
            rtup = self._build(name)
            seen[name] = rtup
            todo.extend(rtup[4])
        return [seen[n] for n in sorted(seen)]

    #: GET_MODULE requests queued at most (more are answered negatively).
    max_queued = 10000

    def _on_get_module(self, msg):
        """Broker thread: validate the (small) request and queue it."""
        if msg.is_dead:
            return
        try:
            fullname = mitogen.core.decode_control(msg)
        except mitogen.core.StreamError as e:
            LOG.error('%r: bad GET_MODULE from %r: %s', self, msg.src_id, e)
            return
        if type(fullname) is not str or not all(part.isidentifier() for part in fullname.split('.')):
            LOG.error('%r: bad module name in GET_MODULE from %r', self, msg.src_id)
            return
        with self._queue_cond:
            if len(self._queue) >= self.max_queued:
                LOG.error('%r: too many GET_MODULE requests queued, refusing %r', self, fullname)
                full = True
            else:
                full = False
                self._queue.append((msg, fullname))
                self._queue_cond.notify()
                if self._thread is None:
                    self._thread = threading.Thread(target=self._serve, name='mitogen.responder', daemon=True)
                    self._thread.start()
        if full:
            self._send(msg.stream, msg.src_id, self._negative(fullname))

    def _serve(self):
        while True:
            with self._queue_cond:
                while not self._queue:
                    self._queue_cond.wait()
                msg, fullname = self._queue.popleft()
            if msg.stream is not None and msg.stream.closed:
                continue
            try:
                self._respond(msg, fullname)
            except Exception:
                LOG.exception('%r: serving %r failed', self, fullname)
                self._send(msg.stream, msg.src_id, self._negative(fullname))

    def _respond(self, msg, fullname):
        self.get_module_count += 1
        self._send_closure(msg.stream, msg.src_id, fullname, always=True)

    def _send_closure(self, stream, dst_id, fullname, always):
        with self._lock:
            tup = self._build(fullname)
            related = self._closure(tup) if tup[3] is not None else []
        for rtup in related + [tup]:
            if rtup[3] is not None and rtup[0] not in stream.sent_modules:
                self._send(stream, dst_id, rtup)
            elif always and rtup is tup:
                self._send(stream, dst_id, tup)

    def push(self, context, fullname: str) -> None:
        """Send `fullname` and what it imports from its package to a direct
        child before it asks: the call that needs them then costs no
        GET_MODULE round trips.  Nothing for other contexts."""
        stream = self.router.stream_by_id(context.context_id)
        if stream is not None and stream.remote_id == context.context_id:
            self._send_closure(stream, context.context_id, fullname, always=False)

    def _send(self, stream, dst_id, tup):
        stream.sent_modules.add(tup[0])
        if tup[3] is not None:
            self.good_load_module_count += 1
            self.good_load_module_size += len(tup[3])
        self.router.route(Message.pickled(tup, dst_id=dst_id, handle=mitogen.core.LOAD_MODULE))


class LogForwardReceiver(object):
    """Re-emits FORWARD_LOG records under loggers named mitogen.ctx.<name>."""

    def __init__(self, router):
        self.router = router
        router.add_handler(self._on_forward_log, mitogen.core.FORWARD_LOG)

    def _on_forward_log(self, msg):
        if msg.is_dead:
            return
        try:
            origin, level, text = mitogen.core.decode_control(msg)
            if type(origin) is not str or type(level) is not int or type(text) is not str:
                raise mitogen.core.StreamError('bad field types')
        except Exception:
            LOG.error('malformed FORWARD_LOG message from %r', msg.src_id)
            return
        level = min(max(level, logging.DEBUG), logging.CRITICAL)
        ctx = self.router.context_by_id(msg.src_id, create=False)
        name = (ctx.name if ctx is not None and ctx.name else str(msg.src_id))
        logger = logging.getLogger('mitogen.ctx.%s' % (name,))
        if origin and origin != 'root':
            logger.log(level, '%s: %s', origin, text)
        else:
            logger.log(level, '%s', text)


class Router(mitogen.parent.Router):
    """The master's router: starts children and serves their imports."""

    def __init__(self, broker: Optional[mitogen.core.Broker] = None, max_message_size: Optional[int] = None):
        if broker is None:
            broker = Broker()
        super().__init__(broker)
        if max_message_size is not None:
            self.max_message_size = max_message_size
        self.responder = ModuleResponder(self)
        self.log_receiver = LogForwardReceiver(self)
        self.prefer_parent = []
        mitogen.parent.install_master_handlers(self)

    def shutdown(self) -> None:
        """Disconnect every child and stop the broker."""
        self.broker.shutdown()
