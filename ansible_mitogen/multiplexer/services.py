"""Services living in each connection multiplexer.

Runs in the multiplexer processes forked by `process.start()`; task workers
call these over the multiplexer's UNIX socket with
`parent.call_service(SERVICE_NAME, method, **kwargs)`.

* ContextService: one Mitogen context per hop stack, shared by every task
  of the run.  Reuse, refcounts, reset, a cap on interpreters per target
  (MITOGEN_MAX_INTERPRETERS, default 20; least recently used idle one shut
  down past it), one connect at a time per stack (others wait for its
  result), and connect timeouts measured by the connection method itself
  from when the attempt starts, never from when the request was queued.
* FileService / PushFileService (from mitogen.service): file transfer.
* ModuleCacheService: key/value cache of module and module_utils source,
  filled by task workers, so it is read and built once per run.
"""
import logging
import os
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import mitogen.core
import mitogen.master
import mitogen.parent
import mitogen.service
import mitogen.unix

from ansible_mitogen.multiplexer.service_names import CONTEXT_SERVICE, MODULE_CACHE_SERVICE, stack_key

LOG = logging.getLogger(__name__)

DEFAULT_MAX_INTERPRETERS = 20
# Methods that reach another machine (or container): the last of them in a
# stack is the login context; become hops after it share its machine.
LOGIN_METHODS = mitogen.parent.methods_with_role("login")


def max_interpreters() -> int:
    return max(1, int(os.environ.get("MITOGEN_MAX_INTERPRETERS") or DEFAULT_MAX_INTERPRETERS))


def machine_depth(stack: List[Dict[str, Any]]) -> int:
    """Length of the prefix of `stack` that reaches the target machine."""
    depth = 1
    for i, hop in enumerate(stack):
        if hop["method"] in LOGIN_METHODS:
            depth = i + 1
    return depth


class InitCall:
    """init_child sent to a new context; its answer read once, when first
    needed.  Until then the context is handed out already, so a task's
    first call follows init_child on the link without a round trip between."""

    def __init__(self, context: Any, hop: Dict[str, Any], init_kwargs: dict) -> None:
        self._lock = threading.Lock()
        self._hop = hop
        self._recv = send_init_child(context, init_kwargs)
        self._result: Optional[Tuple[Optional[Dict[str, Any]], Optional[str]]] = None

    def done(self) -> bool:
        return self._result is not None

    def result(self) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
        """(init_child's answer, None) or (None, why it failed)."""
        with self._lock:
            if self._result is None:
                try:
                    self._result = (self._recv.get().unpickle(), None)
                except Exception as exc:
                    self._result = (None, describe_error(self._hop, exc))
                finally:
                    self._recv.router.del_handler(self._recv.handle)
            return self._result


class Entry:
    """One live context and the bookkeeping the cap and reset need."""

    def __init__(self, key: str, context: Any, parent_key: Optional[str], machine: str, init: InitCall) -> None:
        self.key = key
        self.context = context
        self.parent_key = parent_key
        self.machine = machine
        self.init = init
        # module code sent to the context so far (see claim_code)
        self.bundles: set = set()
        self.digests: set = set()
        self.refs = 0
        self.last_used = time.monotonic()


class ContextService(mitogen.service.Service):
    """Hands out (and reuses) contexts for hop stacks."""

    name = CONTEXT_SERVICE

    def __init__(self, router: Any) -> None:
        super().__init__(router)
        self._lock = threading.Lock()
        self._entries: Dict[str, Entry] = {}
        self._pending: Dict[str, threading.Event] = {}
        self._errors: Dict[str, Tuple[float, str]] = {}

    # --- public methods -------------------------------------------------

    @mitogen.service.expose(mitogen.service.AllowParents())
    def get(self, stack: list, init_kwargs: Optional[dict] = None, wait_init: bool = True) -> Dict[str, Any]:
        """Contexts for every hop of `stack`, connecting what is missing.

        Returns {"context", "login_context", "init", "login_init", "msg",
        "method", "bundles"}: on failure `context` is None, `msg` says why
        and `method` names the hop that failed; `bundles` are the module
        bundles whose code a task already sent to the context (claim_code).
        With wait_init=False a context whose init_child has not answered
        yet is handed out at once, `init_pending` set: the caller sends its
        first call and then asks init_of() for the answers.
        """
        parent = None
        contexts = []
        for depth in range(1, len(stack) + 1):
            entry, msg = self._get_one(stack[:depth], parent, init_kwargs or {})
            if entry is not None and wait_init:
                msg = self._init_failure(entry)
            if msg is not None:
                return self._failure(stack, depth, msg)
            parent = entry
            contexts.append(entry)
        last = contexts[-1]
        login = contexts[machine_depth(stack) - 1]
        pending = not (last.init.done() and login.init.done())
        if not wait_init and not pending:
            failed = self._init_failures(stack)
            if failed is not None:
                return failed
        with self._lock:
            last.refs += 1
            last.last_used = time.monotonic()
            bundles = sorted(last.bundles)
        reply = {"context": last.context, "login_context": login.context, "init": None, "login_init": None,
                 "msg": None, "method": None, "depth": len(stack), "bundles": bundles}
        if wait_init or not pending:
            reply.update(init=last.init.result()[0], login_init=login.init.result()[0])
        else:
            reply["init_pending"] = True
        return reply

    @mitogen.service.expose(mitogen.service.AllowParents())
    def init_of(self, stack: list) -> Dict[str, Any]:
        """init_child's answers for the contexts get(stack, wait_init=False)
        handed out: {"init", "login_init", "msg", ...} as get() has them,
        waiting for them if need be.  If init_child failed, the context is
        shut down and forgotten (the next get() connects afresh)."""
        failed = self._init_failures(stack)
        if failed is not None:
            return failed
        last, login = self._entry(stack), self._entry(stack[:machine_depth(stack)])
        if last is None or login is None:
            return self._failure(stack, len(stack), "the connection went away while it was set up")
        return {"init": last.init.result()[0], "login_init": login.init.result()[0], "msg": None}

    @mitogen.service.expose(mitogen.service.AllowParents())
    def claim_code(self, context: Any, bundle: str, digests: list) -> list:
        """A task is about to send `bundle` to `context`: those of its source
        `digests` no task sent there before (now counted as sent).  Its
        call then carries the manifest and just those: one round trip for
        a module new to the interpreter.  Should a call carrying them get
        lost, the target still asks for what it lacks."""
        with self._lock:
            for entry in self._entries.values():
                if entry.context == context:
                    entry.bundles.add(bundle)
                    missing = [d for d in digests if d not in entry.digests]
                    entry.digests.update(missing)
                    return missing
        return list(digests)

    @mitogen.service.expose(mitogen.service.AllowParents())
    def acquire(self, context: Any) -> None:
        """A task reuses `context`, whose get() answer its process kept
        (ansible_mitogen.executor.context_cache): count it as get() would."""
        with self._lock:
            for entry in self._entries.values():
                if entry.context == context:
                    entry.refs += 1
                    entry.last_used = time.monotonic()
                    return

    @mitogen.service.expose(mitogen.service.AllowParents())
    def put(self, context: Any) -> None:
        """A task worker is done with `context` (refcount down, stays cached)."""
        with self._lock:
            for entry in self._entries.values():
                if entry.context == context and entry.refs > 0:
                    entry.refs -= 1
                    entry.last_used = time.monotonic()
                    return

    @mitogen.service.expose(mitogen.service.AllowParents())
    def reset(self, stack: list) -> bool:
        """Shut down the context of `stack` (and what hangs off it); next
        get() connects afresh.  True if something was shut down."""
        key = stack_key(stack)
        with self._lock:
            victims = self._subtree(key)
            self._errors.pop(key, None)
        for entry in victims:
            self._shutdown(entry)
        return bool(victims)

    @mitogen.service.expose(mitogen.service.AllowParents())
    def stats(self) -> Dict[str, Any]:
        with self._lock:
            return {"contexts": len(self._entries),
                    "per_machine": self._per_machine_counts()}

    # --- internals ------------------------------------------------------

    def _failure(self, stack: list, depth: int, msg: Optional[str]) -> Dict[str, Any]:
        return {"context": None, "login_context": None, "init": None, "msg": msg,
                "method": stack[depth - 1]["method"], "depth": depth}

    def _entry(self, stack: list) -> Optional[Entry]:
        with self._lock:
            return self._entries.get(stack_key(stack))

    def _init_failures(self, stack: list) -> Optional[Dict[str, Any]]:
        """get()'s failure answer for the first hop of `stack` whose
        init_child failed (waiting for the answers), else None."""
        for depth in range(1, len(stack) + 1):
            entry = self._entry(stack[:depth])
            msg = self._init_failure(entry) if entry is not None else None
            if msg is not None:
                return self._failure(stack, depth, msg)
        return None

    def _init_failure(self, entry: Entry) -> Optional[str]:
        """Why init_child failed in `entry` (then shut down and forgotten,
        the error kept as a failed connect's), else None."""
        msg = entry.init.result()[1]
        if msg is not None:
            LOG.debug("init_child of %r failed: %s", entry.context, msg)
            with self._lock:
                self._errors[entry.key] = (time.monotonic(), msg)
                victims = self._subtree(entry.key)
            for victim in victims:
                self._shutdown(victim)
        return msg

    def _get_one(self, stack: list, parent: Optional[Entry], init_kwargs: dict) -> Tuple[Optional[Entry], Optional[str]]:
        key = stack_key(stack)
        while True:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    entry.last_used = time.monotonic()
                    return entry, None
                waiter = self._pending.get(key)
                if waiter is None:
                    self._pending[key] = threading.Event()
                    break
            # Someone else is connecting this very stack: share their result.
            waiter.wait()
            with self._lock:
                if key in self._errors and key not in self._entries:
                    return None, self._errors[key][1]
        try:
            return self._connect(key, stack, parent, init_kwargs)
        finally:
            with self._lock:
                self._pending.pop(key).set()

    def _connect(self, key: str, stack: list, parent: Optional[Entry], init_kwargs: dict) -> Tuple[Optional[Entry], Optional[str]]:
        hop = stack[-1]
        machine = stack_key(stack[:machine_depth(stack)])
        self._make_room(machine)
        try:
            context = connect_hop(self.router, hop, parent.context if parent else None)
            init = InitCall(context, hop, init_kwargs)
        except Exception as exc:  # any failure becomes a clean UNREACHABLE/FAILED
            msg = describe_error(hop, exc)
            LOG.debug("connect %s failed: %s", hop["method"], msg)
            with self._lock:
                self._errors[key] = (time.monotonic(), msg)
            return None, msg
        entry = Entry(key, context, parent.key if parent else None, machine, init)
        with self._lock:
            self._entries[key] = entry
            self._errors.pop(key, None)
        mitogen.core.listen(context, "disconnect", lambda: self._forget(key))
        return entry, None

    def _forget(self, key: str) -> None:
        with self._lock:
            for entry in self._subtree(key):
                self._entries.pop(entry.key, None)

    def _subtree(self, key: str) -> List[Entry]:
        """`key`'s entry and every entry reached through it, children first."""
        out: List[Entry] = []
        frontier = [key]
        while frontier:
            current = frontier.pop()
            entry = self._entries.get(current)
            if entry is not None:
                out.append(entry)
            frontier.extend(e.key for e in self._entries.values() if e.parent_key == current)
        return list(reversed(out))

    def _shutdown(self, entry: Entry) -> None:
        with self._lock:
            self._entries.pop(entry.key, None)
        try:
            entry.context.shutdown(wait=True)
        except Exception as exc:
            LOG.debug("shutdown of %r: %s", entry.context, exc)

    def _per_machine_counts(self) -> Dict[str, int]:
        counts: Dict[str, int] = {}
        for entry in self._entries.values():
            counts[entry.machine] = counts.get(entry.machine, 0) + 1
        return counts

    def _make_room(self, machine: str) -> None:
        """Past the cap, shut down the least recently used idle leaf."""
        with self._lock:
            mine = [e for e in self._entries.values() if e.machine == machine]
            if len(mine) < max_interpreters():
                return
            parents = {e.parent_key for e in self._entries.values()}
            idle = [e for e in mine if e.refs == 0 and e.key not in parents]
            if not idle:
                return
            victim = min(idle, key=lambda e: e.last_used)
        LOG.debug("interpreter cap reached for a target; shutting down %r", victim.context)
        self._shutdown(victim)


def connect_hop(router: Any, hop: Dict[str, Any], via: Any) -> Any:
    """router.<method>(via=..., **kwargs) for one hop."""
    kwargs = {k: v for k, v in hop["kwargs"].items() if v is not None}
    if os.environ.get("MITOGEN_PROFILING"):
        kwargs["profiling"] = True
    if via is not None:
        kwargs["via"] = via
    return getattr(router, hop["method"])(**kwargs)


def send_init_child(context: Any, init_kwargs: dict) -> Any:
    """Send ansible_mitogen.remote.target.init_child to a new interpreter
    (once); the Receiver of its answer."""
    import ansible_mitogen.remote.target as target

    # ahead of the call: its imports (target, runner, task_wire) cost no round trips
    context.router.responder.push(context, target.__name__)
    return context.call_async(target.init_child, **init_kwargs)


def describe_error(hop: Dict[str, Any], exc: BaseException) -> str:
    """Human-readable reason a hop failed, naming the method and host."""
    kwargs = hop["kwargs"]
    where = kwargs.get("hostname") or kwargs.get("username") or ""
    text = (str(exc) or exc.__class__.__name__).strip()
    if isinstance(exc, mitogen.core.CallError):
        # The remote traceback of our own code follows the first line; users
        # need the reason, -vvv logs have the rest.  Anything else (a child
        # that died while booting, a tool's refusal) is shown whole.
        text = text.splitlines()[0]
    return "%s%s: %s" % (hop["method"], " to %s" % where if where else "", text)


class ModuleCacheService(mitogen.service.Service):
    """Run-wide cache of module/module_utils source built by task workers."""

    name = MODULE_CACHE_SERVICE

    def __init__(self, router: Any) -> None:
        super().__init__(router)
        self._lock = threading.Lock()
        self._cache: Dict[str, Any] = {}

    @mitogen.service.expose(mitogen.service.AllowParents())
    def get(self, key: str) -> Any:
        with self._lock:
            return self._cache.get(key)

    @mitogen.service.expose(mitogen.service.AllowParents())
    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._cache[key] = value

    @mitogen.service.expose(mitogen.service.AllowParents())
    def claim(self, key: str, items: list) -> list:
        """Add `items` to the set stored under `key`; return those that were
        not in it yet.  Atomic, so of several task workers about to send the
        same module source to one mitogen_via intermediary only one does."""
        with self._lock:
            held = self._cache.setdefault(key, set())
            fresh = [item for item in items if item not in held]
            held.update(fresh)
            return fresh


class MultiplexerServer:
    """Router + UNIX listener + service pool of one multiplexer process."""

    def __init__(self, path: str, pool_size: int) -> None:
        self.broker = mitogen.master.Broker()
        self.router = mitogen.master.Router(self.broker)
        # Targets never reach each other through us (children inherit it).
        self.router.unidirectional = True
        self.listener = mitogen.unix.Listener(self.router, path)
        self.services = [
            ContextService(self.router),
            mitogen.service.FileService(self.router),
            mitogen.service.PushFileService(self.router),
            ModuleCacheService(self.router),
        ]
        self.pool = mitogen.service.Pool(self.router, services=self.services, size=pool_size)
        if os.environ.get("MITOGEN_DUMP_THREAD_STACKS"):
            start_stack_dumper()

    def shutdown(self) -> None:
        try:
            self.pool.stop(join=True)
        except Exception:
            pass
        self.broker.shutdown()
        self.broker.join()


def start_stack_dumper(interval: float = 5.0) -> None:
    """MITOGEN_DUMP_THREAD_STACKS: log every thread's stack periodically."""
    import sys
    import traceback

    def loop() -> None:
        while True:
            time.sleep(interval)
            for ident, frame in sys._current_frames().items():
                LOG.warning("thread %s:\n%s", ident, "".join(traceback.format_stack(frame)))

    threading.Thread(target=loop, name="stack-dumper", daemon=True).start()
