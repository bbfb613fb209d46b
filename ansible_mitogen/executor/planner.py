"""Decide how a module runs on the target and build the call for it.

Runs in the task worker (controller), called by ``ActionModuleMixin``.  The
module is located and prepared by ansible-core's own ``module_common``
(through ``ActionBase._configure_module``), so module type detection,
interpreter discovery, shebang rewriting, argument encoding and module_utils
resolution are exactly vanilla's.  We only choose the runner:

* ``python``: a new-style module run in the target's interpreter, shipped
  as a content-addressed bundle (see ``module_finder``);
* ``program``: everything else (binary, WANT_JSON, JSON-args, old-style,
  any interpreter), written to a temp file and executed like vanilla.
"""
import functools
import json
import os
import shlex
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_mitogen.executor import module_finder
from ansible_mitogen.remote import task_wire
from ansible_mitogen.executor.source_relay_chain import SourceRelayChain
from ansible_mitogen.remote.task_wire import CODE_XZ, HAVE, MANIFEST, NEED, SOURCES


class Plan(object):
    """One module invocation, ready to be sent to ``target.run_module``.

    ``spec()`` is the first, small call; ``answer(reply)`` gives the follow-up
    call when the target asks for the manifest or for missing sources.
    """

    def __init__(self, kind: str, spec: Dict[str, Any], payload: Optional[module_finder.Payload] = None,
                 profile: str = 'legacy', interpreter: Optional[str] = None) -> None:
        self.kind = kind
        self._spec = spec
        self.payload = payload
        # the payload's digest, computed once (a sha1 of the whole zip)
        self.bundle_id: Optional[str] = spec.get('bundle')
        self._bundle: Optional[module_finder.ModuleBundle] = None
        self.profile = profile
        self.interpreter = interpreter

    @property
    def bundle(self) -> module_finder.ModuleBundle:
        """The unpacked module set (built on first use only)."""
        if self._bundle is None:
            self._bundle = self.payload.bundle()
        return self._bundle

    def spec(self) -> Dict[str, Any]:
        # defaults stay off the wire: this call is sent for every task
        return {k: v for k, v in self._spec.items() if v not in (None, False, {}, '')}

    def code(self, claim: Callable[[List[str]], List[str]], chain: Any) -> Dict[str, Any]:
        """The code for a first call that needs no follow-up: the manifest
        and the sources `claim` (given every digest) says the target lacks,
        as one xz stream (CODE_XZ, ``module_finder.packed_code``), or plain
        for a `chain` that relays SOURCES per digest (SourceRelayChain) or
        without lzma."""
        sources = self.bundle.sources
        code = {MANIFEST: self.bundle.manifest,
                SOURCES: {digest: sources[digest] for digest in claim(sorted(sources))}}
        if isinstance(chain, SourceRelayChain):
            return code
        packed = module_finder.packed_code(code[MANIFEST], code[SOURCES])
        return code if packed is None else {CODE_XZ: packed}

    def answer(self, reply: Dict[str, Any]) -> Dict[str, Any]:
        """Follow-up call for a NEED reply (without the first call's
        task_wire.FOLLOW_UP_KEYS: the caller adds them)."""
        need = reply[NEED]
        spec = self.spec()
        spec[MANIFEST] = self.bundle.manifest
        if need == MANIFEST:
            have = set(reply.get(HAVE) or ())
            need = [d for d in self.bundle.sources if d[:task_wire.HAVE_PREFIX] not in have]
        if need:
            spec[SOURCES] = {digest: self.bundle.sources[digest] for digest in need}
        return spec


def old_style_args(module_args: Dict[str, Any]) -> str:
    """k=v line that vanilla writes to the args file of old-style modules."""
    return ''.join('%s=%s ' % (key, shlex.quote(str(value))) for key, value in module_args.items())


def json_args(module_args: Dict[str, Any], profile: str) -> str:
    """JSON args file content for WANT_JSON and binary modules."""
    try:
        from ansible.module_utils.common.json import Direction, get_module_encoder
    except ImportError:  # ansible-core < 2.19
        from ansible.module_utils.common.json import AnsibleJSONEncoder
        return json.dumps(module_args, cls=AnsibleJSONEncoder)
    return json.dumps(module_args, cls=get_module_encoder(profile, Direction.CONTROLLER_TO_MODULE))


def interpreter_argv(shebang: Optional[str]) -> List[str]:
    """argv prefix vanilla's ``build_module_command`` derives from the shebang."""
    return list(_shebang_words(shebang)) if shebang else []


@functools.lru_cache(maxsize=256)
def _shebang_words(shebang: str) -> Tuple[str, ...]:
    return tuple(shlex.split(shebang.replace('#!', '', 1).strip()))


def pipelined_argv(shell: Any, shebang: Optional[str]) -> List[str]:
    """The interpreter command vanilla pipes a Python module into: its shell
    plugin's ``build_module_command`` (since ansible-core 2.19 it quotes the
    interpreter with its arguments as one word, which no shell finds)."""
    key = (type(shell), shebang)  # its build_module_command reads no option
    argv = _PIPELINED.get(key)
    if argv is None:
        if len(_PIPELINED) >= 256:
            _PIPELINED.clear()
        argv = _PIPELINED[key] = tuple(shlex.split(shell.build_module_command('', shebang, '')))
    return list(argv)


_PIPELINED: Dict[Tuple[type, Optional[str]], Tuple[str, ...]] = {}


def interpreter_name(module_path: str) -> str:
    """Base name of the interpreter the module's own first line names
    (ansible-core puts the configured Python only in place of `python`)."""
    try:
        st = os.stat(module_path)
    except OSError:
        return ''
    return _interpreter_name(module_path, st.st_ino, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _interpreter_name(module_path: str, *file_key: int) -> str:
    try:
        with open(module_path, 'rb') as fp:
            line = fp.readline(4096)
    except OSError:
        return ''
    words = line[2:].split() if line.startswith(b'#!') else [b'/usr/bin/python']
    return os.path.basename(words[0].decode('utf-8', 'replace')) if words else ''


def runs_in_process(argv: List[str], shebang: Optional[str], name: str,
                    own_python: Callable[[], Optional[str]]) -> bool:
    """Whether vanilla would run a Python module (`name`: its interpreter
    line's interpreter, `argv`: pipelined_argv) with the connection's own
    interpreter, whose command `own_python()` gives (None while discovery
    is to come): then it runs in ours, else as a program under `argv`, as
    vanilla's."""
    if argv != interpreter_argv(shebang):
        return False
    if name == 'python':  # replaced by ansible_python_interpreter / discovery: ours
        return True
    own = own_python()
    return own is not None and argv == shlex.split(own)


def plan_module(module_name: str, module_args: Dict[str, Any], module_path: str, style: str,
                shebang: Optional[str], module_data: bytes, profile: str, env: Dict[str, str],
                cwd: Optional[str], fork: bool, temp_dir: Optional[str], emulate_tty: bool,
                payload: Optional[module_finder.Payload] = None,
                program_argv: Optional[List[str]] = None) -> Plan:
    """Build the Plan for a module prepared by ``_configure_module``;
    `payload` is what ``build_cache`` took from (or kept of) the AnsiballZ
    wrapper, else the wrapper in `module_data` is parsed here.  With
    `program_argv` a new-style module's wrapper runs as a program under that
    interpreter command, its streams apart as when vanilla pipelines it."""
    common = {'module_name': module_name, 'env': env, 'cwd': cwd, 'fork': fork}
    if task_wire.always_forks(module_name):
        common['fork'] = True
    if program_argv is not None:
        spec = dict(common, kind='program', filename=_remote_filename(module_path, style), data=module_data,
                    interpreter=program_argv, args_data=None, temp_dir=temp_dir, emulate_tty=False)
        return Plan('program', spec, None, profile, shebang)
    if style == 'new':
        if payload is None:
            payload = module_finder.parse_ansiballz(module_data)
        if payload is not None:
            spec = dict(common, kind='python', fqn=payload.fqn, bundle=payload.bundle_id,
                        profile=payload.profile or profile, rlimit_nofile=payload.rlimit_nofile)
            spec[task_wire.JSON_PARAMS] = payload.json_params
            spec = task_wire.packed(spec, task_wire.JSON_PARAMS)
            return Plan('python', spec, payload, profile, shebang)
    spec = dict(common, kind='program', filename=_remote_filename(module_path, style),
                data=module_data, interpreter=interpreter_argv(shebang) if style != 'binary' else [],
                args_data=None, temp_dir=temp_dir, emulate_tty=emulate_tty)
    if style == 'binary':
        with open(module_path, 'rb') as fp:
            spec['data'] = fp.read()
    if style == 'old':
        spec['args_data'] = old_style_args(module_args).encode('utf-8', 'surrogateescape')
    elif style in ('non_native_want_json', 'binary'):
        spec['args_data'] = json_args(module_args, profile).encode('utf-8', 'surrogateescape')
    return Plan('program', spec, None, profile, shebang)


def _remote_filename(module_path: str, style: str) -> str:
    # vanilla names every uploaded module AnsiballZ_<basename>
    return 'AnsiballZ_' + os.path.basename(module_path.strip())
