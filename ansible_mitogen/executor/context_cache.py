"""Contexts this controller process already holds, per hop stack.

Runs wherever tasks run on the controller: executor threads of the strategy
process, executor processes, forked task workers.  A task asks its
multiplexer's ContextService for the contexts of its hop stack
(connection.py); a forked worker lives for one task, but an executor
thread lives for the whole run, so the first answer for a stack is kept
here and later tasks skip that round trip to the multiplexer.  They still
tell the multiplexer of each use (`ContextService.acquire`, sent without
waiting, or taking over the previous task's held-back `put`: context_uses),
so its reference counts and idle reaping see what they saw before.

An answer is dropped when one of its contexts disconnects (the router hears
of it from the multiplexer: the target died, the interpreter cap reaped it,
a reset shut it down), when a task resets a stack (`forget()`, the stack
and every stack through it), and in a forked child, whose router is not its
parent's.
"""
import os
import threading
import weakref
from typing import Any, Dict, List, Optional, Tuple

import mitogen.core

from ansible_mitogen.multiplexer.service_names import stack_key

#: (router, one key per hop) -> ContextService.get's answer.
_Key = Tuple[Any, Tuple[str, ...]]


class ContextCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: Dict[_Key, Dict[str, Any]] = {}
        #: Contexts whose 'disconnect' we listen to (once each, however
        #: many answers name them and however often they are put again).
        self._watched: "weakref.WeakSet[Any]" = weakref.WeakSet()

    def reset(self) -> None:
        """Empty, as in a forked child."""
        self._lock = threading.Lock()
        self._answers = {}
        self._watched = weakref.WeakSet()

    def get(self, router: Any, stack: List[Dict[str, Any]],
            hops: Optional[Tuple[str, ...]] = None) -> Optional[Dict[str, Any]]:
        """The kept answer for `stack` (`hops`: its hops_key(), if known)."""
        key = (router, hops if hops is not None else hops_key(stack))
        with self._lock:
            return self._answers.get(key)

    def put(self, router: Any, stack: List[Dict[str, Any]], answer: Dict[str, Any],
            hops: Optional[Tuple[str, ...]] = None) -> Dict[str, Any]:
        """Keep a successful answer until one of its contexts disconnects;
        returns the kept one.  Its `bundles` become a set that the tasks
        reusing it add to (module code sent to the context by this process:
        mixins.py, ContextService.claim_code)."""
        key = (router, hops if hops is not None else hops_key(stack))
        contexts = [router.context_by_id(c.context_id, name=c.name)
                    for c in (answer["context"], answer["login_context"]) if c is not None]
        # Registered with the router, so it fires their 'disconnect'.
        answer = dict(answer, context=contexts[0], login_context=contexts[-1],
                      bundles=set(answer.get("bundles") or ()))
        with self._lock:
            self._answers[key] = answer
            unwatched = [context for context in contexts if context not in self._watched]
            self._watched.update(unwatched)
        for context in unwatched:
            mitogen.core.listen(context, "disconnect", lambda context=context: self._drop_context(context))
        return answer

    def forget(self, router: Any, stack: List[Dict[str, Any]]) -> None:
        """Drop `stack` and every stack that goes through it."""
        hops = hops_key(stack)
        with self._lock:
            for key in [k for k in self._answers if k[0] is router and k[1][:len(hops)] == hops]:
                del self._answers[key]

    def _drop_context(self, context: Any) -> None:
        with self._lock:
            for key, answer in list(self._answers.items()):
                if context in (answer["context"], answer["login_context"]):
                    del self._answers[key]


def hops_key(stack: List[Dict[str, Any]]) -> Tuple[str, ...]:
    """One key per hop of `stack` (secrets in it: never log it)."""
    return tuple(stack_key([hop]) for hop in stack)


#: This process's cache.
CONTEXTS = ContextCache()
os.register_at_fork(after_in_child=CONTEXTS.reset)
