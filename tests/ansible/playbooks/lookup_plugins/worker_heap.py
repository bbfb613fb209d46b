"""Test lookup: how many objects the running process's garbage collector ignores.

Used by tests/ansible/test_controller_speedups.py.  Runs in the task worker
that templates the task: under our strategies the heap inherited from the
strategy process is frozen (gc.freeze) across the fork.
"""
import gc

from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return [gc.get_freeze_count()]
