"""What ansible-core's module_utils scan finds in a file, kept for the run and the next.

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

What runs found is kept across runs too, in
`$XDG_CACHE_HOME/ansible-mitogen/module-utils-scan-<hash>.json` (`~/.cache/...`;
`MITOGEN_SCAN_CACHE` names another file, `off` switches it off): JSON,
written by the strategy process at exit when it learnt something (a whole
new file, renamed into place), read at activation and ignored unless it was
written by the same ansible-core (version and module_common file) under the
same Python version (the default file's name has a hash of those, so each
installation keeps its own).  So even a run's first `command` skips the scan of
files an earlier run saw; an entry only says which imports a given source
has, the files themselves are still found and read by ansible-core.

Two shapes of ansible-core are known; on others `install()` leaves it as
it is.  In 2.19 and 2.20 `recursive_finder` compiles each file and hands
the tree to the finder: `_compile_module_ast` then returns a `LazyTree`,
compiled only when something other than the finder looks at it
(ansible-core's module metadata reads `body` when it is enabled) or when
the finder has not seen the source; a file that does not compile raises
ansible-core's own error there, before anything else of the build happens,
and is never kept.  In 2.21 the finder compiles the source itself and also
collects the resources a file embeds (`EmbedManager.embed`); a finder that
has seen the source gets the same state without compiling (its `tree` a
`LazyTree`), and only files that embed nothing are kept.
"""
import atexit
import hashlib
import json
import logging
import os
import sys
import threading
from typing import Any, Dict, FrozenSet, Optional, Tuple

LOG = logging.getLogger(__name__)

#: Files kept at most (a module and its module_utils are tens of files).
MAX_FILES = 4096

_Found = Tuple[FrozenSet[tuple], FrozenSet[tuple]]
_found: Dict[tuple, _Found] = {}
_lock = threading.Lock()
_original_compile: Any = None
_loaded: Dict[tuple, _Found] = {}
_owner_pid = 0


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
        return "str", hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
    return "bytes", hashlib.sha256(bytes(source)).hexdigest()


def _keep(key: tuple, found: _Found) -> None:
    with _lock:
        if len(_found) >= MAX_FILES:
            _found.clear()
        _found[key] = found


def cache_path(stamp: list) -> str:
    """Where the scans of earlier runs are kept ("" when switched off): a
    file per ansible-core installation and Python, so runs of different
    ones do not take turns replacing each other's."""
    configured = os.environ.get("MITOGEN_SCAN_CACHE")
    if configured is not None:
        return "" if configured in ("", "0", "off") else configured
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    name = "module-utils-scan-%s.json" % hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:16]
    return os.path.join(base, "ansible-mitogen", name)


def _stamp(module_common: Any) -> list:
    """What the scan's answers also depend on: the finder's code (this
    ansible-core's module_common, by version and file) and Python's parser."""
    from ansible import release

    st = os.stat(module_common.__file__)
    return [release.__version__, module_common.__file__, st.st_size, st.st_mtime_ns, list(sys.version_info[:2])]


def _load(path: str, stamp: list) -> None:
    try:
        with open(path) as fp:
            data = json.load(fp)
        if data.get("stamp") != stamp:
            return
        for fqn, is_pkg, kind, digest, submodules, optional in data["files"][:MAX_FILES]:
            key = (fqn, bool(is_pkg), str(kind), str(digest))
            _found[key] = _loaded[key] = (frozenset(tuple(m) for m in submodules), frozenset(tuple(m) for m in optional))
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        LOG.debug("module_utils scan cache %s not read: %s", path, exc)


def _save(path: str, stamp: list) -> None:
    """At exit of the strategy process: write what is known, if it grew."""
    if os.getpid() != _owner_pid:
        return
    with _lock:
        found = dict(_found)
    if not found or found == _loaded:
        return
    files = [[key[0], key[1], key[2], key[3], sorted(list(m) for m in sub), sorted(list(m) for m in opt)]
             for key, (sub, opt) in found.items()]
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with open(tmp, "w") as fp:
            json.dump({"stamp": stamp, "files": files}, fp)
        os.replace(tmp, path)
    except OSError as exc:
        LOG.debug("module_utils scan cache %s not written: %s", path, exc)
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _compile(module_name: str, source_code: Any) -> LazyTree:
    return LazyTree(module_name, source_code)


def _keeping(original_init: Any) -> Any:
    """ModuleDepFinder.__init__ of 2.19/2.20 (given a tree), answered from
    what was kept when it can be."""
    from ansible.executor import module_common

    def __init__(self: Any, module_fqn: Any, tree: Any, is_pkg_init: bool = False, *args: Any, **kwargs: Any) -> None:
        if not isinstance(tree, LazyTree):
            original_init(self, module_fqn, tree, is_pkg_init, *args, **kwargs)
            return
        key = (module_fqn, bool(is_pkg_init)) + _digest(tree.source)
        found = _found.get(key)
        if found is None or args or kwargs:
            original_init(self, module_fqn, tree.tree(), is_pkg_init, *args, **kwargs)
            if not (args or kwargs):
                _keep(key, (frozenset(self.submodules), frozenset(self.optional_imports)))
            return
        # What the walk would have left on the finder.
        self._tree = tree
        self.submodules = set(found[0])
        self.optional_imports = set(found[1])
        self.module_fqn = module_fqn
        self.is_pkg_init = is_pkg_init
        self._visit_map = {module_common.Import: self.visit_Import, module_common.ImportFrom: self.visit_ImportFrom}

    return __init__


#: What 2.21's finder holds after a walk; a finder of another shape (a
#: later release with more state) switches the keeping off.
_FINDER_221_STATE = frozenset((
    "submodules", "optional_imports", "embeds", "module_fqn", "is_pkg_init", "_depth", "_origin", "tree",
    "_embed_sniffing", "_embed_module_name", "_embedmanager_type_name", "_embed_import_origin"))


def _keeping_221(original_init: Any) -> Any:
    """ModuleDepFinder.__init__ of 2.21 (given the source: it compiles and
    walks it, and also collects the resources a file embeds), answered from
    what was kept when it can be.  Only files that embed nothing are kept:
    what an embedding file finds carries its origin (path and line)."""
    from ansible.executor import module_common

    state = {"usable": True}

    def __init__(self: Any, module_fqn: Any, module_data: Any, is_pkg_init: bool = False, *args: Any,
                 **kwargs: Any) -> None:
        key = (module_fqn, bool(is_pkg_init)) + _digest(module_data)
        found = _found.get(key) if state["usable"] else None
        if found is None or args or kwargs:
            original_init(self, module_fqn, module_data, is_pkg_init, *args, **kwargs)
            if set(vars(self)) != _FINDER_221_STATE:
                state["usable"] = False
                LOG.debug("module_utils scans not kept: ModuleDepFinder holds %s", sorted(vars(self)))
            elif not (args or kwargs or self.embeds or self._embed_sniffing):
                _keep(key, (frozenset(self.submodules), frozenset(self.optional_imports)))
            return
        # What the walk leaves on the finder of a file that embeds nothing.
        self.submodules = set(found[0])
        self.optional_imports = set(found[1])
        self.embeds = set()
        self.module_fqn = module_fqn
        self.is_pkg_init = is_pkg_init
        self._depth = -1
        self._origin = module_common.Origin.get_tag(module_data) or module_common.Origin.UNKNOWN
        self.tree = LazyTree(module_fqn, module_data)
        self._embed_sniffing = False
        self._embed_module_name = self._embedmanager_type_name = self._embed_import_origin = None

    return __init__


def _finder_shape(module_common: Any) -> str:
    """'tree' (2.19, 2.20: recursive_finder compiles, the finder walks the
    tree it is given), 'source' (2.21: the finder compiles), else ''."""
    import inspect

    if not hasattr(module_common, "_compile_module_ast"):
        return ""
    parameters = list(inspect.signature(module_common.ModuleDepFinder.__init__).parameters)[:4]
    if parameters == ["self", "module_fqn", "tree", "is_pkg_init"]:
        return "tree"
    if parameters == ["self", "module_fqn", "module_data", "is_pkg_init"] and hasattr(module_common, "Origin"):
        return "source"
    return ""


def _compile_now(module_name: str, source_code: Any) -> Any:
    return _original_compile(module_name, source_code)


def install() -> bool:
    """Keep scan results from now on (idempotent); False, changing nothing,
    where ansible-core's finder has a shape this module does not know."""
    global _original_compile, _owner_pid
    from ansible.executor import module_common

    if _original_compile is not None:
        return True
    shape = _finder_shape(module_common)
    if not shape:
        return False
    _original_compile = module_common._compile_module_ast
    finder = module_common.ModuleDepFinder
    if shape == "tree":
        finder.__init__ = _keeping(finder.__init__)
        module_common._compile_module_ast = _compile
    else:
        finder.__init__ = _keeping_221(finder.__init__)
        module_common._compile_module_ast = _compile_now
    stamp = _stamp(module_common)
    path = cache_path(stamp)
    if path:
        _load(path, stamp)
        _owner_pid = os.getpid()
        atexit.register(_save, path, stamp)
    return True
