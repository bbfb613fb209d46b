# Playbook-local module_utils, used by library/mt_newstyle.py.
from __future__ import annotations


def shout(text):
    return text.upper() + '!'
