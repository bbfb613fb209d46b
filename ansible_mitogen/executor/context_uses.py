"""Uses of cached contexts this process reports to ContextService, coalesced.

Runs in the strategy process, where executor threads run task after task
(connection.py calls it).  Each task on a context this process already
holds tells the multiplexer it uses it (`ContextService.acquire`) and, at
its end, that it is done (`put`): two messages, each waking the
multiplexer's broker and a service thread, whose only reader is the
interpreter cap's choice of an idle context to shut down.  A task's `put`
is held back here for HOLD seconds instead; if the next task on that
context starts meanwhile (the usual case: the host's next task), the two
cancel out and neither is sent.  Held puts are sent by a thread once they
expire (it looks every HOLD seconds), so the multiplexer sees a context as
idle at most 2 x HOLD seconds after its last task, and the counts it keeps
are the same once they are.

Only the strategy process holds puts back: it lives as long as the
multiplexers, while executor processes and forked workers exit after their
tasks (with puts still held they would leave contexts counted busy for
good), so those send each put at once, as before.
"""
import os
import threading
import time
from typing import Any, Dict, List, Tuple

import mitogen.service

from ansible_mitogen.multiplexer import process
from ansible_mitogen.multiplexer.service_names import CONTEXT_SERVICE

#: Seconds a put is held back before it is sent.
HOLD = 0.5

_Key = Tuple[int, int]  # (id of the multiplexer client's router, context id)


def _send(parent: Any, method: str, context: Any) -> None:
    mitogen.service.call_service_no_reply(parent, CONTEXT_SERVICE, method, context=context)


class HeldPuts:
    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        #: key -> [multiplexer context, task context, count, deadline]
        self._held: Dict[_Key, List[Any]] = {}
        self._thread: Any = None
        #: The flusher thread looks every HOLD seconds while puts come in,
        #: and sleeps until woken once a look found none held nor new.
        self._new = False
        self._sleeping = False

    def reset(self) -> None:
        """Empty, as in a forked child (its parent sends what it held)."""
        self._cond = threading.Condition(threading.Lock())
        self._held = {}
        self._thread = None
        self._new = self._sleeping = False

    def acquire(self, parent: Any, context: Any) -> None:
        """A task starts on `context`: takes over a held put, else tells the multiplexer."""
        with self._cond:
            item = self._held.get(_key(parent, context))
            if item is not None:
                item[2] -= 1
                if not item[2]:
                    del self._held[_key(parent, context)]
                return
        _send(parent, "acquire", context)

    def put(self, parent: Any, context: Any) -> None:
        """A task is done with `context`."""
        if os.getpid() != process.controller_pid():
            _send(parent, "put", context)
            return
        with self._cond:
            item = self._held.setdefault(_key(parent, context), [parent, context, 0, 0.0])
            item[2] += 1
            item[3] = time.monotonic() + HOLD
            self._new = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._flush_loop, name="ansible_mitogen.held-puts",
                                                daemon=True)
                self._thread.start()
            elif self._sleeping:
                self._cond.notify()

    def flush(self) -> None:
        """Send every held put now: before this process asks for a context
        it does not hold, which may make the interpreter cap shut an idle
        one down (the counts must say which are idle, as without holding)."""
        with self._cond:
            items = list(self._held.values())
            self._held.clear()
        _send_puts(items)

    def _flush_loop(self) -> None:
        cond = self._cond
        while True:
            with cond:
                now = time.monotonic()
                due = [key for key, item in self._held.items() if item[3] <= now]
                items = [self._held.pop(key) for key in due]
                if not items:
                    # Never woken by a put while it ticks: a wake-up per task
                    # would cost about what holding the put back saves.
                    if self._held or self._new:
                        self._new = False
                        cond.wait(HOLD)
                    else:
                        self._sleeping = True
                        cond.wait()
                        self._sleeping = False
            _send_puts(items)


def _send_puts(items: List[List[Any]]) -> None:
    for parent, context, count, _ in items:
        try:
            for _ in range(count):
                _send(parent, "put", context)
        except Exception:  # the multiplexer is gone: nothing left to count
            pass


def _key(parent: Any, context: Any) -> _Key:
    return id(parent.router), context.context_id


#: This process's held puts.
USES = HeldPuts()
os.register_at_fork(after_in_child=USES.reset)
