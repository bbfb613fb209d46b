"""Task results under mitogen equal vanilla's, field by field.

Controller-side: runs playbooks/_exec_results.yml at -v (so `invocation` is
included) under vanilla `linear` and `mitogen_linear`, with a callback that
dumps every result, and compares them after dropping fields that differ
between any two runs (timestamps, temp paths).
"""
import json
import os

import pytest

from tests.ansible import harness

CALLBACK_DIR = os.path.join(harness.PLAYBOOK_DIR, "callback_plugins")
# Differ between two runs of the same strategy.
VOLATILE = {"start", "end", "delta", "src", "_original_basename", "mtime", "atime", "ctime",
            "inode", "version", "dev", "pid"}
# Transport artefacts vanilla's ssh adds and we do not (documented).
TRANSPORT_NOISE = {"module_stderr", "stderr", "stderr_lines"}


def _run(strategy, inventory, out):
    env = {"ANSIBLE_CALLBACK_PLUGINS": CALLBACK_DIR, "ANSIBLE_CALLBACKS_ENABLED": "exec_results",
           "MITOGEN_EXEC_RESULTS": str(out),
           # ansible-core >= 2.21 only returns `invocation` when asked to
           "ANSIBLE_INJECT_INVOCATION": "True"}
    result = harness.run_playbook("_exec_results.yml", inventory, strategy=strategy, args=["-v"], env=env)
    assert result.rc == 0, result.describe()
    with open(out) as fp:
        return json.load(fp)


def _clean(value, raw_task):
    if isinstance(value, dict):
        drop = VOLATILE | (TRANSPORT_NOISE if raw_task else set())
        return {k: _clean(v, raw_task) for k, v in value.items() if k not in drop}
    if isinstance(value, list):
        return [_clean(v, raw_task) for v in value]
    return value


@pytest.mark.timeout(400)
def test_results_identical(inventory, tmp_path):
    vanilla = _run(harness.VANILLA, inventory, tmp_path / "vanilla.json")
    ours = _run(harness.MITOGEN, inventory, tmp_path / "mitogen.json")
    assert [row[:3] for row in ours] == [row[:3] for row in vanilla]
    # the comparison must cover real results, not empty dumps
    assert len(vanilla) >= 20
    assert vanilla[0][3]["stdout"] == "hello" and "invocation" in vanilla[0][3]
    for (host, task, status, want), (_, _, _, got) in zip(vanilla, ours):
        # raw and script output: vanilla's ssh appends "Shared connection ... closed."
        raw_task = task in ("raw", "script")
        assert _clean(got, raw_task) == _clean(want, raw_task), "%s / %s differs" % (host, task)
