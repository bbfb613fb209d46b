"""The task worker's side of the source relay: a CallChain that sends module
sources through a mitogen_via intermediary.

Runs wherever a task runs on the controller (executor thread or process,
forked task worker).  connection.py wraps the chain of a target behind an
intermediary in a SourceRelayChain (get_chain), and the planner sends such
a chain manifest and sources plain, not packed into one xz stream, so they
can be relayed per digest.  The other side is
ansible_mitogen.remote.source_relay, on the intermediary.  Of the
connection it needs `relay_context()` (the intermediary's context) and
`get_binding().claim()` (the multiplexer's record of the sources each
intermediary was sent).
"""
import time
from typing import Any, Dict

#: Waits (s) for a module source another worker is sending to a mitogen_via
#: intermediary; None ends the waiting.
RELAY_RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0, None)


class SourceRelayChain:
    """CallChain to a target behind a mitogen_via intermediary whose module
    sources go through ansible_mitogen.remote.source_relay on that intermediary.

    Everything but a run_module call carrying sources passes straight
    through.  For such a call the sources are first pushed to the target by
    the intermediary, which is sent only those no worker sent it before
    (claimed in the multiplexer's ModuleCacheService), so N targets behind
    one slow link cost one copy; then run_module goes out without them.
    """

    def __init__(self, chain: Any, target: Any, connection: Any) -> None:
        self.chain = chain
        self.target = target
        self.connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self.chain, name)

    def call(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        from ansible_mitogen.remote import target, task_wire

        if func is not target.run_module or kwargs or not args[0].get(task_wire.SOURCES):
            return self.chain.call(func, *args, **kwargs)
        return self._relayed(func, args[0])

    def _relayed(self, func: Any, spec: Dict[str, Any]) -> Any:
        from ansible_mitogen.remote import source_relay, task_wire

        relay = self.connection.relay_context()
        bare_spec = dict(spec)
        wanted = bare_spec.pop(task_wire.SOURCES)
        claimed = self.connection.get_binding().claim("source-relay:%s" % (relay.context_id,), sorted(wanted))
        new = {digest: wanted[digest] for digest in claimed}
        for delay in RELAY_RETRY_DELAYS:
            lost = relay.call(source_relay.push, self.target, new, sorted(wanted))
            if not lost:
                return self.chain.call(func, bare_spec)
            if delay is None:
                break
            # Another worker claimed these sources and its push is still on
            # the way; it normally lands within milliseconds.
            time.sleep(delay)
        # Still missing (that worker failed, or the intermediary restarted):
        # the target gets them directly.
        bare_spec[task_wire.SOURCES] = {digest: wanted[digest] for digest in lost}
        return self.chain.call(func, bare_spec)
