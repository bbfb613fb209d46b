"""Functions the tests call inside children; stdlib and mitogen imports only.

Imported on the controller by the tests and, through import forwarding (or
from the working directory), inside the children.
"""
import logging
import os
import subprocess
import sys
import time

import mitogen
import mitogen.core
import mitogen.service


def noop():
    return None


def echo(x):
    return x


def add(a, b):
    return a + b


def get_pid():
    return os.getpid()


def kill_self():
    """Die mid-call, as an OOM-killed or `kill -9`ed interpreter would."""
    import signal
    os.kill(os.getpid(), signal.SIGKILL)


def start_sleepers(seconds):
    """Start `sleep` twice: attached (our child, like a running command) and
    detached (double-forked, like a daemon); returns both pids."""
    attached = subprocess.Popen(['sleep', str(seconds)]).pid
    r, w = os.pipe()
    middle = os.fork()
    if middle == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(w, b'%d' % os.getpid())
            os.execvp('sleep', ['sleep', str(seconds)])
        os._exit(0)
    os.close(w)
    os.waitpid(middle, 0)
    detached = int(os.read(r, 20))
    os.close(r)
    return attached, detached


def get_ppid():
    return os.getppid()


def get_ids():
    return mitogen.context_id, mitogen.parent_id, list(mitogen.parent_ids)


def raise_value_error(msg):
    raise ValueError(msg)


def sleep(secs):
    time.sleep(secs)
    return secs


def log_message(level, text):
    logging.getLogger('testlog').log(level, '%s', text)
    return True


def log_secret(secret):
    logging.getLogger('testlog').warning('secret is %s / %r', secret, secret)
    return str.__str__(secret) == 'hunter2'


def write_stdout(text):
    print(text)
    sys.stderr.write('err:' + text + '\n')
    return True


def return_unserializable():
    return object()


def open_fds():
    return sorted(int(x) for x in os.listdir('/proc/self/fd'))


def argv0():
    with open('/proc/self/cmdline', 'rb') as fp:
        return fp.read().split(b'\0')[0].decode()


def import_module(name):
    __import__(name)
    return sys.modules[name].__name__


def try_import(name):
    try:
        __import__(name)
        return True
    except ImportError:
        return False


def importer_requests():
    return mitogen._econtext.importer.get_module_requests


def python_version():
    return tuple(sys.version_info[:3])


def append_to(path, text):
    with open(path, 'a') as fp:
        fp.write(text)


class Klass(object):
    @classmethod
    def class_method(cls, x):
        return ('class', x)

    @staticmethod
    def static_method(x):
        return ('static', x)


@mitogen.core.takes_router
def start_local_child(router=None):
    """Make this context an intermediary: start a child, return its pid."""
    import mitogen.parent
    ctx = mitogen.parent.connect_context(router, 'local')
    return ctx.call(get_pid)


@mitogen.core.takes_router
def send_to(context_id, handle, router=None):
    """Send a message from this child to an arbitrary context (routing tests)."""
    recv = mitogen.core.Receiver(router)
    router.route(mitogen.core.Message.pickled('hi', dst_id=context_id, handle=handle, reply_to=recv.handle))
    try:
        return recv.get(timeout=5).unpickle()
    except mitogen.core.ChannelError as e:
        return 'dead: %s' % (e,)


@mitogen.core.takes_router
def send_raw_frame(length, router=None):
    """Write a frame header announcing `length` bytes on the parent stream."""
    stream = router.parent_stream
    header = mitogen.core.HEADER.pack(mitogen.core.HEADER_MAGIC, 0, mitogen.context_id, mitogen.context_id,
                                      1234, 0, length)
    os.write(stream.wfd, header)
    return True


def fetch_file(path, dest):
    import mitogen.service
    econtext = mitogen._econtext
    return mitogen.service.FileService.get_to_path(econtext.router.context_by_id(0), path, dest)["size"]


def fetch_file_sha(path):
    import hashlib
    import io
    import mitogen.service
    econtext = mitogen._econtext
    fp = io.BytesIO()
    mitogen.service.FileService.get(econtext.router.context_by_id(0), path, fp)
    return hashlib.sha1(fp.getvalue()).hexdigest()


@mitogen.core.takes_router
def wait_pushed_file(path, router=None):
    import mitogen.service
    pool = getattr(mitogen, '_test_pool', None)
    if pool is None:
        pool = mitogen._test_pool = mitogen.service.Pool(router, size=2)
    svc = pool.get_service(mitogen.service.PushFileService.name)
    return len(svc.get(path, timeout=10))


@mitogen.core.takes_router
def start_pool(router=None):
    import mitogen.service
    if getattr(mitogen, '_test_pool', None) is None:
        mitogen._test_pool = mitogen.service.Pool(router, size=2)
    return True


class Counter(mitogen.service.Service):
    def __init__(self, router):
        super().__init__(router)
        self.n = 0

    @mitogen.service.expose(mitogen.service.AllowAny())
    @mitogen.service.arg_spec({'by': int})
    def incr(self, by):
        self.n += by
        return self.n

    @mitogen.service.expose(mitogen.service.AllowParents())
    def parents_only(self):
        return 'ok'

    def not_exposed(self):
        return 'secret'


@mitogen.core.takes_router
def start_grandchild_with_router_local(router=None):
    """User code in a child calling router.local() directly."""
    ctx = router.local(name='gc-from-child')
    return ctx.call(get_ppid) == os.getpid(), ctx.name


@mitogen.core.takes_router
def send_bad_magic(router=None):
    os.write(router.parent_stream.wfd, b'\x00' * 64)
    return True


def module_attr(modname, attr):
    __import__(modname)
    return getattr(sys.modules[modname], attr)


@mitogen.core.takes_router
def start_lxc_positionally(container, lxc_attach_path, router=None):
    """User code in a child: router.lxc('name', ...) through the child's plain Router."""
    ctx = router.lxc(container, lxc_attach_path=lxc_attach_path, python_path=sys.executable)
    return ctx.call(os.getppid) == os.getpid()


def get_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
