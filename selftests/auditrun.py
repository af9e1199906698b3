"""Run the real checks in a child pytest on a small recorded fleet, and read what the run wrote."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from support import Run, facts_doc, run_audit, write_facts

AS_OF = "2026-05-27"

# Facts changes (see support.facts_doc) that make exactly one control fail or error.
FAIL_HP04: dict[str, Any] = {"security__vbs_status": 1}
FAIL_HP07: dict[str, Any] = {"reboot_pending__windows_update": True}
ERROR_HP04: dict[str, Any] = {"unreadable": ("security.vbs_status",)}


def write_fleet(
    tmp: Path, guests: Mapping[str, dict[str, Any] | None], groups: dict[str, list[str]] | None = None
) -> Path:
    """Facts for each guest (``changes`` for facts_doc, ``None`` for no facts file) and an inventory."""
    for name, changes in guests.items():
        if changes is not None:
            write_facts(tmp / "facts", facts_doc(name, **changes))
    (tmp / "facts").mkdir(exist_ok=True)
    grouping = groups or {"fleet": list(guests)}
    children = "".join(
        f"    {group}:\n      hosts:\n" + "".join(f"        {g}:\n" for g in members)
        for group, members in grouping.items()
    )
    inventory = tmp / "inventory.yml"
    inventory.write_text(f"all:\n  vars:\n    hotpatch_password_env: HOTPATCH_SELFTEST_UNSET\n  children:\n{children}")
    return inventory


def audit(tmp: Path, *extra: str, inventory: Path | None = None, checks: tuple[str, ...] = ("tests",)) -> Run:
    """Audit the fleet written by write_fleet in a child pytest; return its exit code, output and results."""
    facts = ("--facts-dir", str(tmp / "facts"), "--as-of", AS_OF)
    return run_audit(inventory or tmp / "inventory.yml", tmp / "reports", *facts, *extra, checks=checks)


def result_rows(path: Path) -> list[dict[str, str]]:
    """Every row of the report's results table, as its script draws it from the embedded rows: guest,
    controls, outcome, the cells' text."""
    table = embedded(path, "hp-table")
    texts, outcomes = table["texts"], table["outcomes"]
    rows = []
    for guest, ids, outcome, control, severity, message, waiver in table["rows"]:
        note = "" if waiver < 0 else table["waivers"][waiver][0] + outcomes[table["waivers"][waiver][1]]
        rows.append(
            {
                "guest": table["guests"][guest],
                "controls": " ".join(table["sets"][ids]),
                "outcome": outcomes[outcome],
                "control": texts[control],
                "severity": texts[severity],
                "message": texts[message] + note,
            }
        )
    return rows


def embedded(path: Path, ident: str) -> dict[str, Any]:
    """The JSON of the report's ``<script type="application/json" id=IDENT>`` element."""
    match = re.search(f'<script type="application/json" id="{ident}">(.*?)</script>', path.read_text(), re.S)
    assert match is not None, f"{path} has no {ident}"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def report_data(path: Path) -> dict[str, Any]:
    """The report's embedded data for the guest view: facts, facts errors, each control's reads, statuses."""
    return embedded(path, "hp-data")


def without_note(path: Path) -> str:
    """The report without the re-render note and the Content-Security-Policy that hashes it."""
    text = path.read_text(encoding="utf-8")
    return re.sub(r'<p class="hp-note">.*?</p>', "", text)
