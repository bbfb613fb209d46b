# Playbook-local module_utils that fails on a known line, used by
# library/mt_util_crash.py: test_exec_round_trips.py compares the traceback
# (file, line, function, quoted line) with vanilla's.
"""Docstring over
three lines."""
from __future__ import annotations


def explode(value):
    """Raise from line 12 (the docstring and comments above are blanked)."""
    # a comment that does not travel
    return {'value': value}['missing']
