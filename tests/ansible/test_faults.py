"""Fault matrix: real ansible-playbook runs against real targets while things break.

Controller side.  Each case runs a play on two test-bed targets, breaks the
first one in a particular way (its ssh killed mid-task or mid-transfer, its
interpreter SIGKILLed, the whole host frozen, a multiplexer SIGKILLed, a
login shell that hangs or prints junk, a full disk, SIGTERM of
ansible-playbook) and checks, under our strategy and where cheap under
vanilla too:

* the faulty host ends UNREACHABLE or FAILED like under vanilla, the other
  host's play goes on, and the run ends in bounded time;
* nothing is left behind: no process of the run on the controller
  (processes inherit a marker in their environment) or on the targets, no
  temporary file, no half-written destination.

The 1 GB case copies and fetches a file and checks the controller
processes' peak memory stays flat.  Kept to a few minutes in total.
"""
import os
import re
import signal
import subprocess
import time
import uuid
from typing import Callable, Dict, List, Optional

import pytest

from tests.ansible import harness
from tests.ansible.test_process_lifecycle import _cmdline, _comm, _marked_pids

pytestmark = pytest.mark.timeout(300)

BOTH = [harness.VANILLA, harness.MITOGEN]


@pytest.fixture(scope="module")
def pair(testbed_factory):
    """Two fresh targets: [0] gets the fault, [1] must not notice."""
    return testbed_factory(n=2)


# -- helpers ---------------------------------------------------------------

def _wait(predicate: Callable[[], object], timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def _target_procs(target) -> List[str]:
    """Processes on a target other than its sshd listener and our probe."""
    out = target.exec(["ps", "-eo", "pid,stat,args", "--no-headers"]).stdout.splitlines()
    return [line for line in out if not re.search(r"sshd: /usr/sbin/sshd|sshd -D|/usr/sbin/sshd\s*$| ps -eo", line)
            and "sleep infinity" not in line and line.split()[2:3] != ["tail"]]


def _target_files(target, pattern: str) -> List[str]:
    out = target.exec(["sh", "-c", "ls -a %s 2>/dev/null" % pattern]).stdout
    return [line for line in out.split() if line not in (".", "..")]


def _as_a_terminal_job() -> None:
    # A job a non-interactive shell starts in the background (CI runners,
    # `make test`'s second lane) inherits SIGINT and SIGQUIT ignored, and
    # Python then installs no KeyboardInterrupt handler; a terminal's job
    # has them at their defaults, which is what a Ctrl+C test is about.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


class Run:
    """One ansible-playbook in its own session, with a marker in its environment."""

    def __init__(self, tmp_path, pair, playbook: str, strategy: str, extra_env: Optional[Dict[str, str]] = None,
                 args: List[str] = ()):
        self.marker = "am-fault-%s" % uuid.uuid4().hex
        self.strategy = strategy
        path = tmp_path / ("play-%s.yml" % self.marker)
        path.write_text(playbook)
        env = harness.environment(strategy, dict(extra_env or {}, AM_TEST_MARKER=self.marker))
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [harness.ansible_bin(), "-i", pair.inventory, str(path)] + list(args),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True, cwd=harness.REPO_ROOT, preexec_fn=_as_a_terminal_job)
        self.out = ""

    def pids(self) -> List[int]:
        return [pid for pid in _marked_pids(self.marker) if pid != self.proc.pid]

    def finish(self, timeout: float = 120) -> Dict[str, Dict[str, int]]:
        try:
            self.out = self.proc.communicate(timeout=timeout)[0]
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.out = self.proc.communicate()[0]
            pytest.fail("ansible-playbook (%s) hung past %ds:\n%s" % (self.strategy, timeout, self.out[-4000:]))
        self.seconds = time.monotonic() - self.started
        return harness.parse_recap(self.out)

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.communicate()

    def assert_nothing_left(self, pair):
        left = _wait(lambda: not self.pids(), 20) or self.pids()
        assert left is True, "controller processes left (%s): %s\n%s" % (
            self.strategy, [_cmdline(p) for p in self.pids()], self.out[-3000:])
        for target in pair.targets:
            if self.strategy == harness.VANILLA:
                # Vanilla leaves the module running when its ssh dies (that
                # is its behaviour, not ours to test): clear it for the next case.
                for pattern in ("sshd: root@", "python3", "sleep"):
                    target.exec(["pkill", "-KILL", "-f", pattern])
                continue
            procs = _wait(lambda: not _target_procs(target), 30) or _target_procs(target)
            assert procs is True, "processes left on %s (%s): %s" % (target.name, self.strategy, procs)


def _ssh_pids_for(run: Run, target) -> List[int]:
    port = str(target.port)
    return [pid for pid in run.pids()
            if _cmdline(pid).startswith("ssh ") and re.search(r"(-p |Port=|ansible_port=|-o Port )%s\b" % port,
                                                               _cmdline(pid)) or
            (_cmdline(pid).startswith("ssh ") and " %s " % port in _cmdline(pid))]


def _kill_all(pids: List[int], sig=signal.SIGKILL):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def _expect(recap, faulty, healthy, fault_states, healthy_ok):
    bad = recap.get(faulty.name, {})
    assert any(bad.get(state, 0) for state in fault_states), recap
    assert recap.get(healthy.name, {}).get("ok", 0) >= healthy_ok, recap
    assert not recap.get(healthy.name, {}).get("failed") and not recap.get(healthy.name, {}).get("unreachable")


# -- cases -----------------------------------------------------------------

TWO_STEP = """
- hosts: all
  gather_facts: false
  tasks:
    - command: sleep {first}
      when: inventory_hostname == '{faulty}'
    - command: echo healthy-goes-on
"""


@pytest.mark.parametrize("strategy", BOTH)
def test_ssh_killed_mid_task(tmp_path, pair, strategy):
    faulty, healthy = pair.targets
    run = Run(tmp_path, pair, TWO_STEP.format(first=60, faulty=faulty.name), strategy)
    try:
        pids = _wait(lambda: _ssh_pids_for(run, faulty) if "sleep 60" in "".join(_target_procs(faulty)) else [],
                     60)
        assert pids, "the task never started on %s" % faulty.name
        _kill_all(pids)
        recap = run.finish()
    finally:
        run.kill()
    _expect(recap, faulty, healthy, ("unreachable", "failed"), 1)
    assert run.seconds < 60
    run.assert_nothing_left(pair)


COPY_BIG = """
- hosts: all
  gather_facts: false
  tasks:
    - copy: src={src} dest={dest}
      when: inventory_hostname == '{faulty}'
    - command: echo healthy-goes-on
"""


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """100 MiB of incompressible data (ssh compression must not make it small)."""
    path = tmp_path_factory.mktemp("big") / "big.bin"
    with open(path, "wb") as fp:
        block = os.urandom(1024 * 1024)
        for i in range(100):
            fp.write(block[i:] + block[:i])
    return str(path)


def test_ssh_killed_mid_file_transfer(tmp_path, pair, big_file):
    faulty, healthy = pair.targets
    dest = "/root/fault-dest.bin"
    faulty.exec(["rm", "-f", dest])
    run = Run(tmp_path, pair, COPY_BIG.format(src=big_file, dest=dest, faulty=faulty.name), harness.MITOGEN)
    try:
        started = _wait(lambda: _target_files(faulty, "/root/.fault-dest.bin.* /root/.mitogen-* /root/.ansible/tmp/*"),
                        60, 0.05)
        assert started, "the transfer never started"
        _kill_all(_ssh_pids_for(run, faulty))
        recap = run.finish()
    finally:
        run.kill()
    _expect(recap, faulty, healthy, ("unreachable", "failed"), 1)
    run.assert_nothing_left(pair)
    assert _target_files(faulty, dest) == [], "half-written destination"
    assert _wait(lambda: not _target_files(faulty, "/root/.mitogen-* /root/.fault-dest*"), 10), \
        _target_files(faulty, "/root/.mitogen-* /root/.fault-dest*")


@pytest.mark.parametrize("strategy", BOTH)
def test_target_interpreter_sigkilled(tmp_path, pair, strategy):
    faulty, healthy = pair.targets
    run = Run(tmp_path, pair, TWO_STEP.format(first=60, faulty=faulty.name), strategy)
    try:
        assert _wait(lambda: "sleep 60" in "".join(_target_procs(faulty)), 60)
        # The interpreter running the task: the parent of `sleep 60`.
        faulty.exec(["sh", "-c", "kill -9 $(ps -o ppid= -C sleep | head -1)"])
        recap = run.finish()
    finally:
        run.kill()
    _expect(recap, faulty, healthy, ("unreachable", "failed"), 1)
    # A SIGKILLed interpreter cannot stop what it started: the command it
    # was running is orphaned, as under vanilla.  Nothing else may remain.
    if strategy == harness.MITOGEN:
        assert _wait(lambda: [p for p in _target_procs(faulty) if "sleep 60" not in p] == [], 20), \
            _target_procs(faulty)
    faulty.exec(["pkill", "-KILL", "sleep"])
    run.assert_nothing_left(pair)


FROZEN = """
- hosts: all
  gather_facts: false
  tasks:
    - command: sleep 2
      timeout: 8
      ignore_unreachable: true
      ignore_errors: true
    - command: echo goes-on
      when: inventory_hostname != '{faulty}'
"""


@pytest.mark.parametrize("strategy", BOTH)
def test_target_host_frozen(tmp_path, pair, strategy):
    """SIGSTOP of the target's sshd sessions and interpreter: the task's
    timeout still ends it, and the other host's play goes on."""
    faulty, healthy = pair.targets
    run = Run(tmp_path, pair, FROZEN.format(faulty=faulty.name), strategy)
    try:
        assert _wait(lambda: "sleep 2" in "".join(_target_procs(faulty)), 60, 0.05)
        for pattern in ("sshd: root", "python", "sleep"):
            faulty.exec(["pkill", "-STOP", "-f", pattern])
        recap = run.finish(timeout=90)
    finally:
        for pattern in ("sshd: root", "python", "sleep"):
            faulty.exec(["pkill", "-CONT", "-f", pattern])
        run.kill()
    assert run.seconds < 60, run.out[-3000:]
    bad = recap.get(faulty.name, {})
    assert bad.get("failed") or bad.get("ignored") or bad.get("unreachable"), recap
    assert recap.get(healthy.name, {}).get("ok", 0) >= 2, recap
    run.assert_nothing_left(pair)


def test_multiplexer_sigkilled_mid_run(tmp_path, pair):
    faulty, healthy = pair.targets
    play = """
- hosts: all
  gather_facts: false
  tasks:
    - command: sleep 5
    - command: echo after
"""
    run = Run(tmp_path, pair, play, harness.MITOGEN, {"MITOGEN_CPU_COUNT": "2"})
    try:
        assert _wait(lambda: "sleep 5" in "".join(_target_procs(faulty)), 60, 0.05)
        # The multiplexer owning the faulty host: the parent of its ssh.
        muxes = [_ppid(pid) for pid in _ssh_pids_for(run, faulty)]
        assert muxes and _comm(muxes[0]) == "ansible-mitogen", [_cmdline(p) for p in muxes]
        os.kill(muxes[0], signal.SIGKILL)
        recap = run.finish()
    finally:
        run.kill()
    totals = dict((k, sum(v.get(k, 0) for v in recap.values())) for k in ("unreachable", "failed", "ok"))
    assert totals["unreachable"] + totals["failed"] >= 1, recap
    assert run.seconds < 90
    run.assert_nothing_left(pair)


def _ppid(pid: int) -> int:
    try:
        with open("/proc/%d/stat" % pid) as fp:
            return int(fp.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


LOGIN_SHELL_PLAY = """
- hosts: all
  gather_facts: false
  vars:
    ansible_user: "{{{{ 'faultuser' if inventory_hostname == '{faulty}' else 'root' }}}}"
    ansible_timeout: 2
  tasks:
    - command: echo hello
"""


@pytest.fixture
def login_shell(pair):
    """Give `faultuser` on the faulty target a login shell of our choosing."""
    faulty = pair.targets[0]
    faulty.exec(["sh", "-c", "id faultuser >/dev/null 2>&1 || useradd -m faultuser; "
                 "mkdir -p ~faultuser/.ssh; cp /root/.ssh/authorized_keys ~faultuser/.ssh/; "
                 "chown -R faultuser ~faultuser/.ssh"])

    def install(body: str) -> None:
        faulty.exec(["sh", "-c", "cat > /usr/local/bin/faultshell && chmod 755 /usr/local/bin/faultshell && "
                     "usermod -s /usr/local/bin/faultshell faultuser"], input="#!/bin/sh\n" + body + "\n")
    yield install
    faulty.exec(["usermod", "-s", "/bin/sh", "faultuser"])
    faulty.exec(["pkill", "-u", "faultuser"])


@pytest.mark.parametrize("strategy", BOTH)
def test_login_shell_prints_junk_before_python(tmp_path, pair, login_shell, strategy):
    faulty, healthy = pair.targets
    login_shell('echo "JUNK before python"; echo "MGN:U"; printf "\\033[0m"; exec /bin/sh "$@"')
    run = Run(tmp_path, pair, LOGIN_SHELL_PLAY.format(faulty=faulty.name), strategy)
    try:
        recap = run.finish()
    finally:
        run.kill()
    assert recap.get(faulty.name, {}).get("ok") == 1, run.out[-3000:]
    assert recap.get(healthy.name, {}).get("ok") == 1
    run.assert_nothing_left(pair)


def test_login_shell_hangs(tmp_path, pair, login_shell):
    faulty, healthy = pair.targets
    login_shell("exec sleep 3600")
    run = Run(tmp_path, pair, LOGIN_SHELL_PLAY.format(faulty=faulty.name), harness.MITOGEN)
    try:
        recap = run.finish(timeout=120)
    finally:
        run.kill()
    assert recap.get(faulty.name, {}).get("unreachable") == 1, run.out[-3000:]
    assert recap.get(healthy.name, {}).get("ok") == 1
    # The hanging login shell is the target's own (vanilla leaves it too).
    faulty.exec(["pkill", "-KILL", "-u", "faultuser"])
    run.assert_nothing_left(pair)


DISK_FULL = """
- hosts: all
  gather_facts: false
  tasks:
    - copy: src={src} dest=/dev/shm/full.bin
      when: inventory_hostname == '{faulty}'
      ignore_errors: true
    - command: echo goes-on
"""


@pytest.mark.parametrize("strategy", BOTH)
def test_disk_full_during_copy(tmp_path, pair, big_file, strategy):
    """/dev/shm is a 64 MiB tmpfs in the containers: a 100 MiB copy fills it."""
    faulty, healthy = pair.targets
    run = Run(tmp_path, pair, DISK_FULL.format(src=big_file, faulty=faulty.name), strategy)
    try:
        recap = run.finish()
    finally:
        run.kill()
    # FAILED (ignored: ok counts it too) like vanilla; the next task runs.
    assert recap.get(faulty.name, {}).get("ignored") == 1, run.out[-3000:]
    assert recap.get(faulty.name, {}).get("ok") == 2
    assert "No space left on device" in run.out or "ENOSPC" in run.out or "space" in run.out, run.out[-3000:]
    assert recap.get(healthy.name, {}).get("ok") == 1
    assert _target_files(faulty, "/dev/shm/*") == [], "left in /dev/shm: %s" % _target_files(faulty, "/dev/shm/*")
    run.assert_nothing_left(pair)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_ansible_playbook_terminated(tmp_path, pair, signum):
    run = Run(tmp_path, pair, TWO_STEP.format(first=60, faulty=pair.targets[0].name), harness.MITOGEN)
    try:
        assert _wait(lambda: "sleep 60" in "".join(_target_procs(pair.targets[0])), 60)
        os.killpg(run.proc.pid, signum)
        run.finish(timeout=60)
    finally:
        run.kill()
    assert run.proc.returncode != 0
    run.assert_nothing_left(pair)


GIGABYTE = """
- hosts: all
  gather_facts: false
  vars:
    mitogen_ssh_compression: false  # random data: compressing it would only measure zlib
  tasks:
    - copy: src={src} dest=/root/gig.bin
      when: inventory_hostname == '{faulty}'

    - fetch: src=/root/gig.bin dest={back} flat=true
      when: inventory_hostname == '{faulty}'

    - file: path=/root/gig.bin state=absent
"""


def _peak_rss_kib(pids: List[int]) -> Dict[int, int]:
    out = {}
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as fp:
                for line in fp:
                    if line.startswith("VmHWM:"):
                        out[pid] = int(line.split()[1])
        except OSError:
            pass
    return out


def test_one_gigabyte_copy_and_fetch_with_flat_memory(tmp_path, pair, tmp_path_factory):
    faulty = pair.targets[0]
    src = tmp_path_factory.mktemp("gig") / "gig.bin"
    with open(src, "wb") as fp:
        block = os.urandom(4 * 1024 * 1024)
        for i in range(256):
            fp.write(block[i:] + block[:i])
    back = tmp_path / "back.bin"
    run = Run(tmp_path, pair, GIGABYTE.format(src=src, back=back, faulty=faulty.name), harness.MITOGEN)
    peaks: Dict[int, int] = {}
    try:
        while run.proc.poll() is None:
            peaks.update(_peak_rss_kib(run.pids() + [run.proc.pid]))
            time.sleep(0.2)
        recap = run.finish()
    finally:
        run.kill()
    assert recap.get(faulty.name, {}).get("failed", 0) == 0, run.out[-3000:]
    assert os.path.getsize(back) == os.path.getsize(src)
    with open(src, "rb") as a, open(back, "rb") as b:
        while True:
            x, y = a.read(1 << 22), b.read(1 << 22)
            assert x == y
            if not x:
                break
    worst = max(peaks.values())
    assert worst < 400 * 1024, "a controller process peaked at %d MiB" % (worst // 1024)
    os.unlink(back)
    os.unlink(src)
    run.assert_nothing_left(pair)
