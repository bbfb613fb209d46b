"""Hop stacks reused between tasks are rebuilt whenever a setting changes.

Controller-side, on three real targets with forks 3: tasks whose port, ssh
arguments (set_fact) or become password differ from the previous task's
on that host must log in with their own settings (a wrong port or a moved
login is unreachable, a wrong password fails), and the next task with the
old settings works again (ansible_mitogen/executor/stack_memo.py,
ansible_mitogen/executor/context_uses.py).  Ours and vanilla give the same recap;
the playbook's asserts check each result.  Changes with identical output
under both are in tests/ansible/engine/connection_vars.yml
(test_engine_semantics.py compares those event by event).
"""
import pytest

from tests.ansible import harness

PLAYBOOK = "_connection_memo.yml"
# Vanilla's ssh master would carry later logins whatever their arguments
# say; ours never shares a login between settings.
ENV = {"ANSIBLE_SSH_ARGS": "-o ControlMaster=no"}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("strategy", ("mitogen_linear", "mitogen_free"))
def test_changed_settings_rebuild_the_stack(strategy, three_targets):
    vanilla = harness.run_playbook(PLAYBOOK, three_targets, strategy=harness.VANILLA, args=["--forks", "3"], env=ENV)
    ours = harness.run_playbook(PLAYBOOK, three_targets, strategy=strategy, args=["--forks", "3"], env=ENV)
    context = "\n--- vanilla ---\n%s\n--- ours ---\n%s\n%s" % (vanilla.stdout[-5000:], ours.stdout[-5000:],
                                                             ours.stderr[-3000:])
    assert vanilla.rc == 0, context
    assert ours.rc == 0, context
    assert ours.recap == vanilla.recap, context
    assert all(counts["ignored"] for counts in ours.recap.values()), context


def test_a_build_holds_only_while_every_value_reads_the_same():
    from ansible_mitogen.executor import stack_memo

    values = {"port": 22, "password": "s3cret", "user": "root"}
    readers = {"option": values.get}
    recorder = stack_memo.Recorder(readers)
    read = recorder.reader("option")
    for name in values:
        read(name)
    memo = stack_memo.StackMemo()
    memo.keep(("mitogen_ssh", "h"), recorder, [{"method": "ssh", "kwargs": {}}], 0)
    assert memo.lookup(("mitogen_ssh", "h"), readers) is not None
    assert "s3cret" not in repr(recorder.reads)  # a digest, never the secret
    for name, other in (("port", "22"), ("password", "other"), ("user", "mitogen_user")):
        changed = dict(values, **{name: other})
        assert memo.lookup(("mitogen_ssh", "h"), {"option": changed.get}) is None, name
    memo.forget("h")
    assert memo.lookup(("mitogen_ssh", "h"), readers) is None


def test_a_build_that_read_a_template_is_not_kept():
    from ansible_mitogen.executor import stack_memo

    recorder = stack_memo.Recorder({"var": {}.get})
    recorder.spoil()
    memo = stack_memo.StackMemo()
    memo.keep(("mitogen_ssh", "h"), recorder, [], 0)
    assert memo.lookup(("mitogen_ssh", "h"), {"var": {}.get}) is None
