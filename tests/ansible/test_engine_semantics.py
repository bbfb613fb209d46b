"""Executor threads behave like ansible-core's forked workers, event for event.

Controller-side.  Each playbook of tests/ansible/engine/ runs on three real
targets with forks 3, under the builtin strategy and under ours (linear and
free), and every callback event is logged by engine/callback_plugins/
engine_events.py.  The runs must agree on the exit code, the recap, each
host's sequence of events with its results, the order of task banners
(linear), the warnings printed and the lines of output.
"""
import collections
import json
import os
import re
import subprocess
import uuid
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import pytest

from tests.ansible import harness

ENGINE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "engine")

# (playbook, extra ansible-playbook arguments)
RUNS: Sequence[Tuple[str, Tuple[str, ...]]] = (
    ("isolation.yml", ()),
    ("variables.yml", ()),
    ("loops.yml", ()),
    ("async.yml", ()),
    ("handlers.yml", ()),
    ("blocks.yml", ()),
    ("includes.yml", ()),
    ("control.yml", ()),
    ("output.yml", ("-v",)),
    ("modes.yml", ("--check", "--diff", "--tags", "run", "--skip-tags", "skip")),
    ("pause.yml", ()),
    ("connection_vars.yml", ()),
)
STRATEGIES = (("linear", "mitogen_linear"), ("free", "mitogen_free"))
# Events whose count depends on timing, not on the engine: polls of a job
# (none at all if it ended before the first poll) are left out, retries kept once.
POLL_EVENTS = ("async_poll",)
TIMING_EVENTS = ("retry",)
# Tasks that poll until something outside finishes: their attempt count is timing.
POLLING_TASKS = ("wait for the job",)
# Output lines whose count or text depends on timing.
TIMING_LINES = re.compile(r"^(ASYNC POLL on |ASYNC OK on |FAILED - RETRYING: )")
JOB_ID = re.compile(r"j\d+\.\d+")
INCLUDED_LINE = re.compile(r"^(included: \S+ for )(.*?)( =>.*)?$")
PAUSED = re.compile(r"Paused for [0-9.]+ seconds")
TIMESTAMPS = re.compile(r'"(start|end|delta)": "[^"]*"')
# Before ansible-core 2.19 a plugin's print() goes straight to the shared
# stdout, its text and its newline as two writes: under vanilla's forked
# workers as under our threads, another line can land between them.
STRAY_PRINT = re.compile(r"(noisy action printed on target-\d+)")
# Printed for third-party strategy plugins only (the vars-plugin entry point has none).
STRATEGY_DEPRECATION = ("strategy plugins not included in ansible.builtin", "Deprecation warnings can be disabled")


class Run(NamedTuple):
    rc: int
    stdout: str
    stderr: str
    events: List[dict]


def run(playbook: str, inventory: str, strategy: str, args: Sequence[str], tmp_path,
        extra_env: Optional[Dict[str, str]] = None) -> Run:
    run_id = uuid.uuid4().hex[:8]
    log = tmp_path / ("events-%s-%s.jsonl" % (strategy, run_id))
    if extra_env is None and os.environ.get("ENGINE_REFERENCE") == "fork":
        # debugging aid: our connections on ansible-core's forked workers as the reference
        strategy, extra_env = "mitogen_" + strategy, {"MITOGEN_EXECUTOR": "fork"}
    env = harness.environment(strategy, dict(extra_env or {}, **{
        "ANSIBLE_CALLBACKS_ENABLED": "engine_events",
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(ENGINE_DIR, "callback_plugins"),
        "ANSIBLE_DEPRECATION_WARNINGS": "True",
        "ENGINE_EVENTS_LOG": str(log),
    }))
    linear = "linear" in strategy
    cmd = [harness.ansible_bin(), "-i", inventory, "--forks", "3", "-e", "run_id=" + run_id,
           "-e", "engine_linear=%s" % linear,
           # fresh per run, so each run meets the same missing directory
           "-e", "ansible_remote_tmp=~/.ansible/tmp-" + run_id,
           os.path.join(ENGINE_DIR, playbook)] + list(args)
    try:
        proc = subprocess.run(cmd, env=env, cwd=ENGINE_DIR, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=240)
    except subprocess.TimeoutExpired as exc:
        pytest.fail("%s under %s hung:\n%s\n%s" % (playbook, strategy, _text(exc.stdout)[-4000:],
                                                   _text(exc.stderr)[-8000:]))
    events = [json.loads(PAUSED.sub("Paused for N seconds", line.replace(run_id, "RUN")))
              for line in log.read_text().splitlines()]
    return Run(proc.returncode, proc.stdout.replace(run_id, "RUN"), proc.stderr.replace(run_id, "RUN"), events)


def _text(data) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")


def per_host(events: List[dict]) -> Dict[str, List[dict]]:
    hosts: Dict[str, List[dict]] = collections.defaultdict(list)
    for event in events:
        if event.get("host") and event["event"] not in POLL_EVENTS:
            if event["event"] in TIMING_EVENTS and event.get("task") in POLLING_TASKS:
                continue  # the job may be done at the first look, or not
            sequence = hosts[event["host"]]
            if event["event"] in TIMING_EVENTS and sequence and sequence[-1]["event"] == event["event"]:
                continue
            if event["event"] in TIMING_EVENTS:
                event = dict(event, result=None)
            elif event["task"] in POLLING_TASKS and isinstance(event.get("result"), dict):
                event = dict(event, result={k: v for k, v in event["result"].items() if k != "attempts"})
            sequence.append(event)
    return dict(hosts)


def banners(events: List[dict]) -> List[Tuple[str, str]]:
    return [(e["event"], e["task"]) for e in events
            if e["event"] in ("play_start", "task_start", "handler_task_start", "stats")]


def includes(events: List[dict]) -> List[Tuple[str, str, str]]:
    """(task, file, host) of every include; which hosts share one include
    event depends on which results arrived together, under vanilla too."""
    return sorted((e["task"], e["file"], host) for e in events if e["event"] == "include" for host in e["hosts"])


def output_lines(text: str) -> List[str]:
    text = STRAY_PRINT.sub("\n\\1\n", text)
    return sorted(_normal_line(line) for line in text.splitlines() if line.strip() and not TIMING_LINES.match(line))


def _normal_line(line: str) -> str:
    line = TIMESTAMPS.sub("", JOB_ID.sub("J", line))
    match = INCLUDED_LINE.match(line)
    if match:  # hosts listed in the order their results arrived
        line = "%s%s%s" % (match.group(1), ", ".join(sorted(match.group(2).split(", "))), match.group(3) or "")
    return line


def warnings(text: str) -> List[str]:
    return sorted(line for line in text.splitlines() if line.startswith(("[WARNING]", "[DEPRECATION WARNING]"))
                  and not any(marker in line for marker in STRATEGY_DEPRECATION))


@pytest.mark.timeout(600)
@pytest.mark.parametrize("vanilla,ours", STRATEGIES, ids=[s[0] for s in STRATEGIES])
@pytest.mark.parametrize("playbook,args", RUNS, ids=[r[0] for r in RUNS])
def test_same_events_as_forked_workers(playbook, args, vanilla, ours, three_targets, tmp_path):
    expected = run(playbook, three_targets, vanilla, args, tmp_path)
    got = run(playbook, three_targets, ours, args, tmp_path, {})
    assert_same_runs(expected, got, vanilla)


# One host's tasks run in the strategy process, the others' in executor
# processes (engine/offload.py), whose state is a fork of the strategy's.
OFFLOADED_RUNS = ("variables.yml", "isolation.yml", "handlers.yml", "includes.yml", "control.yml", "output.yml")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("playbook", OFFLOADED_RUNS)
def test_same_events_on_executor_processes(playbook, three_targets, tmp_path):
    args = dict(RUNS)[playbook]
    expected = run(playbook, three_targets, "linear", args, tmp_path)
    got = run(playbook, three_targets, "mitogen_linear", args, tmp_path, {"MITOGEN_LOCAL_EXECUTORS": "1"})
    assert_same_runs(expected, got, "linear")


def assert_same_runs(expected: Run, got: Run, vanilla: str) -> None:
    context = "\n--- vanilla ---\n%s\n%s\n--- ours ---\n%s\n%s" % (
        expected.stdout[-6000:], expected.stderr[-3000:], got.stdout[-6000:], got.stderr[-3000:])
    assert got.rc == expected.rc, context
    assert harness.parse_recap(got.stdout) == harness.parse_recap(expected.stdout), context
    want, have = per_host(expected.events), per_host(got.events)
    assert sorted(have) == sorted(want), context
    for host in want:
        assert have[host] == want[host], "events of %s differ%s" % (host, context)
    if vanilla == "linear":
        assert banners(got.events) == banners(expected.events), context
    else:
        assert sorted(banners(got.events)) == sorted(banners(expected.events)), context
    assert includes(got.events) == includes(expected.events), context
    assert warnings(got.stderr) == warnings(expected.stderr), context
    if vanilla == "linear":  # free prints banners as hosts happen to move on
        assert output_lines(got.stdout) == output_lines(expected.stdout), context
