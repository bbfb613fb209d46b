"""Connection method "setns": a child that enters a container's namespaces directly.

Runs in the context that calls router.setns() -- it must be root on the
container's host (controller or a via= context there).  Instead of going
through `docker exec`, it asks the container tool once for the pid of the
container's first process, then the forked child joins that process's
namespaces (user, ipc, uts, net, pid, cgroup, mnt) and root directory,
drops to `username` from the container's own passwd file, and execs the
container's Python.  Joining a pid namespace only applies to children, so
the forked child forks once more and waits for that grandchild.

host_python=True manages containers that have no Python: the child joins
every namespace but the mount namespace, execs the *host's* interpreter,
and a short prelude in it then keeps a descriptor on the host's root
directory, enters the container's mount namespace and root, and runs the
boot command with the interpreter, its standard library and PYTHONHOME
reached through /proc/self/fd/N (the container needs /proc mounted); the
interpreter's path inside the container is a symlink in
/tmp/.mitogen-host-python-PID, so its working directory stays inside.
"""
import ctypes
import os
import re
import subprocess

import mitogen.core
import mitogen.parent
from mitogen.methodbase import eof_message_naming_python

#: Namespaces joined, in order: user first (grants rights for the rest), mnt last.
NAMESPACES = ('user', 'ipc', 'uts', 'net', 'pid', 'cgroup', 'mnt')
#: Container kind -> (Options attribute naming its tool, the tool's arguments
#: before the container name, regex of the leader pid in what it prints).
LEADER_PID_QUERIES = {
    'docker': ('docker_path', ['inspect', '--format', '{{.State.Pid}}'], r'(?m)^\s*(\d+)\s*$'),
    'lxc': ('lxc_info_path', ['--no-humanize', '--pid', '--name'], r'(?m)^\s*(\d+)\s*$'),
    'lxd': ('lxc_path', ['info'], r'(?im)^\s*pid:\s*(\d+)'),
    'machinectl': ('machinectl_path', ['show', '--property=Leader'], r'(?m)^Leader=(\d+)'),
}
KINDS = tuple(LEADER_PID_QUERIES)
DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'


class Options(mitogen.parent.Options):
    def __init__(self, container=None, kind=None, username=None, docker_path=None,
                 lxc_path=None, lxc_info_path=None, machinectl_path=None, host_python=False, **kwargs):
        super().__init__(**kwargs)
        if not container:
            raise ValueError('setns: container is required')
        if kind not in KINDS:
            raise ValueError('setns: kind must be one of %s, not %r' % (', '.join(KINDS), kind))
        self.container = container
        self.kind = kind
        self.username = username
        self.docker_path = docker_path or 'docker'
        self.lxc_path = lxc_path or 'lxc'
        self.lxc_info_path = lxc_info_path or 'lxc-info'
        self.machinectl_path = machinectl_path or 'machinectl'
        self.host_python = bool(host_python)


def leader_pid_argv(opts: Options) -> list:
    """Command printing the pid of the container's first process."""
    tool, args, _ = LEADER_PID_QUERIES[opts.kind]
    return [getattr(opts, tool)] + args + [opts.container]


def parse_leader_pid(kind: str, output: str) -> int:
    """Pid from leader_pid_argv() output; 0 when the container is not running."""
    m = re.search(LEADER_PID_QUERIES[kind][2], output)
    return int(m.group(1)) if m else 0


def get_leader_pid(opts: Options) -> int:
    argv = leader_pid_argv(opts)
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=opts.connect_timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise mitogen.parent.ConnectError('setns: %r failed: %s' % (argv[0], e))
    output = proc.stdout.decode('utf-8', 'replace')
    pid = parse_leader_pid(opts.kind, output) if proc.returncode == 0 else 0
    if pid <= 0:
        raise mitogen.parent.ConnectError('setns: %s container %r is not running or unknown: %s'
                                          % (opts.kind, opts.container, output.strip() or 'no output'))
    return pid


def lookup_user(root: str, username: str) -> tuple:
    """(uid, gid, groups, home, shell) of `username` in the container's files under `root`."""
    try:
        with open(os.path.join(root, 'etc/passwd')) as fp:
            rows = [line.rstrip('\n').split(':') for line in fp]
    except OSError as e:
        raise mitogen.parent.ConnectError('setns: cannot read the container passwd file: %s' % (e,))
    for row in rows:
        if len(row) >= 7 and row[0] == username:
            uid, gid = int(row[2]), int(row[3])
            return uid, gid, _groups_of(root, username, gid), row[5], row[6]
    raise mitogen.parent.ConnectError('setns: no user %r in the container' % (username,))


def _groups_of(root, username, gid):
    groups = [gid]
    try:
        with open(os.path.join(root, 'etc/group')) as fp:
            for line in fp:
                row = line.rstrip('\n').split(':')
                if len(row) >= 4 and username in row[3].split(','):
                    groups.append(int(row[2]))
    except OSError:
        pass
    return groups


def namespaces_to_join(pid: int) -> list:
    """Namespaces of `pid` that differ from ours (joining our own fails for user)."""
    out = []
    for ns in NAMESPACES:
        try:
            theirs = os.stat('/proc/%d/ns/%s' % (pid, ns)).st_ino
            ours = os.stat('/proc/self/ns/%s' % (ns,)).st_ino
        except OSError:
            continue
        if theirs != ours:
            out.append(ns)
    return out


class Connection(mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'setns'
    eof_message = eof_message_naming_python

    def __init__(self, options, router):
        super().__init__(options, router)
        self.leader_pid = None
        self.user = None
        self.join = []
        self._setns = None

    def spawn(self):
        self.leader_pid = get_leader_pid(self.options)
        root = '/proc/%d/root' % (self.leader_pid,)
        if self.options.username:
            self.user = lookup_user(root, self.options.username)
        self.join = namespaces_to_join(self.leader_pid)
        if self.options.host_python:
            # The prelude joins mnt itself, once the host interpreter runs.
            self.join = [ns for ns in self.join if ns != 'mnt']
        # Loaded before fork: the child must not dlopen anything.
        self._setns = _setns_function()
        try:
            super().spawn()
        except mitogen.parent.ConnectError:
            raise
        except mitogen.core.StreamError as e:
            # The exec happens inside the container, so this is its interpreter.
            raise mitogen.parent.EofError('python interpreter %r cannot be started in the container '
                                          '(python_path): %s' % (self.get_python_argv()[0], e))
        except subprocess.SubprocessError as e:
            # preexec failures only arrive as "Exception occurred in preexec_fn".
            self._close_all()
            raise mitogen.parent.ConnectError(
                'setns: cannot enter the namespaces %s of %s container %r (pid %d; root required): %s'
                % (','.join(self.join), self.options.kind, self.options.container, self.leader_pid, e))

    def default_name(self):
        return 'setns.%s' % (self.options.container,)

    def get_env(self):
        env = {'PATH': DEFAULT_PATH, 'LANG': 'C.UTF-8'}
        if self.user:
            env.update(HOME=self.user[3], USER=self.options.username, LOGNAME=self.options.username)
        else:
            env.update(HOME='/root', USER='root', LOGNAME='root')
        return env

    def get_python_argv(self):
        argv = super().get_python_argv()
        if not self.options.host_python:
            return argv
        user = list(self.user[:3]) if self.user else None
        return argv + ["-c", HOST_PYTHON_PRELUDE % (self.leader_pid, self.leader_pid, user)]

    def preexec(self):
        # Child after fork, before exec: only plain syscalls from here on.
        pid = self.leader_pid
        fds = [(ns, os.open('/proc/%d/ns/%s' % (pid, ns), os.O_RDONLY)) for ns in self.join]
        root_fd = os.open('/proc/%d/root' % (pid,), os.O_RDONLY)
        for ns, fd in fds:
            self._setns(fd, ns, pid)
            os.close(fd)
        if self.options.host_python:
            # The host interpreter must start from the host's files; the
            # prelude enters the container's root and drops privileges.
            os.close(root_fd)
            if 'pid' in self.join:
                _fork_into_pid_namespace()
            return
        os.fchdir(root_fd)
        os.chroot('.')
        os.close(root_fd)
        if self.user:
            uid, gid, groups = self.user[:3]
            os.setgroups(groups)
            os.setgid(gid)
            os.setuid(uid)
        if 'pid' in self.join:
            _fork_into_pid_namespace()


# Run by the host interpreter (python -c PRELUDE -c STAGE1) inside every
# namespace of the container but mnt; %%d = leader pid, %%r = [uid, gid,
# groups] or None.  Python 3.8 compatible, stdlib only.
HOST_PYTHON_PRELUDE = """import ctypes,os,sys
h=os.open("/",os.O_RDONLY);os.set_inheritable(h,True);H="/proc/self/fd/%%d"%%h
m=os.open("/proc/%d/ns/mnt",os.O_RDONLY);r=os.open("/proc/%d/root",os.O_RDONLY)
if ctypes.CDLL(None,use_errno=True).setns(m,0):raise OSError(ctypes.get_errno(),"setns(mnt)")
os.fchdir(r);os.chroot(".");os.chdir("/");os.close(m);os.close(r)
d="/tmp/.mitogen-host-python-%%d"%%os.getpid();os.mkdir(d,0o755);os.symlink(H+sys.executable,d+"/python")
os.environ["PYTHONHOME"]=H+sys.prefix+":"+H+sys.exec_prefix
sys.executable=d+"/python";sys.prefix=H+sys.prefix;sys.exec_prefix=H+sys.exec_prefix
sys.path[:]=[H+p if p.startswith("/") else p for p in sys.path]
u=%r
if u:os.setgroups(u[2]);os.setgid(u[1]);os.setuid(u[0])
a=sys.argv[2];sys.argv[:]=["-c"]
exec(compile(a,"<stage1>","exec"),{"__name__":"__main__"})"""


def _setns_function():
    """setns(fd, ns, pid) raising OSError: os.setns on Python 3.12+, else libc via ctypes."""
    if hasattr(os, 'setns'):
        def call(fd, ns, pid):
            os.setns(fd, 0)
        return call
    libc = ctypes.CDLL(None, use_errno=True)

    def call(fd, ns, pid):
        if libc.setns(fd, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, 'setns(%s) of pid %d: %s' % (ns, pid, os.strerror(err)))
    return call


def _fork_into_pid_namespace():
    """Continue in a child (which really is in the new pid namespace); the
    current process stays as its waiting parent and mirrors its exit status."""
    child = os.fork()
    if child == 0:
        return
    # Holding no descriptors lets the parent see the exec (or EOF) of our child.
    os.closerange(3, 65536)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    os._exit(os.waitstatus_to_exitcode(status) & 0xff if hasattr(os, 'waitstatus_to_exitcode') else 1)
