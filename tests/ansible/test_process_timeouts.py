"""Connect timeouts count from when an attempt starts, not from queueing.

Controller-side.  One multiplexer with one service thread must connect two
hosts one after the other: first a "black hole" that accepts TCP but never
speaks ssh (it uses up its whole timeout), then the real target.  The real
target must still get its full timeout and be reached; the black hole is
UNREACHABLE within bounded time.
"""
import socket
import threading

import pytest

from tests.ansible import harness

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - command: echo reached
      register: out
    - assert:
        that: out.stdout == "reached"
"""


@pytest.fixture
def black_hole():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.timeout(180)
def test_queued_connect_gets_its_full_timeout(tmp_path, testbed, black_hole):
    target = testbed.targets[0]
    with open(testbed.inventory) as fp:
        real = [line for line in fp.read().splitlines() if line.startswith(target.name + " ")][0]
    # The hole comes first in the inventory, so its task (and its connect
    # request) starts first and holds the only service thread.
    inventory = tmp_path / "inv.ini"
    inventory.write_text("[all]\na-hole ansible_host=127.0.0.1 ansible_port=%d ansible_user=root "
                         "ansible_python_interpreter=/usr/bin/python3\n%s\n" % (black_hole, real))
    playbook = tmp_path / "pb.yml"
    playbook.write_text(PLAYBOOK)
    result = harness.run_playbook(
        str(playbook), str(inventory), strategy=harness.MITOGEN,
        args=["--forks", "2", "-e", "ansible_ssh_timeout=4", "-e", "ansible_host_key_checking=false"],
        env={"MITOGEN_CPU_COUNT": "1", "MITOGEN_POOL_SIZE": "1"},
    )
    assert result.recap["a-hole"]["unreachable"] == 1, result.describe()
    assert result.recap[target.name]["ok"] == 2, result.describe()
    assert result.recap[target.name]["unreachable"] == 0, result.describe()
    assert result.seconds < 120
