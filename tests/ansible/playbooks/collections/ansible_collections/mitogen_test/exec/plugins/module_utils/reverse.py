# Collection module_utils used by the collection's echo module.
from __future__ import annotations


def reverse(text):
    return text[::-1]
