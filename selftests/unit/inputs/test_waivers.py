"""Waiver files: every problem refused with file, line, key and fix; matching, expiry and the evidence summary."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from auditrun import write_fleet
from hotpatch_audit.errors import WaiverError
from hotpatch_audit.inputs.inventory import load_inventory
from hotpatch_audit.inputs.waivers import EXAMPLE, WaiverBook, load_waivers, notes_for_people, waiver_reason

AS_OF = date(2026, 5, 27)
ENTRY = "  - guests: [{guests}]\n    control: {control}\n    justification: {why}\n    approved_by: CAB\n"
ENTRY += "    expires: {expires}\n"
KEYS = "guests, control, justification, approved_by, expires, ticket"


def waiver_file(path: Path, *entries: dict[str, str]) -> Path:
    defaults = {"why": "accepted risk", "expires": "2026-12-31"}
    path.write_text("waivers:\n" + "".join(ENTRY.format(**{**defaults, **e}) for e in entries))
    return path


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    return write_fleet(tmp_path, {"web-1": {}, "web-2": {}, "db-1": {}}, {"web": ["web-1", "web-2"], "db": ["db-1"]})


# --- the file -----------------------------------------------------------------------------------------------


def test_a_complete_waiver_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "w.yml"
    path.write_text(
        "waivers:\n"
        "  - guests: [web, db-1]\n"
        "    control: HP-04\n"
        "    justification: restart   in the June window\n"
        "    approved_by: J. Doe\n"
        "    expires: 2026-06-30\n"
        "    ticket: 12345\n"
    )
    file = load_waivers(path)
    assert (file.source, file.sha256) == (str(path), hashlib.sha256(path.read_bytes()).hexdigest())
    (waiver,) = file.waivers
    assert (waiver.entry, waiver.line, waiver.guests, waiver.control) == (1, 2, ("web", "db-1"), "HP-04")
    assert (waiver.justification, waiver.approved_by, waiver.expires, waiver.ticket) == (
        "restart in the June window",
        "J. Doe",
        date(2026, 6, 30),
        "12345",
    )
    assert waiver.reason() == "waived: restart in the June window (approved by J. Doe until 2026-06-30, 12345)"


def test_a_reason_without_ticket() -> None:
    waiver = {"justification": "j", "approved_by": "CAB", "expires": "2026-06-30", "ticket": None}
    assert waiver_reason(waiver) == "waived: j (approved by CAB until 2026-06-30)"


@pytest.mark.parametrize(
    ("fields", "guests", "expires"),
    [
        ({"expires": "'2026-06-30'"}, ("a",), date(2026, 6, 30)),  # a quoted date is text, read as a date
        ({"guests": "[XX, 'web:db']"}, ("XX", "web:db"), date(2026, 1, 1)),
    ],
)
def test_an_entry_loads(tmp_path: Path, fields: dict[str, str], guests: tuple[str, ...], expires: date) -> None:
    path = tmp_path / "w.yml"
    path.write_text(flow(**fields))
    (waiver,) = load_waivers(path).waivers
    assert (waiver.guests, waiver.expires) == (guests, expires)


@pytest.mark.parametrize("text", ["waivers:\n", "waivers: []\n"])
def test_an_empty_waiver_list_loads(tmp_path: Path, text: str) -> None:
    path = tmp_path / "w.yml"
    path.write_text(text)
    assert load_waivers(path).waivers == ()


def flow(**fields: str) -> str:
    """A one-entry waiver file in YAML flow style, with `fields` replacing valid defaults."""
    entry = {"guests": "[a]", "control": "HP-04", "justification": "j", "approved_by": "b", "expires": "2026-01-01"}
    return "waivers:\n  - {" + ", ".join(f"{k}: {v}" for k, v in {**entry, **fields}.items()) + "}\n"


NO_KEY = f": expected a top-level key 'waivers' with a list of waivers, like:\n{EXAMPLE}"
WHERE = ":2: waivers.0"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", NO_KEY),
        ("- guests: [a]\n", NO_KEY),
        ("waivers: {}\nextra: 1\n", ":2: extra: unknown top-level key 'extra' (expected only 'waivers')"),
        ("waivers: yes\n", ":1: waivers: must be a list of waivers, found bool True"),
        ("waivers:\n  - just text\n", f"{WHERE}: each waiver must be a mapping of {KEYS}"),
        (
            "waivers:\n  - guests: [a]\n    contol: HP-04\n",
            f":3: waivers.0.contol: unknown key 'contol' (did you mean 'control'? expected {KEYS})",
        ),
        ("waivers:\n  - guests: [a]\n    colour: x\n", f":3: waivers.0.colour: unknown key 'colour' (expected {KEYS})"),
        ("waivers:\n  - guests: [a]\n    control: HP-04\n", f"{WHERE}: 'justification' is required"),
        (flow(guests="a"), f"{WHERE}.guests: must be a list of host patterns, e.g. guests: [a]"),
        (flow(guests="[]"), f"{WHERE}.guests: must be a non-empty list of host patterns, found an empty list"),
        (flow(guests="{a: 1}"), f"{WHERE}.guests: must be a non-empty list of host patterns, found a mapping"),
        (
            flow(guests="['~web[', x]"),
            f"{WHERE}.guests.0: '~web[' is not a valid regular expression: unterminated character set at position 3",
        ),
        (flow(guests="[',']"), f"{WHERE}.guests.0: ',' contains no host pattern"),
        (flow(control="[HP-04]"), f"{WHERE}.control: must be non-empty text, found a list"),
        (flow(guests="[[a]]"), f"{WHERE}.guests.0: must be non-empty text, found a list"),
        (
            flow(control="HP-4"),
            f"{WHERE}.control: unknown control 'HP-4': not a control id (expected e.g. HP-04 or SITE-01)",
        ),
        (flow(justification="'  '"), f"{WHERE}.justification: must be non-empty text, found '  '"),
        (
            flow(justification="'" + " " * 40 + "'"),
            f"{WHERE}.justification: must be non-empty text, found a long string",
        ),
        (flow(approved_by="[x]"), f"{WHERE}.approved_by: must be non-empty text, found a list"),
        (flow(approved_by="[]"), f"{WHERE}.approved_by: must be non-empty text, found an empty list"),
        (flow(approved_by="{x: 1}"), f"{WHERE}.approved_by: must be non-empty text, found a mapping"),
        (flow(approved_by="3"), f"{WHERE}.approved_by: must be non-empty text, found int 3"),
        (flow(approved_by="null"), f"{WHERE}.approved_by: must be non-empty text, found nothing"),
        (flow(expires="30.06.2026"), f"{WHERE}.expires: must be a date YYYY-MM-DD, found '30.06.2026'"),
        (flow(expires="2026-06-30 10:00"), f"{WHERE}.expires: must be a date YYYY-MM-DD, found '2026-06-30 10:00'"),
        (flow(expires="'2026-06-30T10'"), f"{WHERE}.expires: must be a date YYYY-MM-DD, found '2026-06-30T10'"),
        (flow(expires="2026-02-30"), f"{WHERE}.expires: '2026-02-30' is not valid: day is out of range for month"),
        (flow(ticket="[1]"), f"{WHERE}.ticket: must be non-empty text, found a list"),
        (flow(ticket="true"), f"{WHERE}.ticket: must be non-empty text, found bool True"),
        ("waivers:\n  - guests: [a\n", ":3: YAML syntax error: expected ',' or ']', but got '<stream end>'"),
    ],
)
def test_a_malformed_file_is_a_located_waiver_error(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "waivers.yml"
    path.write_text(text)
    with pytest.raises(WaiverError) as err:
        load_waivers(path)
    assert str(err.value) == f"{path}{expected}"


def test_a_missing_file_is_a_waiver_error(tmp_path: Path) -> None:
    with pytest.raises(WaiverError) as err:
        load_waivers(tmp_path / "nosuch.yml")
    assert str(err.value) == f"{tmp_path / 'nosuch.yml'}: cannot read the waiver file: No such file or directory"


# --- matching and expiry --------------------------------------------------------------------------------------


def test_patterns_match_guest_and_group_names(tmp_path: Path, inventory: Path) -> None:
    path = waiver_file(
        tmp_path / "w.yml",
        {"guests": "web", "control": "HP-01"},
        {"guests": "'db-*'", "control": "HP-02"},
        {"guests": "'~web-[2-9]'", "control": "HP-03"},
        {"guests": "'all:!web-1'", "control": "HP-04"},
        {"guests": "nosuch", "control": "HP-05"},
        {"guests": "web-1, db-1", "control": "HP-06"},
    )
    book = WaiverBook.resolve(load_waivers(path), load_inventory(inventory), AS_OF)
    assert {k: sorted(v) for k, v in book.matches.items()} == {
        1: ["web-1", "web-2"],
        2: ["db-1"],
        3: ["web-2"],
        4: ["db-1", "web-2"],
        5: [],
        6: ["db-1", "web-1"],
    }
    assert book.find("web-2", "HP-01").active is not None
    assert book.find("web-2", "HP-02").active is None
    assert book.find("db-1", "HP-01") == book.find("web-1", "HP-09")


def test_no_waiver_file_waives_nothing(inventory: Path) -> None:
    book = WaiverBook.resolve(None, load_inventory(inventory), AS_OF)
    assert book.as_of == AS_OF
    assert (book.waivers, book.find("web-1", "HP-04").active, book.summary(["web-1"], {})) == ((), None, None)
    assert notes_for_people(None) == []


@pytest.mark.parametrize(
    ("expires", "state"),
    [("2026-05-26", "expired"), ("2026-05-27", "expiring"), ("2026-06-10", "expiring"), ("2026-06-11", "active")],
)
def test_a_waiver_is_active_through_its_expiry_date_and_expiring_within_14_days(
    tmp_path: Path, inventory: Path, expires: str, state: str
) -> None:
    path = waiver_file(tmp_path / "w.yml", {"guests": "web-1", "control": "HP-04", "expires": expires})
    book = WaiverBook.resolve(load_waivers(path), load_inventory(inventory), AS_OF)
    assert book.state(book.waivers[0]) == state
    match = book.find("web-1", "HP-04")
    assert (match.active is None) == (state == "expired")
    assert (match.expired is None) == (state != "expired")


def test_the_longest_running_active_waiver_applies(tmp_path: Path, inventory: Path) -> None:
    path = waiver_file(
        tmp_path / "w.yml",
        {"guests": "web", "control": "HP-04", "expires": "2026-06-01"},
        {"guests": "web-1", "control": "HP-04", "expires": "2026-09-01"},
        {"guests": "web-1", "control": "HP-04", "expires": "2026-01-01"},
        {"guests": "web-1", "control": "HP-04", "expires": "2026-02-01"},
        {"guests": "web-1", "control": "HP-04", "expires": "2026-09-01"},
        {"guests": "web-1", "control": "HP-04", "expires": "2026-02-01"},
    )
    book = WaiverBook.resolve(load_waivers(path), load_inventory(inventory), AS_OF)
    match = book.find("web-1", "HP-04")
    assert match.active is not None
    assert match.active.entry == 2  # of two equal expiries, the first in the file
    assert match.expired is not None
    assert match.expired.entry == 4


# --- the evidence summary -------------------------------------------------------------------------------------


def _entry(entry: int, guests: str, control: str, why: str, expires: str, state: str, **more: Any) -> dict[str, Any]:
    return {
        "entry": entry,
        "justification": why,
        "approved_by": "CAB",
        "expires": expires,
        "ticket": None,
        "line": entry + 1,
        "guests": [guests],
        "control": control,
        "state": state,
        **more,
    }


def test_the_summary_lists_every_waiver_with_its_state_reach_and_notes(tmp_path: Path, inventory: Path) -> None:
    path = tmp_path / "w.yml"
    path.write_text(
        "waivers:\n"
        "  - {guests: [web], control: HP-04, justification: p1, approved_by: CAB, expires: 2026-12-31, ticket: C-1}\n"
        "  - {guests: [db-1], control: HP-07, justification: j2, approved_by: CAB, expires: 2026-05-27}\n"
        "  - {guests: [nosuch], control: HP-01, justification: j3, approved_by: CAB, expires: 2026-06-01}\n"
        "  - {guests: [web-2], control: HP-02, justification: j4, approved_by: CAB, expires: 2026-05-28}\n"
        "  - {guests: [web-1], control: HP-03, justification: j5, approved_by: CAB, expires: 2026-05-01}\n"
    )
    book = WaiverBook.resolve(load_waivers(path), load_inventory(inventory), AS_OF)
    summary = book.summary(["web-1", "db-1"], {1: 1})
    assert summary == {
        "source": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "as_of": "2026-05-27",
        "expiry_warning_days": 14,
        "entries": [
            {**_entry(1, "web", "HP-04", "p1", "2026-12-31", "active"), "ticket": "C-1"}
            | {"matched_guests": 1, "waived": 1, "notes": []},
            _entry(2, "db-1", "HP-07", "j2", "2026-05-27", "expiring", matched_guests=1, waived=0)
            | {"notes": ["expires today", "matched nothing: HP-07 did not fail or error on its 1 guest(s)"]},
            _entry(3, "nosuch", "HP-01", "j3", "2026-06-01", "expiring", matched_guests=0, waived=0)
            | {
                "notes": ["expires in 5 days", "matched nothing: no guest or group of the inventory matches its guests"]
            },
            _entry(4, "web-2", "HP-02", "j4", "2026-05-28", "expiring", matched_guests=0, waived=0)
            | {"notes": ["expires in 1 day", "matched nothing: none of its guests was audited in this run"]},
            _entry(5, "web-1", "HP-03", "j5", "2026-05-01", "expired", matched_guests=1, waived=0)
            | {"notes": ["waiver expired on 2026-05-01: ignored"]},
        ],
    }
    assert notes_for_people(summary) == [
        f"waiver #2 HP-07 on db-1 ({path}:3, approved by CAB, expires 2026-05-27): expires today; "
        "matched nothing: HP-07 did not fail or error on its 1 guest(s)",
        f"waiver #3 HP-01 on nosuch ({path}:4, approved by CAB, expires 2026-06-01): expires in 5 days; "
        "matched nothing: no guest or group of the inventory matches its guests",
        f"waiver #4 HP-02 on web-2 ({path}:5, approved by CAB, expires 2026-05-28): expires in 1 day; "
        "matched nothing: none of its guests was audited in this run",
        f"waiver #5 HP-03 on web-1 ({path}:6, approved by CAB, expires 2026-05-01): "
        "waiver expired on 2026-05-01: ignored",
    ]


def test_a_note_without_a_line_names_the_file_alone() -> None:
    entry = _entry(1, "web", "HP-04", "j", "2026-06-01", "expiring", line=None, notes=["expires in 5 days"])
    summary = {"source": "w.yml", "entries": [entry | {"guests": ["web", "db"]}]}
    assert notes_for_people(summary) == [
        "waiver #1 HP-04 on web, db (w.yml, approved by CAB, expires 2026-06-01): expires in 5 days"
    ]
