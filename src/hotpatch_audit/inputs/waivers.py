"""Waivers: approved, expiring exceptions that turn a failed or errored control into ``waived``.

A waiver file is YAML with one top-level key, ``waivers``: a list of entries, each naming the guests (Ansible
host patterns, matched against guest and group names like ``--limit``), one control, the justification, the
approver, the expiry date and optionally a ticket. The file is validated completely before any guest is
contacted; every problem names the file, the line and the key.

A waiver is judged on one date for the whole run (``--as-of``, else the day the run started): it is active up
to and including its expiry date, and listed as expiring when that is at most 14 days away.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hotpatch_audit.errors import InventoryError, WaiverError
from hotpatch_audit.inputs.inventory import Inventory
from hotpatch_audit.inputs.patterns import hosts_matching
from hotpatch_audit.inputs.yamlsrc import Path_, YamlDocument, YamlSourceError, load_yaml
from hotpatch_audit.rules.registry import id_problem

EXPIRY_WARNING_DAYS = 14
ENTRY_KEYS = ("guests", "control", "justification", "approved_by", "expires", "ticket")
REQUIRED_KEYS = ENTRY_KEYS[:-1]
_NO_GUESTS = Inventory.empty()
EXAMPLE = "waivers:\n  - guests: [hci-vm-07]\n    control: HP-07\n    justification: ...\n    approved_by: ...\n"


@dataclass(frozen=True)
class Waiver:
    """One entry of a waiver file."""

    entry: int  # 1-based position in the file, how people refer to it
    line: int | None
    guests: tuple[str, ...]
    control: str
    justification: str
    approved_by: str
    expires: date
    ticket: str | None = None

    def reason(self) -> str:
        """Why a result is waived, as pytest shows it for an expected failure."""
        return waiver_reason(self.as_json())

    def as_json(self) -> dict[str, Any]:
        """The approval as plain data."""
        return {
            "entry": self.entry,
            "justification": self.justification,
            "approved_by": self.approved_by,
            "expires": self.expires.isoformat(),
            "ticket": self.ticket,
        }


def waiver_reason(waiver: Mapping[str, Any]) -> str:
    """``waived: <justification> (approved by X until YYYY-MM-DD[, ticket])``."""
    ticket = f", {waiver['ticket']}" if waiver.get("ticket") else ""
    return f"waived: {waiver['justification']} (approved by {waiver['approved_by']} until {waiver['expires']}{ticket})"


@dataclass(frozen=True)
class WaiverFile:
    """A validated waiver file."""

    source: str
    sha256: str
    waivers: tuple[Waiver, ...]


def load_waivers(path: Path) -> WaiverFile:
    """Load and validate a waiver file; raise WaiverError naming file, line, key and problem."""
    try:
        raw = path.read_bytes()
        doc = load_yaml(path)
    except OSError as err:
        msg = f"{path}: cannot read the waiver file: {err.strerror or err}"
        raise WaiverError(msg) from err
    except YamlSourceError as err:
        raise WaiverError(str(err)) from err
    if not isinstance(doc.data, dict) or "waivers" not in doc.data:
        msg = f"{path}: expected a top-level key 'waivers' with a list of waivers, like:\n{EXAMPLE}"
        raise WaiverError(msg)
    for key in doc.data:
        if key != "waivers":
            raise WaiverError(f"{doc.where((key,))}: unknown top-level key '{key}' (expected only 'waivers')")
    entries = doc.data["waivers"]
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise WaiverError(f"{doc.where(('waivers',))}: must be a list of waivers, found {_kind(entries)}")
    waivers = tuple(_entry(doc, i, item) for i, item in enumerate(entries))
    return WaiverFile(str(path), hashlib.sha256(raw).hexdigest(), waivers)


def _entry(doc: YamlDocument, index: int, item: Any) -> Waiver:
    at: Path_ = ("waivers", index)
    if not isinstance(item, dict):
        raise WaiverError(f"{doc.where(at)}: each waiver must be a mapping of {', '.join(ENTRY_KEYS)}")
    for key in item:
        if key not in ENTRY_KEYS:
            close = difflib.get_close_matches(str(key), ENTRY_KEYS, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            msg = f"{doc.where((*at, key))}: unknown key '{key}' ({hint}expected {', '.join(ENTRY_KEYS)})"
            raise WaiverError(msg)
    for key in REQUIRED_KEYS:
        if key not in item:
            raise WaiverError(f"{doc.where(at)}: '{key}' is required")
    control = _text(doc, (*at, "control"), item["control"])
    problem = id_problem(control)
    if problem is not None:
        raise WaiverError(f"{doc.where((*at, 'control'))}: {problem}")
    ticket = item.get("ticket")
    return Waiver(
        entry=index + 1,
        line=doc.line(at),
        guests=_guests(doc, (*at, "guests"), item["guests"]),
        control=control,
        justification=_text(doc, (*at, "justification"), item["justification"]),
        approved_by=_text(doc, (*at, "approved_by"), item["approved_by"]),
        expires=_date(doc, (*at, "expires"), item["expires"]),
        ticket=None if ticket is None else _text(doc, (*at, "ticket"), ticket, numbers=True),
    )


def _text(doc: YamlDocument, at: Path_, value: Any, *, numbers: bool = False) -> str:
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise WaiverError(f"{doc.where(at)}: must be non-empty text, found {_kind(value)}")
    return " ".join(value.split())


def _guests(doc: YamlDocument, at: Path_, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        msg = f"{doc.where(at)}: must be a list of host patterns, e.g. guests: [{value}]"
        raise WaiverError(msg)
    if not isinstance(value, list) or not value:
        raise WaiverError(f"{doc.where(at)}: must be a non-empty list of host patterns, found {_kind(value)}")
    patterns = tuple(_text(doc, (*at, i), p) for i, p in enumerate(value))
    for i, pattern in enumerate(patterns):
        if not pattern.strip(",: "):
            raise WaiverError(f"{doc.where((*at, i))}: '{pattern}' contains no host pattern")
        try:
            # Matching against no guests checks the pattern's syntax (a ~regex) before any guest is contacted.
            hosts_matching(_NO_GUESTS, pattern, doc.where((*at, i)))
        except InventoryError as err:
            raise WaiverError(str(err)) from err
    return patterns


def _date(doc: YamlDocument, at: Path_, value: Any) -> date:
    # YAML reads an unquoted 2026-06-30 as a date and "2026-06-30 10:00" as a datetime: a waiver ends on a day.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
        except ValueError:
            pass
    raise WaiverError(f"{doc.where(at)}: must be a date YYYY-MM-DD, found {_kind(value)}")


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "an empty list" if not value else "a list"
    if isinstance(value, str):
        return f"'{value}'" if len(value) < 40 else "a long string"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


@dataclass(frozen=True)
class Match:
    """The waivers covering one (guest, control): the one that applies, and the newest expired one."""

    active: Waiver | None = None
    expired: Waiver | None = None


@dataclass(frozen=True)
class WaiverBook:
    """A waiver file resolved against the inventory and judged on one date."""

    file: WaiverFile | None
    as_of: date
    matches: Mapping[int, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def resolve(cls, file: WaiverFile | None, inventory: Inventory, as_of: date) -> WaiverBook:
        """Match every waiver's patterns against the inventory's guest and group names."""
        if file is None:
            return cls(None, as_of)
        matches = {
            w.entry: frozenset().union(*(hosts_matching(inventory, p, file.source) for p in w.guests))
            for w in file.waivers
        }
        return cls(file, as_of, matches)

    @property
    def waivers(self) -> tuple[Waiver, ...]:
        """All entries of the file, in file order."""
        return self.file.waivers if self.file is not None else ()

    def state(self, waiver: Waiver) -> str:
        """``active``, ``expiring`` (active, at most 14 days left) or ``expired``."""
        left = (waiver.expires - self.as_of).days
        if left < 0:
            return "expired"
        return "expiring" if left <= EXPIRY_WARNING_DAYS else "active"

    def find(self, guest: str, control: str) -> Match:
        """The waiver that applies to (guest, control), preferring the latest expiry, or the expired one."""
        covering = [w for w in self.waivers if w.control == control and guest in self.matches.get(w.entry, ())]
        active = [w for w in covering if self.state(w) != "expired"]
        expired = [w for w in covering if self.state(w) == "expired"]
        return Match(
            max(active, key=lambda w: (w.expires, -w.entry), default=None),
            max(expired, key=lambda w: (w.expires, -w.entry), default=None),
        )

    def summary(self, selected: Iterable[str], waived: Mapping[int, int]) -> dict[str, Any] | None:
        """The ``waivers`` object of results.json: every entry with its state, reach and notes for people."""
        if self.file is None:
            return None
        chosen = set(selected)
        entries = []
        for w in self.waivers:
            in_run = len(self.matches.get(w.entry, frozenset()) & chosen)
            entries.append(
                {
                    **w.as_json(),
                    "line": w.line,
                    "guests": list(w.guests),
                    "control": w.control,
                    "state": self.state(w),
                    "matched_guests": in_run,
                    "waived": waived.get(w.entry, 0),
                    "notes": self._notes(w, in_run, waived.get(w.entry, 0)),
                }
            )
        return {
            "source": self.file.source,
            "sha256": self.file.sha256,
            "as_of": self.as_of.isoformat(),
            "expiry_warning_days": EXPIRY_WARNING_DAYS,
            "entries": entries,
        }

    def _notes(self, w: Waiver, in_run: int, waived: int) -> list[str]:
        notes = []
        state, left = self.state(w), (w.expires - self.as_of).days
        if state == "expired":
            notes.append(f"waiver expired on {w.expires}: ignored")
        elif state == "expiring":
            notes.append("expires today" if left == 0 else f"expires in {left} day{'s' if left != 1 else ''}")
        if not self.matches.get(w.entry):
            notes.append("matched nothing: no guest or group of the inventory matches its guests")
        elif not in_run:
            notes.append("matched nothing: none of its guests was audited in this run")
        elif not waived and state != "expired":
            notes.append(f"matched nothing: {w.control} did not fail or error on its {in_run} guest(s)")
        return notes


def notes_for_people(summary: Mapping[str, Any] | None) -> list[str]:
    """One line per waiver that needs attention (expiring, expired, matched nothing), for the terminal."""
    if summary is None:
        return []
    lines = []
    for e in summary["entries"]:
        if e["notes"]:
            where = f"{summary['source']}:{e['line']}" if e.get("line") else summary["source"]
            guests = ", ".join(e["guests"])
            lines.append(
                f"waiver #{e['entry']} {e['control']} on {guests} ({where}, approved by {e['approved_by']}, "
                f"expires {e['expires']}): {'; '.join(e['notes'])}"
            )
    return lines
