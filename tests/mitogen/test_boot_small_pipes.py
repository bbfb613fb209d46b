"""Boot must not depend on pipe capacity.

Linux gives a user's new pipes a single page once that user owns more than
fs.pipe-user-pages-soft pages of pipe buffers (and without CAP_SYS_RESOURCE
they cannot be enlarged).  Every container's root, and every container's
uid 1000, share one account on the host, so a busy test bed or fleet host
hits this.  Controller-side test against a real sshd: it exhausts the
unprivileged user's pipe quota inside the target, then logs in as that
user and boots a context.
"""
import os
import subprocess

import pytest

from tests.mitogen.test_method_ssh import FAST, ssh_kwargs
from tests.testbed import users

# Runs as the unprivileged user in the target: holds pipes until new ones
# come out at one page, prints their size, then waits for stdin to close.
HOLDER = """
import fcntl, os, resource, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held = []
while True:
    r, w = os.pipe()
    held += [r, w]
    size = fcntl.fcntl(w, 1032)  # F_GETPIPE_SZ
    if size < 65536:
        break
    if len(held) > 20000:
        sys.exit("pipe quota never reached")
print(size, flush=True)
sys.stdin.read()
"""


@pytest.fixture
def pipe_quota_exhausted(target):
    cmd = ["docker", "exec", "-i", "-u", users.UNPRIVILEGED.name, target.container,
           target.python, "-c", HOLDER]
    holder = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = holder.stdout.readline()
        if not line.strip().isdigit():
            pytest.fail("could not exhaust the pipe quota: %r" % (line,))
        yield int(line)
    finally:
        holder.stdin.close()
        holder.wait(10)


def test_boot_with_one_page_pipes(router, testbed, target, pipe_quota_exhausted):
    assert pipe_quota_exhausted < 16384
    ctx = router.ssh(**ssh_kwargs(testbed, target, username=users.UNPRIVILEGED.name,
                                  connect_timeout=FAST))
    assert ctx.call(os.getuid) != 0
    # Stage 2 reaped the payload writer it forked.
    assert ctx.call(own_children) == []


def own_children() -> list:
    """Pids whose parent is the calling process (runs in the target)."""
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as fp:
                    ppid = fp.read().rsplit(")", 1)[1].split()[1]
            except OSError:
                continue
            if ppid == me:
                found.append(int(entry))
    return found
