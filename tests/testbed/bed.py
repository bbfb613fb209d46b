"""`Testbed` and `Target`: a set of running target containers with sshd.

Used by pytest fixtures, benchmarks and the `python -m tests.testbed` CLI;
runs on the controller.  Containers share the host network and each sshd
listens on 127.0.0.1 at its own port.  Names carry a per-session prefix and
a label, so concurrent test sessions on one machine never touch each
other's targets.
"""
import atexit
import concurrent.futures
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from typing import List, Optional, Sequence

from tests.testbed import cache, image

LABEL = "mitogen-testbed"
RELAY_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "relay.py")
START_PARALLELISM = 8
READY_TIMEOUT = 60.0


class Target:
    """One container running sshd on 127.0.0.1:port."""

    def __init__(self, testbed: "Testbed", name: str, container: str, port: int, distro: str):
        self.testbed = testbed
        self.name = name
        self.container = container
        self.port = port
        self.distro = distro
        self.host = "127.0.0.1"
        self.python = "/usr/bin/python3"

    def __repr__(self) -> str:
        return "Target(%s, %s:%d, %s)" % (self.name, self.host, self.port, self.container)

    def exec(self, argv: Sequence[str], user: str = "root", input: Optional[str] = None,
             timeout: float = 60) -> subprocess.CompletedProcess:
        """Run argv in the container via `docker exec` (not ssh); text output."""
        cmd = ["docker", "exec"] + (["-i"] if input is not None else []) + ["-u", user, self.container]
        return subprocess.run(cmd + list(argv), input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout)

    def ssh_argv(self, user: str = "root") -> List[str]:
        """ssh command line reaching this target as `user`; append the remote command."""
        return ["ssh", "-F", self.testbed.ssh_config, "-l", user, self.name]


class Testbed:
    """A group of targets plus the ssh_config and inventory that reach them."""

    __test__ = False  # not a pytest test class despite the name
    #: More `docker run` arguments for every target (subclasses: mounts, ...).
    extra_run_args: Sequence[str] = ()

    def __init__(self, session: str, distro: str, latency_ms: int, workdir: str):
        self.session = session
        self.distro = distro
        self.latency_ms = latency_ms
        self.workdir = workdir
        self.targets: List[Target] = []
        self.private_key, _ = cache.key_pair()
        self.ssh_config = os.path.join(workdir, "ssh_config")
        self.inventory = os.path.join(workdir, "inventory.ini")
        self._closed = False
        self._own_workdir = False

    @classmethod
    def up(cls, n: int = 1, distro: str = "bookworm", latency_ms: int = 0,
           workdir: Optional[str] = None, session: Optional[str] = None,
           first_index: int = 0, log=None) -> "Testbed":
        """Start n targets in parallel and wait until each sshd shows its banner."""
        log = log or (lambda msg: print(msg, file=sys.stderr))
        tag = image.ensure(distro, log=log)
        session = session or "tb%s" % uuid.uuid4().hex[:8]
        own_workdir = workdir is None
        workdir = workdir or tempfile.mkdtemp(prefix="mitogen-testbed-%s-" % session)
        os.makedirs(workdir, exist_ok=True)
        tb = cls(session, distro, latency_ms, workdir)
        tb._own_workdir = own_workdir
        atexit.register(tb.down)
        try:
            tb._start(tag, range(first_index, first_index + n))
            tb.write_files()
        except BaseException:
            tb.down()
            raise
        return tb

    def __enter__(self) -> "Testbed":
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    def _start(self, tag: str, indices: range) -> None:
        with concurrent.futures.ThreadPoolExecutor(START_PARALLELISM) as pool:
            futures = [pool.submit(self._start_one, tag, i) for i in indices]
            errors = []
            for future in futures:
                try:
                    self.targets.append(future.result())
                except Exception as exc:  # keep collecting so every started container is known
                    errors.append(exc)
        self.targets.sort(key=lambda t: int(t.name.rsplit("-", 1)[1]))
        if errors:
            raise errors[0]

    def _start_one(self, tag: str, index: int, attempts: int = 5) -> Target:
        """Run one container; retry on another port if a concurrent session won the race."""
        name = "target-%d" % index
        container = "%s-%s" % (self.session, name)
        for _ in range(attempts):
            port = _free_port()
            _docker_rm([container])
            script = "mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e -p %d -o ListenAddress=127.0.0.1" % port
            proc = subprocess.run(
                # Own hostname (resolvable, or sudo complains) so targets are told apart.
                ["docker", "run", "-d", "--init", "--network", "host", "--name", container,
                 "--hostname", container, "--add-host", "%s:127.0.0.1" % container,
                 "--label", "%s=%s" % (LABEL, self.session), "--label", "%s.port=%d" % (LABEL, port)]
                + list(self.extra_run_args) + [tag, "/bin/sh", "-c", script],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )
            if proc.returncode != 0:
                raise RuntimeError("docker run %s failed: %s" % (container, proc.stderr.strip()))
            # A banner alone could come from a concurrent session's sshd that
            # won the port; our own sshd must also say it listens there.
            if _wait_banner(port, container) and _listening(container, port):
                return Target(self, name, container, port, self.distro)
        raise RuntimeError("sshd in %s never came up: %s" % (container, _logs(container, "20")))

    def add(self, n: int = 1) -> List[Target]:
        """Start n more targets in this testbed; rewrites ssh_config and inventory."""
        first = 1 + max((int(t.name.rsplit("-", 1)[1]) for t in self.targets), default=-1)
        before = set(self.targets)
        self._start(image.tag(self.distro), range(first, first + n))
        self.write_files()
        return [t for t in self.targets if t not in before]

    def relay_argv(self, target: Target, delay_ms: int, stats_file: str,
                   events_file: Optional[str] = None) -> List[str]:
        """ProxyCommand argv running the latency relay in front of `target`.

        The relay runs by file path so the command works from any cwd;
        "{pid}" in stats_file (and events_file, the chunk log that
        tests/testbed/turns.py reads) becomes the relay's pid (one file per
        connection).
        """
        events = ["--events", events_file] if events_file else []
        return [sys.executable, RELAY_PATH, "--delay-ms", str(delay_ms),
                "--stats", stats_file] + events + [target.host, str(target.port)]

    def proxy_command(self, target: Target) -> Optional[str]:
        """ProxyCommand string for ssh_config/inventory, or None without latency."""
        if not self.latency_ms:
            return None
        stats = os.path.join(self.workdir, "relay-%s-{pid}.json" % target.name)
        events = os.path.join(self.workdir, "events-%s-{pid}.txt" % target.name)
        return shlex.join(self.relay_argv(target, self.latency_ms, stats, events))

    def write_files(self) -> None:
        from tests.testbed import files
        files.write_ssh_config(self)
        files.write_inventory(self)

    def down(self) -> None:
        """Remove every container of this testbed (idempotent)."""
        if self._closed:
            return
        self._closed = True
        names = [t.container for t in self.targets]
        # Containers whose start failed halfway are found by label.
        names += _labelled_containers(self.session)
        _docker_rm(sorted(set(names)))
        self.targets = []
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_banner(port: int, container: str) -> bool:
    """True once sshd answers with its banner; False if the container died."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.settimeout(5)
                if sock.recv(64).startswith(b"SSH-"):
                    return True
        except OSError:
            pass
        if not _running(container):
            return False
        time.sleep(0.1)
    return False


def _listening(container: str, port: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if "Server listening on 127.0.0.1 port %d." % port in _logs(container):
            return _running(container)
        time.sleep(0.1)
    return False


def _running(container: str) -> bool:
    proc = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", container],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return proc.stdout.strip() == "true"


def _logs(container: str, tail: str = "all") -> str:
    proc = subprocess.run(["docker", "logs", "--tail", tail, container],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc.stdout.strip()


def _labelled_containers(session: Optional[str] = None) -> List[str]:
    selector = "%s=%s" % (LABEL, session) if session else LABEL
    proc = subprocess.run(["docker", "ps", "-a", "--filter", "label=" + selector, "--format", "{{.Names}}"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return proc.stdout.split()


def _docker_rm(names: List[str]) -> None:
    if names:
        subprocess.run(["docker", "rm", "-f"] + names, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def remove_all() -> List[str]:
    """Remove every test-bed container on this machine, of any session."""
    names = _labelled_containers()
    _docker_rm(names)
    return names
