"""The state lock and ansible-core's result queue cannot wait for each other.

Controller side, in a fresh interpreter with the engine installed and
ansible-core's own FinalQueue.  An executor thread holds the state lock
shared while it puts a result larger than the queue's pipe holds; the
strategy thread then asks for the lock exclusively, and the result thread,
which reads the pipe, takes it shared for the message before.  Unless the
blocked put gives the lock up, the three wait for each other for ever (seen
with 100 hosts: every executor stopped).
"""
import os
import subprocess
import sys

from tests.ansible import harness

SCRIPT = r"""
import threading, time
from ansible_mitogen import engine
engine.install()
from ansible_mitogen.engine.state_lock import STATE
from ansible.executor.task_queue_manager import FinalQueue

results = FinalQueue()
results.put("an earlier result")

def executor():
    with STATE.shared():
        results.put(b"x" * (1 << 20))  # blocks until the result thread reads

def strategy():
    with STATE.exclusive():
        pass

def result_thread():
    for _ in range(2):
        results.get()
        with STATE.shared():  # what ansible-core's result thread does per result
            pass

threads = [threading.Thread(target=f, daemon=True) for f in (executor, strategy, result_thread)]
for thread in threads:
    thread.start()
    time.sleep(0.3)
for thread in threads:
    thread.join(10)
stuck = [t.name for t in threads if t.is_alive()]
print("stuck" if stuck else "done", stuck)
"""


def test_a_result_put_blocked_on_a_full_pipe_does_not_hold_the_state_lock():
    env = dict(os.environ, PYTHONPATH=harness.REPO_ROOT)
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("done"), proc.stdout + proc.stderr
