"""2.9's static/dynamic rule for `include:` (ansible_mitogen/compat/include.py), case by case.

Controller-side, pure data: what each 2.9-era task becomes.  The corpus
(test_corpus.py) proves the resulting behaviour in real runs.
"""
import pytest

from ansible_mitogen.compat import include

CASES = [
    ({"include": "x.yml"}, True, {"import_tasks": "x.yml"}),
    ({"include": "x.yml a=1 b='two words'"}, True, {"import_tasks": "x.yml", "vars": {"a": "1", "b": "two words"}}),
    ({"include": "x.yml a=1", "vars": {"c": 3}}, True, {"import_tasks": "x.yml", "vars": {"c": 3, "a": "1"}}),
    ({"include": "x.yml", "when": "flag", "tags": ["t"]}, True,
     {"import_tasks": "x.yml", "when": "flag", "tags": ["t"]}),
    ({"include": "x.yml", "static": "no"}, True, {"include_tasks": "x.yml", "name": "include"}),
    ({"include": "x.yml", "static": "no", "name": "mine"}, True, {"include_tasks": "x.yml", "name": "mine"}),
    ({"include": "x.yml", "static": True}, False, {"import_tasks": "x.yml"}),
    ({"include": "x.yml", "with_items": [1]}, True, {"include_tasks": "x.yml", "with_items": [1], "name": "include"}),
    ({"include": "x.yml", "loop": [1]}, True, {"include_tasks": "x.yml", "loop": [1], "name": "include"}),
    ({"include": "{{ name }}.yml"}, True, {"include_tasks": "{{ name }}.yml", "name": "include"}),
    ({"include": "x.yml"}, False, {"include_tasks": "x.yml", "name": "include"}),
    ({"ansible.builtin.include": "x.yml"}, True, {"import_tasks": "x.yml"}),
    ({"include": {"file": "x.yml", "a": 1}}, True, {"import_tasks": "x.yml", "vars": {"a": 1}}),
    ({"name": "untouched", "debug": {"msg": "include"}}, True, {"name": "untouched", "debug": {"msg": "include"}}),
]


@pytest.mark.parametrize("task, parents_static, wanted", CASES)
def test_rewrite_task(task, parents_static, wanted):
    assert include.rewrite_task(dict(task), parents_static) == wanted


def test_rewrite_play_entry():
    assert include.rewrite_play_entry({"include": "other.yml who=old", "tags": ["t"]}) == {
        "import_playbook": "other.yml", "vars": {"who": "old"}, "tags": ["t"]}
    play = {"hosts": "all", "tasks": []}
    assert include.rewrite_play_entry(play) is play
