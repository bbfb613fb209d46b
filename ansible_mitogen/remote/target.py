"""Functions the controller calls on targets through ``context.call()``.

Runs on TARGETS (Python 3.8+; stdlib plus mitogen.core/mitogen.service only).
Callers: the connection plugin (``init_child``, ``create_fork_child``,
``transfer_file``, ``write_path``, ``exec_command``) and the action mixin
(``run_module``, temp dirs, ``~`` expansion, file checks).  Each function is
one round trip; keep them small and free of controller-only imports.
"""
import errno
import logging
import os
import pwd
import shutil
import stat
import tempfile

import mitogen.core

from ansible_mitogen.remote import runner, task_wire

LOG = logging.getLogger(__name__)

_good_temp_dir = None


def _home_dir():
    """Home of the effective user, whatever $HOME says after sudo/su."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_dir
    except KeyError:
        return os.path.expanduser('~')


def expand_user(path):
    """``~`` and ``~user`` expansion done by the user the context runs as."""
    if path == '~' or path.startswith('~/'):
        return _home_dir() + path[1:]
    return os.path.expanduser(path)


def _is_good_temp_dir(path):
    path = expand_user(os.path.expandvars(path))
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix='.mitogen-probe-', dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError:
        return None
    return path


def find_good_temp_dir(candidates):
    """First candidate directory we can create files in (else the system tmp).

    Existing directories win, so connecting creates nothing (vanilla leaves
    no ~/.ansible in the home of a become user); only when none is usable
    is the first creatable candidate made.
    """
    candidates = list(candidates or ()) + [tempfile.gettempdir(), '/var/tmp', '/tmp']
    for candidate in candidates:
        if os.path.isdir(expand_user(os.path.expandvars(candidate))):
            path = _is_good_temp_dir(candidate)
            if path:
                return path
    for candidate in candidates:
        path = _is_good_temp_dir(candidate)
        if path:
            return path
    raise IOError('no writable temporary directory among %r' % (candidates,))


@mitogen.core.takes_econtext
def init_child(econtext=None, log_level=None, candidate_temp_dirs=()):
    """Once per new interpreter: logging level, home dir and a writable temp dir."""
    global _good_temp_dir
    if log_level is not None:
        logging.getLogger('ansible_mitogen').setLevel(log_level)
    _good_temp_dir = find_good_temp_dir(candidate_temp_dirs)
    return {'home_dir': _home_dir(), 'good_temp_dir': _good_temp_dir,
            'uid': os.geteuid(), 'gid': os.getegid()}


@mitogen.core.takes_econtext
def create_fork_child(econtext=None):
    """A new context forked from this interpreter (task isolation)."""
    import mitogen.parent  # noqa: F401  (Router.fork() is mitogen.parent's)

    return econtext.router.fork()


def run_module(kwargs):
    """Run one planned module invocation (see ``ansible_mitogen.executor.planner``).

    This call is most of the per-task traffic: large parameters and outputs
    travel compressed (``ansible_mitogen.remote.task_wire``).
    """
    return task_wire.packed(runner.run(kwargs), task_wire.STDOUT, task_wire.STDERR)


def exec_command(cmd, in_data=b'', chdir=None, shell=None, emulate_tty=False):
    """Run a shell command line; (rc, stdout, stderr) as vanilla reports them."""
    return runner.exec_command(cmd, in_data=in_data, chdir=chdir, shell=shell,
                               emulate_tty=emulate_tty)


def make_temp_dir(remote_tmp, prefix, system_dirs=(), owner=None):
    """Create the task's temp dir under remote_tmp (or a fallback); return its path.

    Created by the user the task runs as, so no permission fixups are needed
    afterwards (unlike vanilla's world-readable workarounds for become).
    """
    bases = [remote_tmp] + list(system_dirs)
    if _good_temp_dir:
        bases.append(_good_temp_dir)
    last_error = None
    for base in bases:
        try:
            base = expand_user(os.path.expandvars(base))
            _make_dirs(base, owner)
            path = tempfile.mkdtemp(prefix=prefix, dir=base)
            _chown(path, owner)
            return path
        except OSError as exc:
            last_error = exc
    raise last_error


def make_dir(path, owner=None):
    """mkdir -p with mode 0700 for the leaf (a task temp dir at a known path).

    `owner` (uid, gid): what a become-root task creates is handed to the
    login user, who would have created it under vanilla.
    """
    _make_dirs(os.path.dirname(path), owner)
    os.mkdir(path, 0o700)
    _chown(path, owner)


def _make_dirs(path, owner):
    """os.makedirs(mode 0700), giving every directory it creates to `owner`."""
    missing = []
    while path and path != '/' and not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            continue
        _chown(directory, owner)


def _chown(path, owner):
    if owner is not None:
        os.chown(path, owner[0], owner[1])


def remove_path(path):
    """rm -rf, ignoring a path that is already gone."""
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise


def reset_temp_dir():
    """Forget the cached good temp dir (after a become user change)."""
    global _good_temp_dir
    _good_temp_dir = None


def file_exists(path):
    return os.path.exists(path)


def read_path(path):
    with open(path, 'rb') as fp:
        return fp.read()


def set_executable(paths):
    """``chmod u+rwx``, as vanilla's _fixup_perms2 does for the owner."""
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            continue
        os.chmod(path, stat.S_IMODE(mode) | stat.S_IRWXU)


def write_path(path, data, mode=None, utimes=None, owner=None, masked=False):
    """Atomically replace `path` with `data` (temp file in the same dir, rename).

    See _finish_file for `mode`, `owner` and `masked`.
    """
    directory = os.path.dirname(path) or '.'
    fd, tmp = tempfile.mkstemp(prefix='.mitogen-', dir=directory)
    try:
        try:
            runner._write_all(fd, data)
            os.fsync(fd)  # the rename must never expose an unwritten file
        finally:
            os.close(fd)
        _finish_file(tmp, path, mode, utimes, owner, masked)
    except BaseException:
        _unlink_quiet(tmp)
        raise


def _finish_file(tmp, path, mode, utimes, owner=None, masked=False):
    """Mode, owner and times of `tmp`, then rename it to `path`.

    `mode` None: 0666 minus the umask; `masked`: `mode` minus the umask (an
    sftp upload of a local file of that mode).  `owner`: see make_dir.
    """
    _chown(tmp, owner)
    if mode is None:
        mode, masked = 0o666, True
    os.chmod(tmp, mode & ~_current_umask() if masked else mode)
    if utimes is not None:
        os.utime(tmp, utimes)
    os.rename(tmp, path)


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _unlink_quiet(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def transfer_file(context, in_path, out_path, mode=None, owner=None, utimes=None, masked=False):
    """Pull `in_path` from the FileService of `context` into `out_path` atomically.

    The service verifies size and SHA-1; like vanilla's sftp/scp put, the
    new file gets default permissions unless `mode` is given.
    """
    import mitogen.service
    directory = os.path.dirname(out_path) or '.'
    fd, tmp = tempfile.mkstemp(prefix='.mitogen-', dir=directory)
    try:
        with os.fdopen(fd, 'wb', 65536) as fp:
            mitogen.service.FileService.get(context, in_path, fp)
            fp.flush()
            os.fsync(fp.fileno())
        _finish_file(tmp, out_path, mode, utimes, owner, masked)
    except BaseException:
        _unlink_quiet(tmp)
        raise


def stat_path(path, follow=False):
    """Minimal stat used before streaming a file back (fetch)."""
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError:
        return None
    return {'size': st.st_size, 'mode': st.st_mode, 'isdir': stat.S_ISDIR(st.st_mode)}


def read_chunk(path, offset, size):
    """`size` bytes of `path` from `offset` (fewer at the end of the file)."""
    with open(path, 'rb') as fp:
        fp.seek(offset)
        return fp.read(size)
