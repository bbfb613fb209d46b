"""One thread at a time in ``ast.parse`` (and so ``ast.literal_eval``).

Runs in the strategy process and its executor processes, installed by
``strategy_hooks.install()``.  CPython keeps the depth counter that checks
the syntax tree it builds in state shared by every thread; when a garbage
collection inside that build runs a finalizer and the interpreter switches
threads, a second ``ast.parse`` moves the same counter and the first one
fails with "AST constructor recursion depth mismatch" (seen on 3.11 in CI,
loops.yml under mitogen_free).  Vanilla never parses in two threads of one
process; our executor threads do (the AnsiballZ fields in module_finder,
ansible-core's templating), so parsing is serialised here.  The lock is
re-entrant: a finalizer of the same thread may parse again.
"""
import ast
import builtins
import threading
from typing import Any

_LOCK = threading.RLock()
_MARK = '_mitogen_serialised'


def _compile_serialised(*args: Any, **kwargs: Any) -> Any:
    with _LOCK:
        return builtins.compile(*args, **kwargs)


def install() -> None:
    """Serialise every ``ast.parse`` (once per process).

    ``ast.parse`` looks ``compile`` up in the ast module's globals first:
    a serialised one there covers every caller, also those that bound the
    function early (``from ast import parse`` in jinja2.nativetypes)."""
    if getattr(ast, _MARK, False):
        return
    ast.compile = _compile_serialised
    setattr(ast, _MARK, True)
