"""The compiled validator and jsonschema agree: what it calls valid, jsonschema does; valid documents pass it fast."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from hotpatch_audit.facts import facts_schema
from hotpatch_audit.validation import surely_valid
from support import REPO, facts_doc

EXAMPLES = sorted((REPO / "inventories" / "example-facts").glob("*.json"))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
DATES = st.sampled_from(["2026-05-20", "2026-05-20\n", "2026-5-20", "2026-05-20T10:00:00Z", "x2026-05-20", ""])


def _paths(doc: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _paths(value, (*at, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            out += _paths(value, (*at, index))
    return out


def _changed(doc: dict[str, Any], path: tuple[Any, ...], value: Any, how: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    if not path:
        return out if how != "replace" else {"replaced": value}
    parent = out
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if how == "delete" and isinstance(parent, dict):
        del parent[last]
    elif how == "add" and isinstance(parent, dict):
        parent[f"{last}_extra"] = value
    else:
        parent[last] = value
    return out


def _valid_documents() -> list[dict[str, Any]]:
    """The self-tests' facts and the recorded examples jsonschema accepts."""
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES]
    docs += [
        facts_doc("vm"),
        facts_doc("vm", unreadable=("security.vbs_status",)),
        facts_doc("vm", os__current_build=26100, os__ubr=32772, hotpatch__hotpatch_table_size=None),
    ]
    return [d for d in docs if jsonschema.Draft202012Validator(facts_schema()).is_valid(d)]


def test_every_valid_document_passes_the_fast_check() -> None:
    docs = _valid_documents()
    assert len(docs) >= 3
    for doc in docs:
        assert surely_valid(facts_schema(), doc)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), value=JSON_VALUES | DATES, how=st.sampled_from(["replace", "delete", "add"]))
def test_what_the_fast_check_calls_valid_jsonschema_does_too(data: st.DataObject, value: Any, how: str) -> None:
    base = data.draw(st.sampled_from(_valid_documents()))
    path = data.draw(st.sampled_from(_paths(base)))
    doc = _changed(base, path, value, how)
    if surely_valid(facts_schema(), doc):
        assert jsonschema.Draft202012Validator(facts_schema()).is_valid(doc), (path, how, value)


def test_a_broken_document_is_left_to_jsonschema() -> None:
    doc = facts_doc("vm", os__current_build="20348")
    assert not surely_valid(facts_schema(), doc)
    assert not surely_valid(facts_schema(), {**facts_doc("vm"), "collected_at": "2026-05-20T10:00:00Z\n"})
    assert not surely_valid(facts_schema(), {"guest": Path("vm")})
