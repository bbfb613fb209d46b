"""One thread at a time in ``ast.parse`` (and so ``ast.literal_eval``), on
the interpreters whose tree building is not thread-safe.

Runs in the strategy process and its executor processes, installed by
``strategy_hooks.install()``.  CPython 3.11 keeps the depth counter that
checks the syntax tree it builds in state shared by every thread; when a
garbage collection inside that build runs a finalizer and the interpreter
switches threads, a second ``ast.parse`` moves the same counter and the
first one fails with "AST constructor recursion depth mismatch"
(CPython gh-106905; seen in CI, loops.yml under mitogen_free).  Vanilla
never parses in two threads of one process; our executor threads do (the
AnsiballZ fields in module_finder, ansible-core's templating), so on 3.11
parsing is serialised here.  The lock is re-entrant: a finalizer of the
same thread may parse again.

Checked with tests/ansible/ast_stress.py (threads parsing deep expressions
while cyclic garbage with finalizers is collected): 3.11.7 fails within a
second; 3.10.13 has no such check; 3.12.1 and 3.13.0 stayed clean for 30 s.
3.12 collects garbage only between bytecodes, never inside the tree build,
and 3.13 keeps the counter per call (the fix of gh-106905).
"""
import ast
import builtins
import sys
import threading
from typing import Any

# The interpreters with the shared counter and a collector that can run
# inside the tree build.
DEFECTIVE = sys.version_info[:2] == (3, 11)

_LOCK = threading.RLock()
_MARK = '_mitogen_serialised'


def _compile_serialised(*args: Any, **kwargs: Any) -> Any:
    with _LOCK:
        return builtins.compile(*args, **kwargs)


def install() -> None:
    """Serialise every ``ast.parse`` (once per process), where needed.

    ``ast.parse`` looks ``compile`` up in the ast module's globals first:
    a serialised one there covers every caller, also those that bound the
    function early (``from ast import parse`` in jinja2.nativetypes)."""
    if DEFECTIVE and not getattr(ast, _MARK, False):
        ast.compile = _compile_serialised
        setattr(ast, _MARK, True)
