"""Connection method "fork": a child made by os.fork() of the calling process.

Runs wherever router.fork() is called.  The child keeps every module already
imported (no bootstrap, no exec) and gets a fresh broker and router talking
to its parent over a socketpair.
"""
import os
import signal
import socket

import mitogen
import mitogen.core
import mitogen.parent


class Options(mitogen.parent.Options):
    def __init__(self, on_fork=None, on_start=None, **kwargs):
        super().__init__(**kwargs)
        self.on_fork = on_fork
        self.on_start = on_start


def _close_inherited_fds(keep):
    # Other children's sockets must not stay open here, or they would not
    # see EOF when their parent exits.
    for name in os.listdir('/proc/self/fd'):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


class Connection(mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'fork'

    def _config(self, context_id, name):
        return dict(self.child_config(context_id, name), log_level=10 if self.options.debug else 20)

    def _child(self, sock, context_id):
        self.pid = os.getpid()
        try:
            fd = sock.detach()
            _close_inherited_fds((fd,))
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            mitogen.parent.Reaper._tracked.clear()
            if self.options.on_fork:
                self.options.on_fork()
            name = self.options.name or self.default_name()
            econtext = mitogen.core.build_child(self._config(context_id, name),
                                                fd, os.dup(fd))
            econtext.router.parent_stream.start()
            if self.options.on_start:
                self.options.on_start(econtext)
            mitogen.core.run_child(econtext)
        finally:
            os._exit(1)

    def connect(self, context_id):
        parent_sock, child_sock = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            parent_sock.close()
            self._child(child_sock, context_id)
        child_sock.close()
        self.pid = pid
        name = self.options.name or self.default_name()
        context = self.router.context_by_id(context_id, name=name)
        context.name = name
        rfd = parent_sock.detach()
        wfd = os.dup(rfd)
        mitogen.core.set_cloexec(rfd)
        mitogen.core.set_cloexec(wfd)
        stream = mitogen.core.Stream(self.router, rfd, wfd, remote_id=context_id, name=name)
        stream.max_message_size = self.options.max_child_message_size
        self.router.register(context, stream)
        reaper = mitogen.parent.Reaper(self.router.broker, pid, name)
        mitogen.core.listen(stream, 'disconnect', reaper.start)
        stream.start()
        return context
