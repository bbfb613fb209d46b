"""What ansible-core's module_utils scan finds in a file, kept for the run.

Runs in the controller's strategy process, installed by `activation`;
executor processes and forked task workers inherit what it found so far.
Nothing here travels to targets.

The first build of each module in a run (`module_common.recursive_finder`)
compiles the module and every module_utils file it imports, transitively,
to an AST and walks each tree for imports (`ModuleDepFinder`): ~0.25 s of
CPU for `command`, most of it `basic.py` and its imports, which every other
module of the run parses and walks again.  What the walk finds (its
`submodules` and `optional_imports`) depends only on the file's source, its
dotted name and whether it is a package `__init__`; so it is kept under
those (the source by SHA-256), and a later build skips the compile and the
walk of every file already seen.  `recursive_finder` sorts what it is given
before each step, so the order of a kept set does not change the build.

`_compile_module_ast` returns a `LazyTree`: the tree is compiled only when
something other than the finder looks at it (ansible-core's module metadata
reads `body` when it is enabled), or when the finder has not seen the
source; a file that does not compile raises ansible-core's own error there,
before anything else of the build happens, and is never kept.
"""
import hashlib
import threading
from typing import Any, Dict, FrozenSet, Optional, Tuple

#: Files kept at most (a module and its module_utils are tens of files).
MAX_FILES = 4096

_Found = Tuple[FrozenSet[tuple], FrozenSet[tuple]]
_found: Dict[tuple, _Found] = {}
_lock = threading.Lock()
_original_compile: Any = None


class LazyTree:
    """`_compile_module_ast(name, source)`, compiled when first looked at."""

    def __init__(self, name: str, source: Any) -> None:
        self._name = name
        self.source = source
        self._tree: Optional[Any] = None

    def tree(self) -> Any:
        if self._tree is None:
            self._tree = _original_compile(self._name, self.source)
        return self._tree

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_name", "_tree", "source"):
            raise AttributeError(name)
        return getattr(self.tree(), name)


def _digest(source: Any) -> tuple:
    if isinstance(source, str):
        return "str", hashlib.sha256(source.encode("utf-8", "surrogatepass")).digest()
    return "bytes", hashlib.sha256(bytes(source)).digest()


def _compile(module_name: str, source_code: Any) -> LazyTree:
    return LazyTree(module_name, source_code)


def _keeping(original_init: Any) -> Any:
    """ModuleDepFinder.__init__, answered from what was kept when it can be."""

    def __init__(self: Any, module_fqn: Any, tree: Any, is_pkg_init: bool = False, *args: Any, **kwargs: Any) -> None:
        if not isinstance(tree, LazyTree):
            original_init(self, module_fqn, tree, is_pkg_init, *args, **kwargs)
            return
        key = (module_fqn, bool(is_pkg_init)) + _digest(tree.source)
        found = _found.get(key)
        if found is None or args or kwargs:
            original_init(self, module_fqn, tree.tree(), is_pkg_init, *args, **kwargs)
            if not (args or kwargs):
                with _lock:
                    if len(_found) >= MAX_FILES:
                        _found.clear()
                    _found[key] = (frozenset(self.submodules), frozenset(self.optional_imports))
            return
        # What the walk would have left on the finder.
        self._tree = tree
        self.submodules = set(found[0])
        self.optional_imports = set(found[1])
        self.module_fqn = module_fqn
        self.is_pkg_init = is_pkg_init
        self._visit_map = {module_common.Import: self.visit_Import, module_common.ImportFrom: self.visit_ImportFrom}

    from ansible.executor import module_common

    return __init__


def install() -> None:
    """Keep scan results from now on (idempotent; a no-op on an ansible-core
    whose recursive_finder is not built from these two pieces)."""
    global _original_compile
    from ansible.executor import module_common

    if _original_compile is not None or not hasattr(module_common, "_compile_module_ast"):
        return
    _original_compile = module_common._compile_module_ast
    module_common.ModuleDepFinder.__init__ = _keeping(module_common.ModuleDepFinder.__init__)
    module_common._compile_module_ast = _compile
