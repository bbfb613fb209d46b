"""Test-bed targets that can run containers themselves: docker CLI + socket inside.

Used by the container connection tests and bench/bench_containers.py on the
controller.  A `DockerHostTestbed` target is an ordinary test-bed target
(sshd on 127.0.0.1, same users and key) whose container also has the
controller's docker CLI and daemon socket bind-mounted, so `docker exec`
run in an ssh context on the target enters sibling containers of this
machine: the "container behind an ssh host" layout, for real.
"""
import shutil
from typing import List

from tests.testbed.bed import Testbed

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
