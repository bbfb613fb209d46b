"""Tests of the test bed itself: users, sudo/su rules, relay, CLI, teardown.

Runs on the controller against real containers and real ssh; every other
suite relies on these guarantees, so they are checked end to end here.
"""
import glob
import json
import os
import select
import shlex
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.testbed import Testbed, bed, image, users

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ssh(target, user, command, tty=False, input=None, timeout=30):
    argv = target.ssh_argv(user) + (["-tt"] if tty else []) + [command]
    return subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout)


def converse(argv, prompt, answer, timeout=20.0):
    """Run argv, type `answer` when `prompt` appears; return (rc, all output)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, answered, deadline = b"", False, time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            output += chunk
        if not answered and prompt in output:
            proc.stdin.write(answer + b"\n")
            proc.stdin.flush()
            answered = True
    proc.stdin.close()
    return proc.wait(timeout=max(1.0, deadline - time.monotonic())), output.decode(errors="replace")


@pytest.mark.parametrize("user", [u.name for u in users.ALL if u is not users.NOLOGIN])
def test_ssh_key_login_as_each_user(target, user):
    result = ssh(target, user, "id -un")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == user


def test_target_hostname_is_its_container_name(target):
    result = ssh(target, users.SUDO_NOPW.name, "hostname; sudo -n true")
    assert result.stdout.strip() == target.container
    assert result.stderr == "", "sudo must resolve the hostname silently"


def test_nologin_user_cannot_run_a_shell(target):
    result = ssh(target, users.NOLOGIN.name, "echo reached")
    assert result.returncode != 0
    assert "reached" not in result.stdout


def test_sudo_without_password(target):
    result = ssh(target, users.SUDO_NOPW.name, "sudo -n id -u")
    assert (result.returncode, result.stdout.strip()) == (0, "0"), result.stderr


def test_sudo_with_password(target):
    refused = ssh(target, users.SUDO_PW.name, "sudo -n true")
    assert refused.returncode != 0
    wrong = ssh(target, users.SUDO_PW.name, "sudo -S -p PW: id -u", input="wrong\n" * 3)
    assert wrong.returncode != 0
    result = ssh(target, users.SUDO_PW.name, "sudo -S -p PW: id -u", input=users.SUDO_PW.password + "\n")
    assert (result.returncode, result.stdout.strip()) == (0, "0"), result.stderr


def test_requiretty_refuses_without_tty_and_works_with_one(target):
    refused = ssh(target, users.SUDO_TTY.name, "sudo -n id -u")
    assert refused.returncode != 0
    assert "tty" in refused.stderr
    result = ssh(target, users.SUDO_TTY.name, "sudo -n id -u", tty=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "0"


@pytest.mark.parametrize("who", [users.SU, users.ROOT], ids=lambda u: u.name)
def test_su_with_password_through_a_pty(target, who):
    argv = target.ssh_argv(users.UNPRIVILEGED.name) + ["-tt", "su %s -c 'id -un'" % who.name]
    rc, output = converse(argv, b"assword:", who.password.encode())
    assert rc == 0, output
    assert output.strip().splitlines()[-1].strip() == who.name


def test_su_refuses_a_wrong_password(target):
    argv = target.ssh_argv(users.UNPRIVILEGED.name) + ["-tt", "su %s -c 'id -un'" % users.SU.name]
    rc, output = converse(argv, b"assword:", b"not-the-password")
    assert rc != 0
    assert "failure" in output.lower()


def test_image_contents(target):
    script = "python3 --version; ls /usr/share/doc | wc -l; sshd -T | grep -iE '^(maxstartups|maxsessions|usedns) '"
    result = target.exec(["sh", "-c", script])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[0] == "Python %s" % image.DISTROS[target.distro] or lines[0].startswith(
        "Python %s." % image.DISTROS[target.distro])
    assert lines[1] == "0", "docs are trimmed from the image"
    assert "maxstartups 200" in result.stdout and "maxsessions 200" in result.stdout
    assert "usedns no" in result.stdout


@pytest.mark.parametrize("distro", ["bullseye", "trixie"])
def test_other_distros(testbed_factory, distro):
    if not (image.is_built(distro) or os.environ.get("MITOGEN_TESTBED_ALL_DISTROS")):
        pytest.skip("%s image not built (make images DISTROS=%s, or MITOGEN_TESTBED_ALL_DISTROS=1)" % (distro, distro))
    t = testbed_factory(n=1, distro=distro).targets[0]
    result = ssh(t, users.SUDO_NOPW.name, "python3 --version; sudo -n id -u")
    assert result.returncode == 0, result.stderr
    version, uid = result.stdout.split()[1:]
    assert version.startswith(image.DISTROS[distro] + ".") and uid == "0"
    refused = ssh(t, users.SUDO_TTY.name, "sudo -n true")
    assert refused.returncode != 0


def test_inventory_works_with_ansible(testbed):
    ansible = os.path.join(os.path.dirname(sys.executable), "ansible")
    result = subprocess.run([ansible, "-i", testbed.inventory, "all", "-m", "ping"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"ping": "pong"' in result.stdout


class EchoServer:
    """TCP echo server on 127.0.0.1, to time round trips through the relay."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn):
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)


def start_relay(port, delay_ms, stats, events=None):
    argv = [sys.executable, "-m", "tests.testbed.relay", "--delay-ms", str(delay_ms),
            "--stats", stats] + (["--events", events] if events else []) + ["127.0.0.1", str(port)]
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO_ROOT)


def round_trip(proc, payload=b"x" * 100):
    started = time.monotonic()
    proc.stdin.write(payload)
    proc.stdin.flush()
    received = b""
    while len(received) < len(payload):
        received += os.read(proc.stdout.fileno(), 65536)
    return time.monotonic() - started


def test_relay_event_log_counts_exchanges_not_chunks(tmp_path):
    """3 request/answer pairs are 3 exchanges; a burst of pipelined requests
    answered together is one more."""
    from tests.testbed import turns

    server = EchoServer()
    events = str(tmp_path / "events.txt")
    proc = start_relay(server.port, 20, str(tmp_path / "stats.json"), events)
    for _ in range(3):
        round_trip(proc)
    for _ in range(5):  # pipelined: nobody waits between them
        proc.stdin.write(b"p" * 10)
        proc.stdin.flush()
    received = b""
    while len(received) < 50:
        received += os.read(proc.stdout.fileno(), 65536)
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0
    logged = turns.read_events([events])
    assert sum(e.size for e in logged if e.direction == "up") == 350
    assert sum(e.size for e in logged if e.direction == "down") == 350
    assert len(turns.exchanges(logged, 0.020)) == 4


def test_relay_adds_the_requested_latency_and_counts_bytes(tmp_path):
    server = EchoServer()
    stats = str(tmp_path / "stats.json")
    proc = start_relay(server.port, 100, stats)
    round_trip(proc)  # connection set-up is not part of the measurement
    rtts = sorted(round_trip(proc) for _ in range(5))
    assert 0.19 <= rtts[2] <= 0.40, rtts  # 2 x 100 ms, one per direction (+ scheduling on a busy box)
    # Pipelined chunks share the delay instead of queueing behind each other.
    started = time.monotonic()
    for _ in range(20):
        proc.stdin.write(b"y" * 1000)
        proc.stdin.flush()
        time.sleep(0.005)
    received = b""
    while len(received) < 20000:
        received += os.read(proc.stdout.fileno(), 65536)
    assert time.monotonic() - started < 1.5  # serialized, it would take 20 x 200 ms = 4 s
    # Bulk data is not throttled by the delay: 4 MB in far less than 4 MB / 64 KB x 200 ms.
    bulk = 4 * 1024 * 1024
    started = time.monotonic()
    feeder = threading.Thread(target=lambda: (proc.stdin.write(b"z" * bulk), proc.stdin.flush()))
    feeder.start()
    received = 0
    while received < bulk:
        received += len(os.read(proc.stdout.fileno(), 1 << 20))
    feeder.join()
    assert time.monotonic() - started < 3.0
    proc.stdin.close()  # like ssh closing its end: the relay must exit
    assert proc.wait(timeout=10) == 0
    counts = json.load(open(stats))
    assert counts["to_target"] == counts["from_target"] == 6 * 100 + 20000 + bulk
    assert counts["delay_ms"] == 100


def test_ssh_through_the_latency_relay(testbed_factory):
    delay_ms = 100  # large enough to stand out from CPU noise on a loaded machine
    tb = testbed_factory(n=1, latency_ms=delay_ms)
    t = tb.targets[0]
    direct = ["-o", "ProxyCommand=" + shlex.join(tb.relay_argv(t, 0, os.path.join(tb.workdir, "direct.json")))]
    timings = {}
    for name, extra in (("direct", direct), ("delayed", [])):
        runs = []
        for _ in range(3):  # the fastest of three: load only ever adds time
            started = time.monotonic()
            result = subprocess.run(t.ssh_argv()[:1] + extra + t.ssh_argv()[1:] + ["true"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
            runs.append(time.monotonic() - started)
            assert result.returncode == 0, result.stderr
        timings[name] = min(runs)
    # An ssh login takes several round trips; each costs 2 x delay.
    assert timings["delayed"] - timings["direct"] > 3 * 2 * delay_ms / 1000.0, timings
    stats = glob.glob(os.path.join(tb.workdir, "relay-%s-*.json" % t.name))
    assert len(stats) == 3  # one per delayed ssh run
    for path in stats:
        counts = json.load(open(path))
        assert counts["to_target"] > 1000 and counts["from_target"] > 1000, counts
    time.sleep(0.3)
    assert not _processes_matching(tb.workdir), "relay outlived its ssh"


def _processes_matching(text):
    result = subprocess.run(["pgrep", "-f", text], stdout=subprocess.PIPE, text=True)
    return result.stdout.split()


def test_down_removes_every_container_and_relay():
    tb = Testbed.up(n=3, latency_ms=5)
    names = [t.container for t in tb.targets]
    assert sorted(bed._labelled_containers(tb.session)) == sorted(names)
    held = subprocess.Popen(tb.targets[0].ssh_argv() + ["sleep 600"], stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not _processes_matching(tb.workdir) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _processes_matching(tb.workdir), "relay never started"
        tb.down()
        assert bed._labelled_containers(tb.session) == []
        held.wait(timeout=15)  # the container vanished, so ssh ends...
        deadline = time.monotonic() + 10
        while _processes_matching(tb.workdir) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _processes_matching(tb.workdir), "...and so does its relay"
    finally:
        if held.poll() is None:
            held.kill()
    tb.down()  # idempotent


def test_cli_up_status_down(tmp_path):
    cli = [sys.executable, "-m", "tests.testbed", "--workdir", str(tmp_path)]
    run = dict(cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    up = subprocess.run(cli + ["up", "2"], **run)
    try:
        assert up.returncode == 0, up.stdout
        assert "2 targets up" in up.stdout
        reach = subprocess.run(["ssh", "-F", str(tmp_path / "ssh_config"), "target-1", "hostname"], **run)
        assert reach.returncode == 0, reach.stdout
        status = subprocess.run(cli + ["status"], **run)
        assert sum(name in status.stdout for name in ("-target-0", "-target-1")) == 2, status.stdout
    finally:
        down = subprocess.run(cli + ["down"], **run)
    assert "removed 2 containers" in down.stdout, down.stdout
    session = json.load(open(tmp_path / "state.json"))["sessions"]
    assert session == []
