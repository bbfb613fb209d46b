"""What callers of the multiplexer's services need, without loading them.

Imported by multiplexer/services.py (which registers the services under
these names) and by the task executors that call them (executor/connection,
context_uses, context_cache), which run in the strategy process, executor
processes and forked task workers: those should not load the services'
code, so the names and the identity of a hop stack live here.
"""
from typing import Any, Dict, List

import mitogen.core

CONTEXT_SERVICE = "ansible_mitogen.multiplexer.services.ContextService"
MODULE_CACHE_SERVICE = "ansible_mitogen.multiplexer.services.ModuleCacheService"


def stack_key(stack: List[Dict[str, Any]]) -> str:
    """Stable identity of a hop stack (secrets included: a different
    password is a different login)."""
    return repr([(hop["method"], sorted((k, _reveal(v)) for k, v in hop["kwargs"].items())) for hop in stack])


def _reveal(value: Any) -> Any:
    """Secrets by value (their repr() is '[secret]'), for keys never logged."""
    if isinstance(value, mitogen.core.Secret):
        return ("secret", str.__str__(value))
    if isinstance(value, (list, tuple)):
        return [_reveal(v) for v in value]
    return value
