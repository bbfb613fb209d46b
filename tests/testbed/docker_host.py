"""Test-bed targets that can run containers themselves: docker CLI + socket inside.

Used by the container connection tests and bench/bench_containers.py on the
controller.  A `DockerHostTestbed` target is an ordinary test-bed target
(sshd on 127.0.0.1, same users and key) whose container also has the
controller's docker CLI and daemon socket bind-mounted, so `docker exec`
run in an ssh context on the target enters sibling containers of this
machine: the "container behind an ssh host" layout, for real.
"""
import os
import shutil
import subprocess
from typing import List

from tests.testbed import image
from tests.testbed.bed import LABEL, Testbed

DOCKER_SOCKET = "/var/run/docker.sock"


def docker_cli() -> str:
    path = shutil.which("docker")
    if not path:
        raise RuntimeError("no docker CLI on this machine")
    return path


class DockerHostTestbed(Testbed):
    """Targets with /usr/local/bin/docker and the daemon socket mounted."""

    @property
    def extra_run_args(self) -> List[str]:  # type: ignore[override]
        return ["-v", "%s:%s" % (DOCKER_SOCKET, DOCKER_SOCKET), "-v", "%s:/usr/local/bin/docker:ro" % docker_cli()]

    def share_private_key(self) -> None:
        """Put the test-bed key at the same path inside every target, so an
        inventory's ssh settings also work from one target to another
        (mitogen_via chains ssh -> ssh)."""
        for t in self.targets:
            t.exec(["mkdir", "-p", os.path.dirname(self.private_key)])
            subprocess.run(["docker", "cp", self.private_key, "%s:%s" % (t.container, self.private_key)],
                           check=True, stdout=subprocess.DEVNULL)
            t.exec(["chmod", "600", self.private_key])


class Boxes:
    """Plain containers of the test-bed image (no sshd): things to enter
    with docker exec / setns.  Labelled like targets, so `remove_all()`
    and the testbed CLI clean them up too."""

    def __init__(self, session: str, names: List[str]) -> None:
        self.session = session
        self.names = names

    @classmethod
    def start(cls, session: str, n: int, distro: str = "bookworm") -> "Boxes":
        tag = image.ensure(distro)
        boxes = cls(session, ["%s-box-%d" % (session, i) for i in range(n)])
        try:
            for name in boxes.names:
                subprocess.run(
                    ["docker", "run", "-d", "--init", "--network", "none", "--name", name, "--hostname", name,
                     "--label", "%s=%s" % (LABEL, session), tag, "sleep", "infinity"],
                    check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except BaseException:
            boxes.remove()
            raise
        return boxes

    def remove(self) -> None:
        subprocess.run(["docker", "rm", "-f"] + self.names, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
