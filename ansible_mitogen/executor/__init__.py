"""One task on the controller: the connection plugin and the action path.

Runs where ansible-core's TaskExecutor runs a task: an executor thread or
process of the engine, or a forked task worker.  connection.py reaches the
host's multiplexer for the task's contexts (hops from transport_config.py,
reused by stack_memo.py, kept in context_cache.py, their uses reported by
context_uses.py); mixins.py runs the action's modules and file
transfers through them, planned by planner.py from the sources
module_finder.py finds (builds kept across tasks by build_cache.py).  Calls go to ansible_mitogen.remote on targets.
"""
