"""Per-machine cache of the test bed: ssh key pair, rootfs tarballs, locks.

Used by the image builder and by `Testbed`; runs on the controller.  The
cache outlives test sessions so images and keys are built once per machine,
and several concurrent sessions share it under an fcntl lock.
"""
import contextlib
import fcntl
import os
import subprocess
from typing import Iterator, Tuple


def cache_dir() -> str:
    """Directory holding everything the test bed keeps between sessions."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    path = os.environ.get("MITOGEN_TESTBED_CACHE") or os.path.join(base, "mitogen-testbed")
    os.makedirs(path, exist_ok=True)
    return path


@contextlib.contextmanager
def locked(name: str) -> Iterator[None]:
    """Hold an exclusive lock shared by all processes on this machine."""
    path = os.path.join(cache_dir(), name + ".lock")
    with open(path, "a") as fp:
        fcntl.flock(fp, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fp, fcntl.LOCK_UN)


def key_pair() -> Tuple[str, str]:
    """(private key path, public key text) of the test bed, created once."""
    private = os.path.join(cache_dir(), "id_ed25519")
    with locked("key"):
        if not os.path.exists(private + ".pub"):
            for stale in (private, private + ".pub"):
                if os.path.exists(stale):
                    os.unlink(stale)
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mitogen-testbed", "-f", private],
                check=True,
            )
    os.chmod(private, 0o600)
    with open(private + ".pub") as fp:
        return private, fp.read().strip()
