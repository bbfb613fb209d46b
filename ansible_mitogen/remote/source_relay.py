"""Module sources cached on an intermediary and handed on to the targets behind it.

Runs on intermediaries (the mitogen_via host's interpreter, e.g. the ssh
context in front of N containers), called by task workers through
`ansible_mitogen.executor.source_relay_chain.SourceRelayChain`.  Without it, every target
behind the intermediary asks the controller for the same module and
module_utils sources, and each copy crosses the (slow) link to the
intermediary.  With it, a source crosses that link once: the worker sends
only what this intermediary does not hold yet, and the intermediary adds
the rest from its store to the target, its own child.

Python 3.8 compatible: it travels to intermediaries.
"""
#: digest -> source bytes, for every source this intermediary was sent.
_store = {}
#: Counters for tests and benchmarks: sources and bytes received from the
#: controller, and pushes of sources to targets.
_stats = {"received": 0, "received_bytes": 0, "relayed": 0}


def push(target, new_sources, digests):
    """Store `new_sources`, then hand the target every source in `digests`
    (from the store) for its runner's cache.

    Only this short call occupies the intermediary; the module itself then
    runs in a direct call from the worker, so targets behind one
    intermediary still run their tasks in parallel.  Returns the digests
    the store misses (the worker sends those itself), else [].
    """
    import ansible_mitogen.remote.runner

    for digest, data in new_sources.items():
        if ansible_mitogen.remote.runner.digest_of(data) != digest:
            raise ValueError("source digest mismatch for %s" % digest)
        _store[digest] = data
        _stats["received"] += 1
        _stats["received_bytes"] += len(data)
    lost = [d for d in digests if d not in _store]
    if lost:
        return lost
    target.call(ansible_mitogen.remote.runner.add_sources, dict((d, _store[d]) for d in digests))
    _stats["relayed"] += 1
    return []


def held():
    """Digests stored here (a worker with no record of this relay asks)."""
    return sorted(_store)


def stats():
    return dict(_stats, held=len(_store))
