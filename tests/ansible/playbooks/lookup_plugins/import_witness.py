"""Test lookup: returns its arguments; records each import of this file.

Used by templating_lookups.yml and tests/ansible/test_plugin_warmup.py.
Runs on the controller (in whichever process templates the task).  When
$IMPORT_WITNESS_LOG is set, every import appends the importing pid, so a
test can count how many processes had to load the file.
"""
import os

from ansible.plugins.lookup import LookupBase

_log = os.environ.get("IMPORT_WITNESS_LOG")
if _log:
    with open(_log, "a") as fp:
        fp.write("%d\n" % os.getpid())


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return [str(term).upper() for term in terms]
