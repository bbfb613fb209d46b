"""deepcopy with speedups installed: immutable tagged values shared, containers copied.

Controller-side, no target: ansible_mitogen.speedups changes how
copy.deepcopy treats ansible-core's value types in the strategy process
and its task workers, so the copy must still be a faithful, independent one.
"""
import copy
import datetime

import pytest

from ansible_mitogen import speedups

datatag = pytest.importorskip("ansible.module_utils._internal._datatag")
tags = pytest.importorskip("ansible._internal._datatag._tags")


def test_deepcopy_shares_immutable_values_and_copies_containers():
    speedups.install()
    origin = tags.Origin(path="/vars.yml", line_num=3, col_num=1)
    text = origin.tag("value")
    number = origin.tag(42)
    when = origin.tag(datetime.date(2026, 11, 27))
    nested = origin.tag([origin.tag("a"), {"k": origin.tag("b")}])
    variables = {"text": text, "number": number, "when": when, "nested": nested}

    copied = copy.deepcopy(variables)

    assert copied == variables
    assert copied["text"] is text and copied["number"] is number and copied["when"] is when
    assert tags.Origin.get_tag(copied["text"]) == origin
    # containers are still fresh, with their tags, so mutating them cannot leak
    assert copied["nested"] is not nested and copied["nested"][1] is not nested[1]
    assert type(copied["nested"]) is type(nested) and tags.Origin.get_tag(copied["nested"]) == origin
    copied["nested"][1]["k"] = "changed"
    assert nested[1]["k"] == "b"


def test_every_registered_type_is_immutable():
    for cls in speedups.immutable_types():
        assert not issubclass(cls, (list, dict, set, bytearray)), cls
