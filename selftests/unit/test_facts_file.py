"""A facts file is read completely or refused naming file, key and problem; a guest's name never leaves its folder."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hotpatch_audit.errors import FactsError
from hotpatch_audit.facts import Hotfix, facts_filename, facts_path, load_facts_file, parse_facts, parse_timestamp
from support import facts_doc


@pytest.mark.parametrize("guest", ["vm", "v.m", "hci-vm-07", "WEB-X1", "x" * 250])
def test_a_guest_name_is_its_facts_file_name(tmp_path: Path, guest: str) -> None:
    assert facts_filename(guest) == f"{guest}.json"
    assert facts_path(tmp_path, guest) == tmp_path / f"{guest}.json"


@pytest.mark.parametrize("guest", ["", "a/b", "a\\b", "a\0b", ".hidden", "..", "x" * 256])
def test_a_guest_name_that_could_leave_its_folder_is_refused(guest: str) -> None:
    with pytest.raises(FactsError) as err:
        facts_filename(guest)
    assert str(err.value) == f"guest name {guest!r} cannot be used as a facts file name"


def test_255_characters_is_the_longest_name() -> None:
    assert facts_filename("x" * 255) == "x" * 255 + ".json"


@pytest.mark.parametrize(
    ("section", "key", "value", "problem"),
    [
        ("", "collected_at", 5, "collected_at: 5 is not of type 'string'"),
        ("", "collected_at", "yesterday", "collected_at: 'yesterday' does not have the expected format"),
        (
            "os",
            "last_boot_up_time",
            "yesterday",
            "os.last_boot_up_time: 'yesterday' is not a valid value "
            "(expected a UTC timestamp like 2026-05-20T10:00:00Z)",
        ),
        ("os", "ubr", "x" * 200, "os.ubr: '" + "x" * 156 + "..."),
    ],
)
def test_a_schema_problem_names_the_key_path(section: str, key: str, value: object, problem: str) -> None:
    doc = facts_doc()
    (doc[section] if section else doc)[key] = value
    with pytest.raises(FactsError) as err:
        parse_facts(doc, "vm.json")
    assert str(err.value) == f"vm.json: {problem}"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"os__edition_id": 7, "os__ubr": "x"},
            "os.edition_id: 7 is not of type 'string', 'null' (and 1 more problems)",
        ),
        # The shallowest problem comes first, whatever order the schema checks in.
        ({"os__ubr": "x", "errors": 5}, "errors: 5 is not of type 'array' (and 1 more problems)"),
    ],
)
def test_the_first_problem_is_shown_and_the_others_counted(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(FactsError) as err:
        parse_facts(facts_doc(**changes), "vm.json")
    assert str(err.value) == f"vm.json: {problem}"


@pytest.mark.parametrize(("length", "shown"), [(125, "'null'"), (126, "'n...")])
def test_a_long_problem_is_cut_at_160_characters(length: int, shown: str) -> None:
    with pytest.raises(FactsError) as err:
        parse_facts(facts_doc(os__ubr="x" * length), "vm.json")
    problem = str(err.value).removeprefix("vm.json: os.ubr: ")
    assert len(problem) == 160
    assert problem.endswith(f"is not of type 'integer', {shown}")


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ([], "(top level): [] is not of type 'object'"),
        ({k: v for k, v in facts_doc().items() if k != "os"}, "(top level): 'os' is a required property"),
    ],
)
def test_a_document_problem_is_at_the_top_level(doc: object, problem: str) -> None:
    with pytest.raises(FactsError) as err:
        parse_facts(doc, "vm.json")
    assert str(err.value) == f"vm.json: {problem}"


def test_an_impossible_date_is_an_invalid_value() -> None:
    doc = facts_doc()
    doc["hotfixes"][0]["installed_on"] = "2026-02-30"
    with pytest.raises(FactsError) as err:
        parse_facts(doc, "vm.json")
    assert str(err.value) == "vm.json: invalid value: day is out of range for month"


def test_the_typed_facts_carry_every_value() -> None:
    doc = facts_doc(hotfixes=[{"id": "KB1", "description": "Update", "installed_on": "2026-05-13"}, {"id": "KB2"}])
    facts = parse_facts(doc, "vm.json")
    assert (facts.guest, facts.collector_version) == ("vm", "1.0.0")
    assert (facts.os.edition_id, facts.os.installation_type, facts.os.display_version) == (
        "ServerTurbineCor",
        "Server Core",
        "21H2",
    )
    assert facts.collected_at == datetime(2026, 5, 27, 6, 0, tzinfo=UTC)
    assert facts.os.last_boot_up_time == datetime(2026, 4, 15, 2, 10, tzinfo=UTC)
    assert facts.hotfixes == (Hotfix("KB1", "Update", date(2026, 5, 13)), Hotfix("KB2", None, None))
    assert parse_facts(facts_doc(hotfixes=None, os__last_boot_up_time=None), "vm.json").hotfixes is None
    unread = parse_facts(facts_doc(unreadable=("os.ubr",)), "vm.json")
    assert [(e.probe, e.message) for e in unread.errors] == [("os.ubr", "Access is denied.")]


@pytest.mark.parametrize("text", ["2026-05-27T06:00:00Z", "2026-05-27T08:00:00+02:00", "2026-05-27T06:00:00+00:00"])
def test_a_timestamp_is_read_as_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        parsed = parse_timestamp(text)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert parsed == datetime(2026, 5, 27, 6, 0, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, ": no facts file for guest 'vm': collect it or remove the guest from the selection"),
        ("{\n  nope", ":2: not valid JSON: Expecting property name enclosed in double quotes"),
        (
            b"\xff\xfe",
            ": cannot read facts file: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
        ),
        (json.dumps(facts_doc("other")), ": guest: the file is for 'other', expected 'vm'"),
        (json.dumps(facts_doc(os__ubr="x")), ": os.ubr: 'x' is not of type 'integer', 'null'"),
    ],
)
def test_a_facts_file_problem_names_the_file(tmp_path: Path, content: str | bytes | None, problem: str) -> None:
    path = tmp_path / "vm.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(FactsError) as err:
        load_facts_file(path, "vm")
    assert str(err.value) == f"{path}{problem}"


def test_a_facts_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "vm.json"
    path.write_text(json.dumps(facts_doc()), encoding="utf-8")
    assert load_facts_file(path, "vm") == parse_facts(facts_doc(), str(path))
