"""Run the real checks in a child pytest on a small recorded fleet, and read what the run wrote."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from support import Run, facts_doc, run_audit, write_facts

AS_OF = "2026-05-27"

# Facts changes (see support.facts_doc) that make exactly one control fail or error.
FAIL_HP04 = {"security__vbs_status": 1}
FAIL_HP07 = {"reboot_pending__windows_update": True}
ERROR_HP04 = {"unreadable": ("security.vbs_status",)}


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


def audit(tmp: Path, *extra: str, inventory: Path | None = None) -> Run:
    """Audit the fleet written by write_fleet in a child pytest; return its exit code, output and results."""
    facts = ("--facts-dir", str(tmp / "facts"), "--as-of", AS_OF)
    return run_audit(inventory or tmp / "inventory.yml", tmp / "reports", *facts, *extra)


def report_data(path: Path) -> dict[str, Any]:
    """pytest-html's data blob of a report: environment, tests by node id, each with its table row and log."""
    text = path.read_text(encoding="utf-8")
    match = re.search(r'data-jsonblob="([^"]*)"', text)
    assert match is not None, f"{path} has no pytest-html data"
    data: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return data


def table_rows(path: Path) -> list[dict[str, Any]]:
    """Every row of the results table, in the report's order, without what depends on the rendering machine."""
    return [test for tests in report_data(path)["tests"].values() for test in tests]


def audit_sections(path: Path) -> str:
    """The audit sections of a report (header to raw facts), without the re-render note."""
    text = path.read_text(encoding="utf-8")
    start, end = text.index('<div id="hp-top">'), text.index("<script>/* Hotpatch audit report")
    return re.sub(r'<p class="hp-note">.*?</p>', "", text[start:end])
