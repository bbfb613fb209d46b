"""Find the Python sources a new-style module needs, as vanilla Ansible does.

Runs in the task worker (controller).  ``build_cache`` (or the planner)
hands it the AnsiballZ wrapper that ansible-core's own ``module_common``
built; its payload zip (``PayloadCode``, shared through ``build_cache`` by
every task of the module) already holds the module and exactly the
module_utils that ``recursive_finder`` resolved (``ansible.module_utils.*``, collection
``plugins/module_utils``, the playbook's ``module_utils/`` dirs, redirects).
We unpack it into a content-addressed ``ModuleBundle`` that the target-side
runner caches, so each source crosses the wire once per interpreter.
module_utils are sent with docstrings and comments blanked, line numbers
kept (``mitogen.minify.blanked``, cached on disk across runs), and a
target's first copy of a bundle travels as one xz stream (``packed_code``).
"""
import ast
import base64
import hashlib
import io
import json
import re
import threading
import zipfile
from typing import Dict, List, NamedTuple, Optional, Tuple

import mitogen.minify

try:
    import lzma
except ImportError:  # a Python built without liblzma: sources go uncompressed
    lzma = None

# ansible-core >= 2.19 ends the wrapper with one keyword argument per line
# of the _ansiballz_main() call; these are the ones we need.
_CALL_FIELDS = ('module_fqn', 'profile', 'params', 'extensions', 'zip_data')
# the wrapper's setrlimit(RLIMIT_NOFILE) (PYTHON_MODULE_RLIMIT_NOFILE), which
# the runner applies around the module; 0: leave the limit alone
_RLIMIT_FIELD = 'rlimit_nofile'
_LEGACY_RLIMIT_RE = re.compile(r'requested_soft = min\(existing_hard, (\d+)\)')
_LEGACY_RE = {
    # ansible-core 2.17 / 2.18 AnsiballZ template (indented assignments)
    'zip_data': re.compile(r'^\s*ZIPDATA = (?:"""|\'\'\'|"|\')([A-Za-z0-9+/=\s]*)["\']', re.M),
    'module_fqn': re.compile(r"_module_fqn='([^'\n]+)'"),
    'params': re.compile(r"^\s*ANSIBALLZ_PARAMS = (.*)$", re.M),
}


class PayloadCode(object):
    """The payload zip of a module build: the part every task of the module
    shares (``build_cache`` keeps it across tasks).

    The zip stays base64 until a target lacks the bundle: then it is
    unpacked once (``bundle()``) and only the bundle is kept.
    """

    def __init__(self, zip_b64: str) -> None:
        self._zip_b64: Optional[str] = zip_b64
        # the content address: a sha1 of the whole zip, taken once
        self.bundle_id = digest_of(zip_b64.encode('ascii'))
        self._bundle: Optional[ModuleBundle] = None
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """Bytes held: the zip, or once unpacked the bundle's sources."""
        if self._bundle is not None:
            return sum(len(data) for data in self._bundle.sources.values())
        return len(self._zip_b64 or '')

    def after_fork(self) -> None:
        """In a forked child: the parent's lock may have been held."""
        self._lock = threading.Lock()

    def bundle(self, fqn: str) -> 'ModuleBundle':
        with self._lock:
            if self._bundle is None:
                bundle = bundle_from_zip(fqn, base64.b64decode(self._zip_b64))
                self._bundle = bundle._replace(bundle_id=self.bundle_id)
                self._zip_b64 = None
            return self._bundle


class Payload(NamedTuple):
    """What the AnsiballZ wrapper would have handed to the module: this
    task's parameters and the (shared) code."""
    fqn: str
    profile: Optional[str]
    json_params: bytes
    code: PayloadCode
    rlimit_nofile: int = 0

    @property
    def bundle_id(self) -> str:
        return self.code.bundle_id

    def bundle(self) -> 'ModuleBundle':
        return self.code.bundle(self.fqn)


class ModuleBundle(NamedTuple):
    """A module plus its module_utils, content-addressed.

    manifest: (fullname, digest, is_pkg) for every module in the payload.
    sources: digest -> source bytes.  bundle_id: digest of the manifest.
    """
    fqn: str
    bundle_id: str
    manifest: List[Tuple[str, str, bool]]
    sources: Dict[str, bytes]

    @property
    def module_utils(self) -> List[str]:
        """Names of the module_utils (not the module itself) in the bundle."""
        return [name for name, _, _ in self.manifest if name != self.fqn]


def digest_of(data: bytes) -> str:
    """Same content address as ``ansible_mitogen.remote.runner.digest_of``."""
    return hashlib.sha1(data).hexdigest()[:20]


def parse_ansiballz(wrapper: bytes) -> Optional[Payload]:
    """Extract module name, params and zip from an AnsiballZ wrapper.

    Returns None when the wrapper uses features we do not emulate in-process
    (debugger/coverage extensions) or has a layout we do not know; the
    caller then runs the wrapper as a program, exactly like vanilla.
    """
    text = wrapper.decode('utf-8', 'surrogateescape')
    fields = _call_fields(text)
    if fields is not None:
        if ast.literal_eval(fields['extensions']):
            return None
        zip_literal = fields['zip_data']
        return Payload(
            fqn=ast.literal_eval(fields['module_fqn']),
            profile=ast.literal_eval(fields['profile']),
            json_params=ast.literal_eval(fields['params']).encode('utf-8', 'surrogateescape'),
            # base64 in plain quotes: slicing beats parsing half a megabyte
            code=PayloadCode(zip_literal[1:-1]),
            rlimit_nofile=int(ast.literal_eval(fields.get(_RLIMIT_FIELD, '0'))),
        )
    legacy = {name: regex.search(text) for name, regex in _LEGACY_RE.items()}
    if all(legacy.values()):
        params = ast.literal_eval(legacy['params'].group(1).strip())
        if isinstance(params, str):
            params = params.encode('utf-8', 'surrogateescape')
        rlimit = _LEGACY_RLIMIT_RE.search(text)  # its block is there only when set
        return Payload(
            fqn=legacy['module_fqn'].group(1),
            profile=None,
            json_params=params,
            code=PayloadCode(''.join(legacy['zip_data'].group(1).split())),
            rlimit_nofile=int(rlimit.group(1)) if rlimit else 0,
        )
    return None


def _call_fields(text: str) -> Optional[Dict[str, str]]:
    """Literal source of each _CALL_FIELDS argument, or None if missing."""
    start = text.rfind('\n    _ansiballz_main(\n')
    if start < 0:
        return None
    fields = {}
    for line in text[start:].split('\n'):
        name, sep, value = line.partition('=')
        if sep and name in _CALL_FIELDS + (_RLIMIT_FIELD,) and value.endswith(','):
            fields[name] = value[:-1]
    if set(fields) - {_RLIMIT_FIELD} != set(_CALL_FIELDS) or not fields['zip_data'].startswith("'"):
        return None
    return fields


def bundle_from_zip(fqn: str, zip_bytes: bytes) -> ModuleBundle:
    """Content-address every ``.py`` member of an AnsiballZ payload zip."""
    files = []
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        for info in zf.infolist():
            if info.filename.endswith('.py') and info.filename != 'sitecustomize.py':
                files.append(_module_name(info.filename) + (zf.read(info),))
    manifest = []
    sources = {}
    for name, is_pkg, data in files:
        # module_utils travel blanked, the module itself only without
        # comments (it may read its own docstring) and without the doc
        # strings nothing reads; the digest is of what is sent
        if name == fqn:
            data = mitogen.minify.blanked(data, docstrings=False, doc_vars=_unread_doc_vars(data, files))
        else:
            data = mitogen.minify.blanked(data)
        digest = digest_of(data)
        sources[digest] = data
        manifest.append((name, digest, is_pkg))
    manifest.sort()
    bundle_id = digest_of(repr(manifest).encode())
    return ModuleBundle(fqn, bundle_id, manifest, sources)


#: The module's documentation, which ansible-doc reads from the file on
#: the controller: vanilla sends it, but no code runs it on the target.
DOC_VARS = (b'DOCUMENTATION', b'EXAMPLES', b'RETURN')


def _unread_doc_vars(module: bytes, files: List[Tuple[str, bool, bytes]]) -> Tuple[str, ...]:
    """The DOC_VARS that no code of the bundle can read: named once in the
    module (its assignment) and nowhere in its module_utils."""
    return tuple(var.decode() for var in DOC_VARS
                 if module.count(var) == 1 and not any(var in data for _, _, data in files if data is not module))


def _module_name(filename: str) -> Tuple[str, bool]:
    parts = filename[:-3].split('/')
    if parts[-1] == '__init__':
        return '.'.join(parts[:-1]), True
    return '.'.join(parts), False


def packed_code(manifest: List[Tuple[str, str, bool]], sources: Dict[str, bytes]) -> Optional[bytes]:
    """The manifest and `sources` (those of its sources the target lacks)
    as one xz stream, read by ``runner.unpack_code``: a JSON line of
    [name, is_pkg, digest] entries, then the sources.  An entry whose
    source travels has its length instead of its digest: the target
    computes it.  One stream over all finds the text the module_utils
    share, which per-source compression cannot.  Cached by content: a
    fleet's first tasks compress it once.  None without the lzma module."""
    if lzma is None:
        return None
    entries, pieces, seen = [], [], set()
    for name, digest, is_pkg in manifest:
        data = sources.get(digest)
        if data is not None and digest not in seen:
            seen.add(digest)
            pieces.append(digest)
            entries.append([name, is_pkg, len(data)])
        else:
            entries.append([name, is_pkg, digest])
    plain = json.dumps(entries, separators=(',', ':')).encode() + b'\n' + b''.join(sources[d] for d in pieces)
    return mitogen.minify.cached(b'code-xz1', plain, lzma.compress)
