"""Module runners: execute one Ansible module invocation and report rc/stdout/stderr.

Runs on TARGETS (Python 3.8+, stdlib only).  ``ansible_mitogen.remote.target``
calls into it for every task; the controller-side planner
(``ansible_mitogen.executor.planner``) builds the ``spec`` dicts it consumes.

Two families of runners exist:

* Python: new-style modules run inside this persistent interpreter from
  cached compiled code, in a clean ``__main__`` namespace, with emulated
  argv/stdin/stdout/stderr and exit code, and the interpreter's global state
  put back afterwards.  Their module_utils are kept in a content-addressed
  store, so each source crosses the wire once per interpreter.
* Program: binary, WANT_JSON, JSON-args and old-style modules and scripts in
  any language are written to a private temporary directory and executed.

Either can be run in a forked child for isolation, or detached as an async
job that writes its result where ``async_status`` expects it.
"""
import atexit
import errno
import functools
import hashlib
import importlib.abc
import importlib.machinery
import io
import json
import linecache
import locale
import os
import pickle
import pwd
import resource
import runpy
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
# signal.getsignal() without its conversion to enums (16 calls per task):
# SIG_DFL and SIG_IGN come back as the ints 0 and 1.  See GlobalState.
# signal.signal() likewise (its conversion of the old handler to an enum
# raises and catches a ValueError for a function: ~10 us); it takes only
# plain ints for SIG_DFL and SIG_IGN, as _getsignal returns them.
from _signal import getsignal as _getsignal, signal as _set_handler

from ansible_mitogen.remote import task_wire

LOADER_NAME = 'ansible.module_utils._internal._ansiballz._loader'
RESPAWN_NAME = 'ansible.module_utils.common.respawn'
BUNDLE_ROOT = '/__mitogen_bundle__'

# digest -> source bytes of every module file the controller sent us.
_sources = {}
# bundle id -> manifest: list of (fullname, digest, is_pkg).
_bundles = {}
# fullname -> digest of the module currently served (or loaded) under it.
_served = {}
# (digest, filename) -> compiled code object.
_code_cache = {}
# bundle id -> directory holding an on-disk copy of that bundle.
_modlib_dirs = {}


def digest_of(data):
    """Content address used by both ends for module sources."""
    return hashlib.sha1(data).hexdigest()[:20]


def filename_for(fullname, is_pkg):
    """Path-like ``__file__`` a bundled module reports (like a payload zip)."""
    rel = fullname.replace('.', '/')
    if is_pkg:
        rel += '/__init__'
    return '%s/%s.py' % (BUNDLE_ROOT, rel)


class BundleImporter(importlib.abc.MetaPathFinder, importlib.abc.InspectLoader):
    """Serves the modules named in the active manifest from ``_sources``.

    Placed first on ``sys.meta_path`` so controller-supplied module_utils win
    over any copy of Ansible installed on the target, as in AnsiballZ.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _served or _served[fullname][0] not in _sources:
            return None
        is_pkg = _served[fullname][1]
        spec = importlib.machinery.ModuleSpec(
            fullname, self, origin=filename_for(fullname, is_pkg),
            is_package=is_pkg)
        spec.has_location = True
        if is_pkg:
            spec.submodule_search_locations = []
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        name = module.__spec__.name
        module.__file__ = module.__spec__.origin
        exec(self.get_code(name), module.__dict__)

    def is_package(self, fullname):
        return fullname in _served and _served[fullname][1]

    def get_source(self, fullname):
        # runpy asks for '__main__'; linecache is primed by get_code instead
        if fullname not in _served:
            return None
        return _sources[_served[fullname][0]].decode('utf-8', 'replace')

    def get_code(self, fullname):
        digest, is_pkg = _served[fullname]
        filename = filename_for(fullname, is_pkg)
        key = (digest, filename)
        code = _code_cache.get(key)
        if code is None:
            source = _sources[digest]
            code = compile(source, filename, 'exec', dont_inherit=True)
            _code_cache[key] = code
            # tracebacks show module lines although no such file exists
            lines = source.decode('utf-8', 'replace').splitlines(True)
            linecache.cache[filename] = (len(source), None, lines, filename)
        return code


_importer = BundleImporter()


def _install_importer():
    if _importer not in sys.meta_path:
        sys.meta_path.insert(0, _importer)


def need_manifest():
    """Reply for an unknown bundle: ask for its manifest, say what we hold.

    Listing (prefixes of) the digests already here lets the controller send
    the manifest together with just the missing sources: a module new to
    this interpreter costs 2 round trips, not 3.  A prefix collision only
    means one more round trip.
    """
    return {task_wire.NEED: task_wire.MANIFEST,
            task_wire.HAVE: sorted(set(d[:task_wire.HAVE_PREFIX] for d in _sources))}


def missing_sources(manifest):
    """Digests in `manifest` this interpreter has never received."""
    return sorted(set(d for _, d, _ in manifest if d not in _sources))


def add_sources(sources):
    """Store controller-sent sources after checking their content address."""
    for digest, data in sources.items():
        if digest_of(data) != digest:
            raise ValueError('source digest mismatch for %s' % digest)
        _sources[digest] = data


def unpack_code(blob):
    """Manifest of a ``module_finder.packed_code`` stream, its sources
    stored; None without the lzma module (the call then asks for them)."""
    try:
        import lzma
    except ImportError:
        return None
    data = lzma.decompress(blob)
    end = data.index(b'\n')
    manifest, offset = [], end + 1
    for name, is_pkg, ref in json.loads(data[:end]):
        if isinstance(ref, int):
            piece = data[offset:offset + ref]
            offset += ref
            ref = digest_of(piece)
            _sources[ref] = piece
        manifest.append((name, ref, is_pkg))
    return manifest


def conflicting_names(manifest):
    """Names already imported here from different code than `manifest` wants.

    Running such a task in-process would either use the stale module or
    replace it under the feet of later tasks, so it must run in a fork.
    """
    conflicts = []
    for name, digest, _ in manifest:
        if name in sys.modules and _served.get(name, (digest,))[0] != digest:
            conflicts.append(name)
        elif name in sys.modules and name not in _served:
            conflicts.append(name)
    return conflicts


def activate_manifest(manifest, purge=()):
    """Make `manifest` the set of modules the importer serves."""
    if purge:
        # Dependents of an overridden module hold references to it, so the
        # whole bundle is imported afresh (we only purge inside a fork).
        for name, _, _ in manifest:
            _forget_module(name)
    for name, digest, is_pkg in manifest:
        _served[name] = (digest, bool(is_pkg))
    _install_importer()


def _forget_module(name):
    module = sys.modules.pop(name, None)
    parent_name, _, child = name.rpartition('.')
    parent = sys.modules.get(parent_name)
    if module is not None and parent is not None and getattr(parent, child, None) is module:
        delattr(parent, child)


def modlib_path(bundle_id, manifest):
    """Directory with `manifest` written out, or '' if the bundle has no respawn helper.

    apt, apt_repository, dnf and friends probe other interpreters with
    PYTHONPATH set to where their module_utils came from, then respawn under
    one of them with the payload's ``_modlib_path`` on sys.path.  Sources
    held in memory are invisible to those child interpreters (the probe
    fails with "No module named 'ansible'"), so such a bundle is written
    out, once per interpreter.  Call it before forking: the directory is
    removed at exit of the process that created it.
    """
    if not any(name == RESPAWN_NAME for name, _, _ in manifest):
        return ''
    path = _modlib_dirs.get(bundle_id)
    if path is None or not os.path.isdir(path):
        path = _write_bundle(manifest)
        _modlib_dirs[bundle_id] = path
    return path


def _private_dir(prefix):
    """A new directory removed when this process ends (whichever way)."""
    root = tempfile.mkdtemp(prefix=prefix)
    atexit.register(_remove_if_owner, root, os.getpid())
    core = sys.modules.get('mitogen.core')
    if core is not None:
        # Our interpreter ends with os._exit(): atexit alone never runs.
        core.register_exit_hook(functools.partial(_remove_if_owner, root, os.getpid()))
    return root


def _write_bundle(manifest):
    root = _private_dir('ansible_mitogen_modlib_')
    for name, digest, is_pkg in manifest:
        path = os.path.join(root, *name.split('.'))
        path = os.path.join(path, '__init__.py') if is_pkg else path + '.py'
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory)
        with open(path, 'wb') as fp:
            fp.write(_sources[digest])
    return root


def _remove_if_owner(path, pid):
    if os.getpid() == pid:
        try:
            os.chmod(path, 0o700)  # the unreadable cwd below cannot be listed
        except OSError:
            pass
        shutil.rmtree(path, ignore_errors=True)


class _CapturingSubprocess(object):
    """``subprocess`` as seen by Ansible's respawn helper in this interpreter.

    Under AnsiballZ the helper's children (interpreter probes, the respawned
    module) share the module process's stdout and stderr.  Here fds 1 and 2
    are not the task's output, so their output is collected and written to
    the task's emulated streams, where the respawned module's JSON belongs.
    """

    def __getattr__(self, name):
        return getattr(subprocess, name)

    @staticmethod
    def call(args, **kwargs):
        if 'stdout' in kwargs or 'stderr' in kwargs:
            return subprocess.call(args, **kwargs)
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
        for stream, data in ((sys.stdout, proc.stdout), (sys.stderr, proc.stderr)):
            if data:
                stream.flush()
                stream.buffer.write(data)
        return proc.returncode


def _prepare_respawn(path):
    """Point the (persistent) respawn helper at `path` for this task."""
    respawn = importlib.import_module(RESPAWN_NAME)
    if hasattr(respawn, '_ANSIBLE_PARENT_PATH'):
        respawn._ANSIBLE_PARENT_PATH = path  # only ever formatted into PYTHONPATH
    respawn.subprocess = _CapturingSubprocess()


class GlobalState(object):
    """Snapshot of interpreter state a module may change; restore() puts it back.

    Taken twice per task, so it leans on CPython details: ``os.environ._data``
    (the bytes mapping under POSIX ``os._Environ``) with its ``decodekey`` and
    ``decodevalue``, and ``_signal.getsignal`` (what ``signal.getsignal``
    wraps).  All are there since Python 3.5 and unchanged in 3.8-3.13:
    ``test_exec_runner.py``'s state tests run on every target Python found
    (pyenv's 3.8.18, 3.9.18, 3.10.13, 3.11.7, 3.12.1, 3.13.0 here; Debian
    bookworm's 3.11.2 through the playbooks).
    """

    SIGNALS = ('SIGALRM', 'SIGCHLD', 'SIGHUP', 'SIGPIPE', 'SIGTERM', 'SIGINT',
               'SIGUSR1', 'SIGUSR2')

    def __init__(self):
        # the bytes mapping under os.environ: copied and compared at C speed
        # (a copy of os.environ itself decodes every key and value)
        self.environ = dict(os.environ._data)
        self.locale = locale.setlocale(locale.LC_ALL)
        self.socket = sys.modules.get('socket')
        self.socket_timeout = self.socket.getdefaulttimeout() if self.socket else None
        self.cwd = _safe_getcwd()
        self.argv = list(sys.argv)
        self.path = list(sys.path)
        self.meta_path = list(sys.meta_path)
        self.stdio = (sys.stdin, sys.stdout, sys.stderr)
        self.umask = os.umask(0o22)
        os.umask(self.umask)
        self.nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.handlers = {}
        for name in self.SIGNALS:
            signum = getattr(signal, name, None)
            if signum is not None:
                self.handlers[signum] = _getsignal(signum)

    def restore(self):
        sys.stdin, sys.stdout, sys.stderr = self.stdio
        sys.argv[:] = self.argv
        sys.path[:] = self.path
        # Finders a module added stay (six registers its `six.moves`
        # importer once, when the cached six module is first imported).
        added = [f for f in sys.meta_path if not any(f is saved for saved in self.meta_path)]
        sys.meta_path[:] = self.meta_path + added
        os.umask(self.umask)
        if resource.getrlimit(resource.RLIMIT_NOFILE) != self.nofile:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, self.nofile)
            except (ValueError, OSError):
                pass  # a module lowered the hard limit: no way back up
        if self.cwd is not None:
            try:
                os.chdir(self.cwd)
            except OSError:
                pass
        _replace_environ(self.environ)
        if locale.setlocale(locale.LC_ALL) != self.locale:
            # AnsibleModule sets the locale from the environment; a fresh
            # interpreter (vanilla's) starts from the C locale again
            try:
                locale.setlocale(locale.LC_ALL, self.locale)
            except locale.Error:
                pass
        if self.socket is not None and self.socket.getdefaulttimeout() != self.socket_timeout:
            self.socket.setdefaulttimeout(self.socket_timeout)
        for signum, handler in self.handlers.items():
            try:
                if _getsignal(signum) is not handler and handler is not None:
                    signal.signal(signum, handler)
            except (ValueError, OSError):
                pass  # not the main thread: handlers could not have changed
        try:
            signal.alarm(0)
        except ValueError:
            pass


def _safe_getcwd():
    try:
        return os.getcwd()
    except OSError:
        return None


def _replace_environ(saved):
    """Put os.environ (and the process environment) back to `saved`, a copy
    of its bytes mapping; nothing to do in the usual case, unchanged."""
    env = os.environ
    current = env._data
    if current == saved:
        return
    for key in [k for k in current if k not in saved]:
        del env[env.decodekey(key)]
    for key, value in saved.items():
        if current.get(key) != value:
            env[env.decodekey(key)] = env.decodevalue(value)


class AtexitCollector(object):
    """Catches atexit registrations made by a module so they run after it.

    AnsibleModule registers the removal of its temp dir with atexit; in a
    persistent interpreter that would only happen at shutdown.
    """

    def __init__(self):
        self.funcs = []
        self.saved = None

    def __enter__(self):
        self.saved = atexit.register
        atexit.register = self.register
        return self

    def register(self, func, *args, **kwargs):
        self.funcs.append((func, args, kwargs))
        return func

    def __exit__(self, *exc):
        atexit.register = self.saved
        for func, args, kwargs in reversed(self.funcs):
            try:
                func(*args, **kwargs)
            except Exception:
                pass


def _text_stream(data=b''):
    return io.TextIOWrapper(io.BytesIO(data), encoding='utf-8',
                            errors='surrogateescape', write_through=True)


def _stream_bytes(stream):
    stream.flush()
    return stream.buffer.getvalue()


def _exit_code(exc, stderr):
    """rc for a SystemExit, as the interpreter would compute it."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    stderr.write('%s\n' % (code,))
    return 1


def _reset_module_utils_globals():
    """Clear per-run globals of module_utils that stay loaded between tasks."""
    basic = sys.modules.get('ansible.module_utils.basic')
    if basic is not None:
        for name in ('_ANSIBLE_ARGS', '_ANSIBLE_PROFILE', '_PARSED_MODULE_ARGS'):
            if hasattr(basic, name):
                setattr(basic, name, None)
    warnings = sys.modules.get('ansible.module_utils.common.warnings')
    if warnings is not None:
        for name in ('_global_warnings', '_global_deprecations'):
            value = getattr(warnings, name, None)
            if isinstance(value, (list, dict)):
                value.clear()


def _invoke_main(spec):
    """Run the module as ``__main__`` the way the AnsiballZ wrapper would."""
    json_params = spec[task_wire.JSON_PARAMS]
    modlib = spec.get('modlib_path') or ''
    if modlib:
        _prepare_respawn(modlib)
    if LOADER_NAME in _served:
        loader = __import__(LOADER_NAME, fromlist=['run_module'])
        loader.run_module(json_params=json_params, profile=spec.get('profile'),
                          module_fqn=spec['fqn'], modlib_path=modlib, extensions={})
        return
    if 'ansible.module_utils.basic' in _served:
        basic = __import__('ansible.module_utils.basic', fromlist=['_ANSIBLE_ARGS'])
        basic._ANSIBLE_ARGS = json_params
    runpy.run_module(spec['fqn'], init_globals={'_module_fqn': spec['fqn'],
                                                '_modlib_path': modlib},
                     run_name='__main__', alter_sys=True)
    raise RuntimeError('New-style module did not handle its own exit.')


class FdCapture(object):
    """Fds 1 and 2 point at private files for the duration of one task.

    A module may write to the file descriptors themselves (os.write, C
    code, a child process inheriting them).  Outside a task they are pipes
    whose lines are logged to the controller, which would put that output
    in the controller's log, past no_log.  During a task it is collected
    and becomes part of the task's stdout/stderr, as under AnsiballZ, where
    fds 1 and 2 are the module's output.
    """

    def __enter__(self):
        for stream in (sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:
                pass
        self.saved = [os.dup(1), os.dup(2)]
        self.files = [_capture_file('stdout'), _capture_file('stderr')]
        os.dup2(self.files[0], 1)
        os.dup2(self.files[1], 2)
        return self

    def __exit__(self, *exc):
        os.dup2(self.saved[0], 1)
        os.dup2(self.saved[1], 2)
        self.output = []
        for fd in self.saved:
            os.close(fd)
        for fd in self.files:
            try:
                os.lseek(fd, 0, os.SEEK_SET)
                self.output.append(_read_all(fd))
            finally:
                os.close(fd)


def _capture_file(name):
    """An anonymous file: in memory where Linux offers memfd, else unlinked on disk."""
    if hasattr(os, 'memfd_create'):
        try:
            return os.memfd_create('ansible-mitogen-' + name, getattr(os, 'MFD_CLOEXEC', 0))
        except OSError:
            pass
    fd, path = tempfile.mkstemp(prefix='ansible-mitogen-%s-' % name)
    os.unlink(path)
    return fd


def _read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b''.join(chunks)
        chunks.append(chunk)


class ModuleChildren(object):
    """While a module runs here, the programs it starts begin as under vanilla.

    * SIGINT: this interpreter ignores it (``mitogen.core``), and a program
      inherits an ignored signal; vanilla's module interpreter has Python's
      own handler, which ``execve()`` turns into the default.  The module
      gets that handler (``signal.getsignal()`` answers as under vanilla)
      and its children the default.
    * SIGTERM: this interpreter catches it, so that its exit hooks remove
      what it keeps on disk (bundles written for respawning modules, the
      unreadable start directory) when a parent going away terminates it;
      vanilla's module process has the default.  The module is shown the
      default (see _module_signal); while it is, the handler does what the
      default does, the process ends killed by SIGTERM, after those hooks.
    * ``AnsibleModule.run_command`` passes a ``preexec_fn`` that only sets
      a umask, when it has one.  Without one to set it does nothing, but
      its mere presence makes CPython fork() the whole interpreter and run
      Python in the child; without it CPython (3.10+) uses vfork(): no copy
      of the page tables, no copy-on-write faults, no scheduling of a child
      before the exec (1.5-3 ms of CPU per command, much more wall time on
      a loaded machine).  The program sees the same signals, mask, fds,
      environment, cwd and umask either way.
    """

    def __enter__(self):
        global _shown
        self.popen = subprocess.Popen
        subprocess.Popen = _ModulePopen
        self.saved = {}
        try:
            self.saved[signal.SIGINT] = _getsignal(signal.SIGINT)
            if self.saved[signal.SIGINT] == signal.SIG_IGN:  # the raw value: an int
                _set_handler(signal.SIGINT, signal.default_int_handler)
            term = _getsignal(signal.SIGTERM)
            if callable(term):  # ours (mitogen.core's)
                self.saved[signal.SIGTERM] = term
                _set_handler(signal.SIGTERM, _end_like_default)
                _shown = {signal.SIGTERM: signal.SIG_DFL}
                signal.signal, signal.getsignal = _module_signal, _module_getsignal
        except ValueError:  # not the main thread: nothing can be changed
            pass
        return self

    def __exit__(self, *exc):
        global _shown
        subprocess.Popen = self.popen
        if _shown is not None:
            _shown = None
            signal.signal, signal.getsignal = _real_signal, _real_getsignal
        for signum, handler in self.saved.items():
            if _getsignal(signum) is not handler:
                _set_handler(signum, handler)


# The handlers ModuleChildren shows the module in place of ours (signal
# number -> what signal.getsignal() answers), during a run; else None.
_shown = None
_real_signal, _real_getsignal = signal.signal, signal.getsignal


def _module_getsignal(signum):
    """``signal.getsignal`` during a module run: see ModuleChildren."""
    if _shown is not None and signum in _shown:
        return _shown[signum]
    return _real_getsignal(signum)


def _module_signal(signum, handler):
    """``signal.signal`` during a module run: a handler the module sets is
    set for real; the default it sets (or was shown) keeps ours in its
    place (_end_like_default).  Code that kept a reference to it gets the
    plain function outside a run."""
    if _shown is None or signum not in _shown:
        return _real_signal(signum, handler)
    _real_signal(signum, _end_like_default if handler == signal.SIG_DFL else handler)
    previous, _shown[signum] = _shown[signum], handler
    return previous


def _end_like_default(signum, frame):
    """A terminating signal shown to a module as at its default: this
    interpreter's exit hooks run (they remove only what their own process
    made), then the default ends the process, as it would have ended
    vanilla's module process."""
    core = sys.modules.get('mitogen.core')
    if core is not None:
        core.run_exit_hooks()
    _real_signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


class _ModulePopen(subprocess.Popen):
    """``subprocess.Popen`` during a module run: see ModuleChildren."""

    def __init__(self, *args, **kwargs):
        if _idle_umask_preexec(kwargs.get('preexec_fn')):
            kwargs['preexec_fn'] = None
        super().__init__(*args, **kwargs)


def _idle_umask_preexec(func):
    """True for run_command's ``preexec`` (``if umask: os.umask(umask)``)
    when its umask is unset: nothing to run in the child.  Anything else,
    a changed helper included, is kept as it is."""
    code = getattr(func, '__code__', None)
    if code is None or code.co_name != 'preexec' or code.co_freevars != ('umask',) \
            or getattr(func, '__module__', None) != 'ansible.module_utils.basic':
        return False
    if not set(code.co_names) <= {'os', 'umask'} or code.co_consts != (None,):
        return False
    return not func.__closure__[0].cell_contents


def run_python_inprocess(spec):
    """Run a new-style module here; returns dict(rc, stdout, stderr)."""
    state = GlobalState()
    stdout = _text_stream()
    stderr = _text_stream()
    sys.stdin = _text_stream(spec[task_wire.JSON_PARAMS])
    sys.stdout, sys.stderr = stdout, stderr
    sys.argv[:] = [spec.get('argv0') or filename_for(spec['fqn'], False)]
    # Like AnsiballZ, a module sees its payload and the target's own
    # sys.path: nothing it fails to import is asked of the controller
    # (which would send its own `distro`, `typing_extensions`, ... and cost
    # a round trip per name).
    sys.meta_path[:] = [f for f in sys.meta_path if not _is_core_object(f)]
    rc = 0
    capture = FdCapture()
    try:
        with capture:
            _prepare_process(spec)
            with AtexitCollector(), ModuleChildren():
                try:
                    _invoke_main(spec)
                except SystemExit as exc:
                    rc = _exit_code(exc, stderr)
                except BaseException:
                    traceback.print_exc(file=stderr)
                    rc = 1
    finally:
        _reset_module_utils_globals()
        state.restore()
    # What reached the fds directly came first or alongside; a module's
    # JSON is printed last, and Ansible skips leading junk like vanilla's.
    fd_out, fd_err = capture.output
    return {'rc': rc, 'stdout': fd_out + _stream_bytes(stdout), 'stderr': fd_err + _stream_bytes(stderr)}


def _prepare_process(spec):
    """Apply the task's environment, open-files limit and working directory
    to this process."""
    os.environ.update(spec.get('env') or {})
    if spec.get('rlimit_nofile'):
        _set_nofile_soft_limit(spec['rlimit_nofile'])
    cwd = spec.get('cwd')
    if cwd:
        try:
            os.chdir(cwd)
            return
        except OSError:
            pass
    if _denied_cwd():
        _enter_unreadable_dir()
    elif _safe_getcwd() is None:
        # like AnsiballZ: modules need a working directory that exists
        try:
            os.chdir(os.path.expanduser('~'))
        except OSError:
            os.chdir('/')


def _set_nofile_soft_limit(wanted):
    """What the AnsiballZ wrapper does with PYTHON_MODULE_RLIMIT_NOFILE: the
    soft limit becomes `wanted`, capped by the hard limit, which stays."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, wanted)
    if wanted != soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except ValueError:  # as the wrapper: some platforms misreport the hard limit
            pass


def _denied_cwd():
    core = sys.modules.get('mitogen.core')
    return getattr(core, 'denied_cwd', None)


def _enter_unreadable_dir():
    """Start a module where vanilla's starts under sudo to a user who may not
    read the login user's directory: somewhere it cannot read.  AnsibleModule
    then moves to its own temp dir, creating remote_tmp (and warning that it
    did) exactly as under vanilla."""
    global _unreadable_dir
    if _unreadable_dir is None or not os.path.isdir(_unreadable_dir):
        _unreadable_dir = _private_dir('ansible_mitogen_cwd_')
        os.chmod(_unreadable_dir, 0o300)
    os.chdir(_unreadable_dir)


_unreadable_dir = None


def run_python(spec):
    """Entry for new-style modules: resolve sources, then pick isolation.

    Returns {'need': 'manifest'} or {'need': [digests]} when the controller
    must resend the call with more data, else dict(rc, stdout, stderr).
    """
    manifest, need = resolve_bundle(spec)
    if need is not None:
        return need
    spec = dict(spec, modlib_path=modlib_path(spec.get('bundle'), manifest))
    conflicts = conflicting_names(manifest)
    if conflicts or spec.get('fork') or task_wire.always_forks(spec['fqn']) \
            or task_wire.always_forks(spec.get('module_name') or ''):
        return run_forked(_run_python_activated, manifest, conflicts, spec)
    return _run_python_activated(manifest, (), spec)


def resolve_bundle(spec):
    """(manifest, None) when all code of `spec` is here, else (None, need reply)."""
    manifest = spec.get(task_wire.MANIFEST) or _bundles.get(spec['bundle'])
    if spec.get(task_wire.CODE_XZ):
        manifest = unpack_code(spec[task_wire.CODE_XZ])
    if manifest is None:
        return None, need_manifest()
    if spec.get(task_wire.SOURCES):
        add_sources(spec[task_wire.SOURCES])
    missing = missing_sources(manifest)
    if missing:
        return None, {task_wire.NEED: missing}
    _bundles[spec['bundle']] = manifest
    return manifest, None


def _run_python_activated(manifest, purge, spec):
    activate_manifest(manifest, purge)
    if 'modlib_path' in spec:
        return run_python_inprocess(spec)
    # Async jobs come here in a child that ends with os._exit(): an on-disk
    # copy made here would outlive it unless removed right after the run.
    made_here = spec.get('bundle') not in _modlib_dirs
    spec = dict(spec, modlib_path=modlib_path(spec.get('bundle'), manifest))
    try:
        return run_python_inprocess(spec)
    finally:
        if made_here and spec['modlib_path']:
            shutil.rmtree(_modlib_dirs.pop(spec.get('bundle')), ignore_errors=True)


def run_forked(func, *args):
    """Run func(*args) in a forked child and return its (pickled) result.

    Whatever the call does to module state, sys.modules or the process stays
    in the child.  The child never talks to the controller itself.
    """
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        try:
            detach_from_parent_services()
            try:
                result = func(*args)
            except BaseException:
                result = {'rc': 1, 'stdout': b'',
                          'stderr': traceback.format_exc().encode('utf-8', 'replace')}
            _write_all(wfd, pickle.dumps(result, protocol=2))
        finally:
            os._exit(0)
    os.close(wfd)
    chunks = []
    while True:  # os.read()/os.waitpid() retry EINTR themselves (PEP 475)
        chunk = os.read(rfd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(rfd)
    _, status = os.waitpid(pid, 0)
    if not chunks:
        return {'rc': _status_rc(status), 'stdout': b'',
                'stderr': b'forked module runner died without a result'}
    return pickle.loads(b''.join(chunks))


def detach_from_parent_services():
    """In a bare os.fork() child: stop using the core library's broker.

    The broker thread does not survive fork(), so an import forwarded to the
    controller or a forwarded log record would wait forever.  The child keeps
    what is already imported, the bundle importer and the local stdlib.
    """
    sys.meta_path[:] = [f for f in sys.meta_path if not _is_core_object(f)]
    root = __import__('logging').getLogger()
    for handler in list(root.handlers):
        if _is_core_object(handler):
            root.removeHandler(handler)


def _is_core_object(obj):
    return type(obj).__module__.startswith('mitogen')


def _status_rc(status):
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def exec_command(cmd, in_data=b'', chdir=None, shell=None, emulate_tty=False,
                 env=None):
    """Run a command as vanilla's connection plugins would; (rc, stdout, stderr).

    `cmd` is a shell string or an argv list.  A string runs as
    ``SHELL -c cmd``: `shell` is a path (default /bin/sh), an argv prefix
    (``/bin/bash -l``), or LOGIN_SHELL for the user's shell from the password
    database (what sshd runs a remote command with).  With `emulate_tty`,
    stderr is merged into stdout and line endings become CRLF, which is
    what a remote command run under ``ssh -tt`` returns.
    """
    if isinstance(cmd, (list, tuple)):
        argv = list(cmd)
    else:
        argv = shell_argv(shell) + ['-c', cmd]
    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update(env)
    try:
        proc = _spawn(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if emulate_tty else subprocess.PIPE,
            cwd=chdir or None, env=full_env, close_fds=True)
    except OSError as exc:
        # a shell's exit codes: 127 not found, 126 found but not executable
        rc = 127 if exc.errno == errno.ENOENT else 126
        return rc, b'', ('%s: %s\n' % (argv[0], exc.strerror)).encode()
    stdout, stderr = proc.communicate(in_data or b'')
    stderr = stderr or b''
    if emulate_tty:
        stdout = stdout.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    return proc.returncode, stdout, stderr


LOGIN_SHELL = 'login-shell'


def shell_argv(shell=None):
    """argv prefix of the shell that runs a command string (see exec_command)."""
    if shell == LOGIN_SHELL:
        try:
            shell = pwd.getpwuid(os.getuid()).pw_shell
        except KeyError:
            shell = None
        return [shell or '/bin/sh']
    if isinstance(shell, (list, tuple)):
        return list(shell)
    return shlex.split(shell) if shell else ['/bin/sh']


# Programs expect these at their default.  execve() resets a caught signal
# and Popen resets SIGPIPE (and SIGXFSZ); only an ignored one is inherited.
_CHILD_DEFAULT_SIGNALS = ('SIGINT', 'SIGTERM', 'SIGCHLD')


def _spawn(argv, **kwargs):
    """subprocess.Popen of a program that must start with the default
    dispositions, as from a login shell (our interpreter ignores SIGINT).

    Resetting them in a ``preexec_fn`` would make CPython fork() the
    interpreter and run Python in the child (see ModuleChildren).  Instead
    each ignored one is caught by a no-op handler for the instant of the
    vfork/exec: the child gets the default from execve(), the interpreter
    loses nothing (a signal in that instant is swallowed, as ignored).
    SIGCHLD ignored (children reaped by the kernel) keeps the preexec_fn.
    """
    ignored = []
    for name in _CHILD_DEFAULT_SIGNALS:
        signum = getattr(signal, name, None)
        if signum is not None and _getsignal(signum) == signal.SIG_IGN:
            ignored.append(signum)
    if not ignored:
        return subprocess.Popen(argv, **kwargs)
    if signal.SIGCHLD in ignored:
        return subprocess.Popen(argv, preexec_fn=_reset_child_signals, **kwargs)
    try:
        for signum in ignored:
            signal.signal(signum, _swallow_signal)
    except ValueError:  # not the main thread
        return subprocess.Popen(argv, preexec_fn=_reset_child_signals, **kwargs)
    try:
        return subprocess.Popen(argv, **kwargs)
    finally:
        for signum in ignored:
            signal.signal(signum, signal.SIG_IGN)


def _swallow_signal(signum, frame):
    pass


def _reset_child_signals():
    for name in _CHILD_DEFAULT_SIGNALS + ('SIGPIPE',):
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, signal.SIG_DFL)


def run_program(spec):
    """Write a program module (and its args file) to a private temp dir and run it.

    spec: data (bytes), filename, interpreter (argv list or None for a
    binary), args_data (bytes or None), temp_dir, env, cwd, emulate_tty.
    The command line matches vanilla's ``<interpreter> <module> <args file>``.
    """
    base = spec.get('temp_dir') or None
    workdir = tempfile.mkdtemp(prefix='ansible-mitogen-', dir=base)
    try:
        path = os.path.join(workdir, spec.get('filename') or 'module')
        _write_file(path, spec['data'], 0o700)
        argv = list(spec.get('interpreter') or []) + [path]
        if spec.get('args_data') is not None:
            args_path = os.path.join(workdir, 'args')
            _write_file(args_path, spec['args_data'], 0o600)
            argv.append(args_path)
        emulate_tty = spec.get('emulate_tty', False)
        rc, stdout, stderr = exec_command(
            argv, in_data=spec.get('in_data') or b'', chdir=spec.get('cwd'),
            emulate_tty=emulate_tty, env=spec.get('env'))
        if rc in (126, 127) and not stdout and stderr.startswith(argv[0].encode() + b': '):
            # vanilla runs modules through /bin/sh, which words it like this
            reason = stderr[len(argv[0]) + 2:].decode(errors='replace').strip()
            if reason == os.strerror(errno.ENOENT):
                reason = 'not found'
            stderr = ('/bin/sh: 1: %s: %s\n' % (argv[0], reason)).encode()
            if emulate_tty:
                stdout, stderr = stderr.replace(b'\n', b'\r\n'), b''
        out = {'rc': rc, 'stdout': stdout, 'stderr': stderr}
        if spec.get('want_cmd'):  # async jobs report it, like async_wrapper
            # ansible-core >= 2.21 hands async_wrapper the interpreter too
            skip = 0 if spec.get('async_cmd_interpreter') else len(spec.get('interpreter') or [])
            out['cmd'] = ' '.join(argv[skip:])
        return out
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _write_file(path, data, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def run(spec):
    """Dispatch one planned invocation to its runner."""
    spec = task_wire.unpacked(spec, task_wire.JSON_PARAMS)
    if spec.get('async_jid'):
        return start_async(spec)
    if spec['kind'] == 'python':
        return run_python(spec)
    if spec.get('fork'):
        return run_forked(run_program, spec)
    return run_program(spec)


def start_async(spec):
    """Start `spec` as a detached job; return what async_wrapper prints.

    The job runs in a double-forked daemon so it survives the task (and the
    connection); it writes ``<async_dir>/<jid>`` like async_wrapper so
    ``async_status`` reads it unchanged.
    """
    if spec['kind'] == 'python':
        # every source must be here before detaching: the job cannot ask
        _, need = resolve_bundle(spec)
        if need is not None:
            return need
    async_dir = os.path.expanduser(spec.get('async_dir') or '~/.ansible_async')
    try:
        os.makedirs(async_dir, exist_ok=True)
    except OSError as exc:
        return _async_started_failure(async_dir, exc)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        try:
            _async_daemon(spec, async_dir, wfd)
        finally:
            os._exit(0)
    os.close(wfd)
    jid = os.read(rfd, 65536).decode()
    os.close(rfd)
    os.waitpid(pid, 0)
    job_path = os.path.join(async_dir, jid)
    return {'rc': 0, 'async': {
        'failed': False, 'started': True, 'finished': False, 'ansible_job_id': jid,
        'results_file': job_path, '_ansible_suppress_tmpdir_delete': True}}


def _async_started_failure(async_dir, exc):
    return {'rc': 1, 'async': {
        'failed': True,
        'msg': 'could not create directory: %s - %s' % (async_dir, exc)}}


def _async_daemon(spec, async_dir, notify_fd):
    os.setsid()
    if os.fork():
        return
    detach_from_parent_services()
    _detach_fds(keep=(notify_fd,))
    jid = '%s.%d' % (spec['async_jid'], os.getpid())
    job_path = os.path.join(async_dir, jid)
    _write_job(job_path, {'started': True, 'finished': False, 'ansible_job_id': jid})
    _write_all(notify_fd, jid.encode())
    os.close(notify_fd)
    # async_wrapper runs the module with pipes: stdout and stderr apart
    runner_spec = dict(spec, async_jid=None, emulate_tty=False, want_cmd=True)
    result = _run_with_time_limit(runner_spec, int(spec.get('async_limit') or 0))
    result.setdefault('ansible_job_id', jid)
    _write_job(job_path, result)


def _run_with_time_limit(spec, limit):
    """Run the job in a child, killing it past `limit` seconds (0 = no limit)."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        try:
            os.setpgid(0, 0)
            if spec['kind'] == 'python':
                manifest = spec.get(task_wire.MANIFEST) or _bundles[spec['bundle']]
                out = _run_python_activated(manifest, conflicting_names(manifest), spec)
            else:
                out = run_program(spec)
            _write_all(wfd, pickle.dumps(out, protocol=2))
        finally:
            os._exit(0)
    os.close(wfd)
    deadline = time.time() + limit if limit else None
    chunks = []
    while True:
        if deadline is not None:
            import select
            ready, _, _ = select.select([rfd], [], [], max(0, deadline - time.time()))
            if not ready:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                os.waitpid(pid, 0)
                return {'msg': 'Timeout exceeded', 'failed': True, 'child_pid': pid}
        chunk = os.read(rfd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.waitpid(pid, 0)
    if not chunks:
        return {'failed': True, 'msg': 'async job died without a result'}
    return job_result(pickle.loads(b''.join(chunks)))


def job_result(out):
    """Turn rc/stdout/stderr of a module into the dict async_wrapper stores
    (the same fields on success, junk output and output that is no JSON)."""
    stdout = out['stdout'].decode('utf-8', 'surrogateescape')
    stderr = out['stderr'].decode('utf-8', 'surrogateescape')
    try:
        text, junk_warnings = _json_part(stdout)
        result = json.loads(text)
    except ValueError:
        return {'failed': True, 'cmd': out.get('cmd', ''), 'data': stdout, 'stderr': stderr,
                'msg': traceback.format_exc()}
    if junk_warnings:
        warnings = result.get('warnings', [])
        if not isinstance(warnings, list):
            warnings = [warnings]
        result['warnings'] = warnings + junk_warnings
    if stderr:
        result['stderr'] = stderr
    return result


def _json_part(text):
    """(JSON lines of `text`, warnings about junk after them), as async_wrapper
    filters: leading lines before one starting with '{' are dropped, trailing
    lines after the last one ending with '}' are dropped with a warning."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if line.strip().startswith('{'):
            break
    else:
        raise ValueError('No start of json char found')
    lines = lines[start:]
    for offset, line in enumerate(reversed(lines)):
        if line.strip().endswith('}'):
            break
    else:
        raise ValueError('No end of json char found')
    warnings = []
    if offset:
        warnings.append('Module invocation had junk after the JSON data: %s' % '\n'.join(lines[len(lines) - offset:]))
    return '\n'.join(lines[:len(lines) - offset]), warnings


def _write_job(path, info):
    tmp = path + '.tmp'
    with open(tmp, 'w') as fp:
        fp.write(json.dumps(info))
    os.rename(tmp, path)


def _detach_fds(keep=()):
    """Point every inherited descriptor at /dev/null.

    Holding the connection's pipes or sockets would keep the controller (or
    ssh) waiting for EOF while the job runs.  Descriptors are replaced rather
    than closed so stale Python objects that later close them cannot close a
    descriptor the job opened meanwhile.
    """
    null = os.open(os.devnull, os.O_RDWR)
    for fd in _open_fds():
        if fd in keep or fd == null:
            continue
        try:
            os.dup2(null, fd)
        except OSError:
            pass
    os.close(null)


def _open_fds():
    try:
        return [int(name) for name in os.listdir('/proc/self/fd')]
    except OSError:
        return list(range(0, 256))
