"""Round trips per task under mitogen_linear, counted exactly.

Controller-side: runs playbooks/_exec_round_trips.yml with
$MITOGEN_EXEC_TRACE set, so ActionModuleMixin logs every call it makes to
the target ('call' waits for a reply; 'send' does not), then checks the
per-task budget from issue 4: 1 round trip per simple task, 2 per copied or
templated file, after warm-up; 2 for the first use of a module.  The same
budget holds for link round trips: a second run goes through the test
bed's latency relay, whose event log (tests/testbed/turns.py) shows every
exchange on the wire, attributed to tasks by the trace's timestamps.
"""
import collections
import glob
import os

import pytest

from tests.ansible import harness
from tests.testbed import turns

BUDGET = {
    # a module new to the interpreter: its call carries the manifest and
    # the sources no earlier task sent (the multiplexer keeps count)
    "warm command": 1,
    "warm ping": 1,
    "simple 1": 1,
    "simple 2": 1,
    "simple ping": 1,
    "copy file": 2,
    "copy unchanged": 2,
    "template file": 2,
}


@pytest.mark.timeout(300)
def test_round_trips_per_task(inventory, tmp_path):
    trace = tmp_path / "trace.tsv"
    result = harness.run_playbook("_exec_round_trips.yml", inventory, strategy=harness.MITOGEN,
                                  env={"MITOGEN_EXEC_TRACE": str(trace)})
    assert result.rc == 0, result.describe()
    calls = collections.Counter()
    sends = collections.Counter()
    for line in trace.read_text().splitlines():
        task, kind, func = line.split("\t")[:3]
        (calls if kind == "call" else sends)[task] += 1
    assert calls["warm command"] >= 1  # the trace really records our calls
    over = {task: calls[task] for task, budget in BUDGET.items() if calls[task] > budget}
    assert not over, "round trips over budget: %r (all calls %r)" % (over, dict(calls))
    assert all(calls[task] >= 1 for task in BUDGET), dict(calls)
    # the file contents travel without a round trip of their own
    assert sends["copy file"] >= 1 and sends["template file"] >= 1


# Link round trips (exchanges through the latency relay) per task, after
# the connection is up: the calls above, and nothing else on the wire makes
# a task wait (import requests, acknowledgements, a reply split by the
# transport).
LINK_BUDGET = dict(BUDGET)
RELAY_DELAY_MS = 10
# From ssh's start to the first task's call: 8 are ssh's own (banners, key
# exchange, new keys, auth none/query/sign, channel open, exec), then the
# boot payload; init_child (with the modules it imports pushed ahead) may
# still be on the link when the call follows it.
BOOT_BUDGET = 10
# From ssh's start to the first task's result (issue 13): the first call
# leaves right behind init_child, without waiting for its answer, so the two
# share one round trip: 8 for ssh, the boot payload, init_child + the call.
FIRST_RESULT_BUDGET = 10


@pytest.mark.timeout(300)
def test_link_round_trips_per_task(testbed_factory, tmp_path):
    bed = testbed_factory(n=1, latency_ms=RELAY_DELAY_MS)
    trace = tmp_path / "trace.tsv"
    result = harness.run_playbook("_exec_round_trips.yml", bed.inventory, strategy=harness.MITOGEN,
                                  env={"MITOGEN_EXEC_TRACE": str(trace)})
    assert result.rc == 0, result.describe()
    starts = []
    for line in trace.read_text().splitlines():
        task, _, _, when = line.split("\t")
        starts.append((float(when), task))
    logs = glob.glob(os.path.join(bed.workdir, "events-*.txt"))
    assert logs, "the relay logged no events"
    arrivals = []
    for path in logs:
        arrivals += turns.exchanges(turns.read_events([path]), RELAY_DELAY_MS / 1000.0)
    counts = turns.per_window(sorted(arrivals), starts)
    assert counts["warm command"] >= 1, counts  # the windows really hold the run's exchanges
    boot = [when for when in arrivals if when < starts[0][0]]
    assert 8 <= len(boot) <= BOOT_BUDGET, "%d round trips before the first task" % len(boot)
    # the first task's window ends where the next task's first call starts
    second = min(when for when, task in starts if task != starts[0][1])
    first_result = [when for when in arrivals if when < second]
    # Unless the connect was done before the module was built (a slow
    # build, as ansible-core 2.21's first one here): then init_child's
    # answer came back alone while the link waited for the controller, and
    # the call, which could not leave earlier, has an exchange of its own.
    budget = FIRST_RESULT_BUDGET + (1 if len(boot) == BOOT_BUDGET else 0)
    assert len(first_result) <= budget, (
        "%d round trips from ssh's start to the first result (%d before the first call)"
        % (len(first_result), len(boot)))
    over = {task: counts[task] for task, budget in LINK_BUDGET.items() if counts[task] > budget}
    assert not over, "link round trips over budget: %r (all %r)" % (over, counts)


# Bytes sent up the link from ssh's start to the result of a fresh host's
# first `command` task (issue 13): ssh's own ~4 KB, the boot payload, the
# forwarded runner and the module with its module_utils.  Vanilla sends
# ~128 KB; we sent 143 KB before the forwarded code travelled minified.
FIRST_TASK_UP_BYTES = 80000


@pytest.mark.timeout(300)
def test_first_task_bytes_up(testbed_factory, tmp_path):
    bed = testbed_factory(n=1, latency_ms=1)
    playbook = tmp_path / "first_task.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - command: /bin/true\n")
    result = harness.run_playbook(str(playbook), bed.inventory, strategy=harness.MITOGEN)
    assert result.rc == 0, result.describe()
    events = turns.read_events(glob.glob(os.path.join(bed.workdir, "events-*.txt")))
    up = sum(event.size for event in events if event.direction == "up")
    assert 10000 < up <= FIRST_TASK_UP_BYTES, "%d bytes up for one task on a fresh host" % up
