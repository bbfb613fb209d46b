"""Executor processes: tasks beyond a CPU's share run in forked children.

Controller side, against three real targets.  engine/where.yml records the
controller process that ran each host's task (engine_where action).  By
default every task of a small run runs in the strategy process; with
MITOGEN_LOCAL_EXECUTORS=1, one host's task per step runs there and the
others in executor processes forked from it, and facts set in one task
reach the next wherever it runs.  An executor process that dies stops the
run as a dead worker stops vanilla's.  (Semantics on executor processes,
event for event: test_engine_semantics.py.)
"""
import json
import os
import subprocess

from tests.ansible import harness
from tests.ansible.test_engine_semantics import ENGINE_DIR

DEAD_WORKER = "A worker was found in a dead state"


def _where(inventory, tmp_path, strategy, env, extra=()):
    log = tmp_path / ("where-%s-%d.jsonl" % (strategy, len(list(tmp_path.iterdir()))))
    env = harness.environment(strategy, dict(env, ENGINE_WHERE_LOG=str(log)))
    proc = subprocess.run([harness.ansible_bin(), "-i", inventory, "--forks", "3",
                           os.path.join(ENGINE_DIR, "where.yml")] + list(extra),
                          env=env, cwd=ENGINE_DIR, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=240)
    rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return proc, rows


def test_small_runs_stay_in_the_strategy_process(three_targets, tmp_path):
    proc, rows = _where(three_targets, tmp_path, harness.MITOGEN, {})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert len(rows) == 9
    assert len({row["pid"] for row in rows}) == 1, rows


def test_tasks_beyond_the_local_limit_run_in_executor_processes(three_targets, tmp_path):
    proc, rows = _where(three_targets, tmp_path, harness.MITOGEN, {"MITOGEN_LOCAL_EXECUTORS": "1"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert len(rows) == 9
    recap = harness.parse_recap(proc.stdout)
    assert all(counts["failed"] == 0 and counts["ok"] == 6 for counts in recap.values()), proc.stdout
    # ansible-playbook (our child) runs the strategy; executor processes are its children.
    strategy_pid = next(row["pid"] for row in rows if row["ppid"] == os.getpid())
    children = [row for row in rows if row["pid"] != strategy_pid]
    assert children, rows
    assert all(row["ppid"] == strategy_pid for row in children), rows
    prompted = [row for row in rows if "answer" in row]
    assert len(prompted) == 3 and any(row["pid"] != strategy_pid for row in prompted), rows
    assert all(row["answer"] == "error: stdin is not interactive" for row in prompted), rows


def test_a_dead_executor_process_stops_the_run_as_a_dead_worker(three_targets, tmp_path):
    die = ("-e", "die=true")
    vanilla, _ = _where(three_targets, tmp_path, harness.VANILLA, {}, die)
    ours, _ = _where(three_targets, tmp_path, harness.MITOGEN, {"MITOGEN_LOCAL_EXECUTORS": "1"}, die)
    assert DEAD_WORKER in vanilla.stdout + vanilla.stderr
    assert DEAD_WORKER in ours.stdout + ours.stderr, ours.stdout[-3000:] + ours.stderr[-3000:]
    assert ours.returncode == vanilla.returncode
