"""Module sources cached on an intermediary and handed on to the targets behind it.

Runs on intermediaries (the mitogen_via host's interpreter, e.g. the ssh
context in front of N containers), called by task workers through
`ansible_mitogen.connection.SourceRelayChain`.  Without it, every target
behind the intermediary asks the controller for the same module and
module_utils sources, and each copy crosses the (slow) link to the
intermediary.  With it, a source crosses that link once: the worker sends
only what this intermediary does not hold yet, and the intermediary adds
the rest from its store before calling the target, its own child.

Python 3.8 compatible: it travels to intermediaries.
"""
#: digest -> source bytes, for every source this intermediary was sent.
_store = {}
#: Counters for tests and benchmarks: sources and bytes received from the
#: controller, and module calls relayed to targets.
_stats = {"received": 0, "received_bytes": 0, "relayed": 0}


def run_module(target, spec, new_sources, digests):
    """Store `new_sources`, then call the target's run_module with `spec`
    plus every source in `digests` (from the store).

    Returns the target's reply, or {'need': [...], 'relay_lost': True} when
    the store misses a digest (the worker then sends it again).
    """
    import ansible_mitogen.runner
    import ansible_mitogen.target

    for digest, data in new_sources.items():
        if ansible_mitogen.runner.digest_of(data) != digest:
            raise ValueError("source digest mismatch for %s" % digest)
        _store[digest] = data
        _stats["received"] += 1
        _stats["received_bytes"] += len(data)
    lost = [d for d in digests if d not in _store]
    if lost:
        return {"need": lost, "relay_lost": True}
    spec = dict(spec, sources=dict((d, _store[d]) for d in digests))
    _stats["relayed"] += 1
    return target.call(ansible_mitogen.target.run_module, spec)


def held():
    """Digests stored here (a worker with no record of this relay asks)."""
    return sorted(_store)


def stats():
    return dict(_stats, held=len(_store))
