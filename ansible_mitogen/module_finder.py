"""Find the Python sources a new-style module needs, as vanilla Ansible does.

Runs in the task worker (controller).  The planner hands it the AnsiballZ
wrapper that ansible-core's own ``module_common`` built for the task; that
payload already holds the module and exactly the module_utils that
``recursive_finder`` resolved (``ansible.module_utils.*``, collection
``plugins/module_utils``, the playbook's ``module_utils/`` dirs, redirects).
We unpack it into a content-addressed ``ModuleBundle`` that the target-side
runner caches, so each source crosses the wire once per interpreter.
"""
import ast
import base64
import hashlib
import io
import re
import zipfile
from typing import Dict, List, NamedTuple, Optional, Tuple

_FIELD_RE = {
    # ansible-core >= 2.19: keyword arguments of the _ansiballz_main() call
    'zip_data': re.compile(r"^zip_data=('[A-Za-z0-9+/=]*'),$", re.M),
    'module_fqn': re.compile(r"^module_fqn=('[^'\n]*'),$", re.M),
    'profile': re.compile(r"^profile=('[^'\n]*'),$", re.M),
    'params': re.compile(r"^params=('.*'),$", re.M),
    'extensions': re.compile(r"^extensions=(.*),$", re.M),
}
_LEGACY_RE = {
    # ansible-core 2.17 / 2.18 AnsiballZ template
    'zip_data': re.compile(r'ZIPDATA = """([A-Za-z0-9+/=\s]*)"""'),
    'module_fqn': re.compile(r"_module_fqn='([^'\n]+)'"),
    'params': re.compile(r"^ANSIBALLZ_PARAMS = (.*)$", re.M),
}


class Payload(NamedTuple):
    """What the AnsiballZ wrapper would have handed to the module."""
    fqn: str
    profile: Optional[str]
    json_params: bytes
    zip_bytes: bytes


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
    """Same content address as ``ansible_mitogen.runner.digest_of``."""
    return hashlib.sha1(data).hexdigest()[:20]


def parse_ansiballz(wrapper: bytes) -> Optional[Payload]:
    """Extract module name, params and zip from an AnsiballZ wrapper.

    Returns None when the wrapper uses features we do not emulate in-process
    (debugger/coverage extensions) or has a layout we do not know; the
    caller then runs the wrapper as a program, exactly like vanilla.
    """
    text = wrapper.decode('utf-8', 'surrogateescape')
    found = {name: regex.search(text) for name, regex in _FIELD_RE.items()}
    if all(found.values()):
        if ast.literal_eval(found['extensions'].group(1)):
            return None
        return Payload(
            fqn=ast.literal_eval(found['module_fqn'].group(1)),
            profile=ast.literal_eval(found['profile'].group(1)),
            json_params=ast.literal_eval(found['params'].group(1)).encode('utf-8', 'surrogateescape'),
            zip_bytes=base64.b64decode(ast.literal_eval(found['zip_data'].group(1))),
        )
    legacy = {name: regex.search(text) for name, regex in _LEGACY_RE.items()}
    if all(legacy.values()):
        params = ast.literal_eval(legacy['params'].group(1).strip())
        if isinstance(params, str):
            params = params.encode('utf-8', 'surrogateescape')
        return Payload(
            fqn=legacy['module_fqn'].group(1),
            profile=None,
            json_params=params,
            zip_bytes=base64.b64decode(''.join(legacy['zip_data'].group(1).split())),
        )
    return None


def bundle_from_zip(fqn: str, zip_bytes: bytes) -> ModuleBundle:
    """Content-address every ``.py`` member of an AnsiballZ payload zip."""
    manifest = []
    sources = {}
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        for info in zf.infolist():
            if not info.filename.endswith('.py') or info.filename == 'sitecustomize.py':
                continue
            data = zf.read(info)
            name, is_pkg = _module_name(info.filename)
            digest = digest_of(data)
            sources[digest] = data
            manifest.append((name, digest, is_pkg))
    manifest.sort()
    bundle_id = digest_of(repr(manifest).encode())
    return ModuleBundle(fqn, bundle_id, manifest, sources)


def _module_name(filename: str) -> Tuple[str, bool]:
    parts = filename[:-3].split('/')
    if parts[-1] == '__init__':
        return '.'.join(parts[:-1]), True
    return '.'.join(parts), False
