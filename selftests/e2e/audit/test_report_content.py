"""What the report may and may not contain: escaped guest text, no secrets, a small page for a big fleet."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from auditrun import FAIL_HP04, audit, write_fleet
from hotpatch_audit.report.page import render_page
from hotpatch_audit.report.sections import row_anchor
from support import SYNTHETIC_RUN

HOSTILE = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"


def document(guests: int, message: str = "restart required") -> dict[str, Any]:
    controls = [
        {"id": f"HP-0{i}", "title": f"Control {i}", "severity": "high", "refs": [], "reads": []} for i in range(1, 8)
    ]
    results = [
        {
            "guest": f"g{g:04d}",
            "control": c["id"],
            "title": c["title"],
            "severity": "high",
            "outcome": "failed" if (g + i) % 5 == 0 else "passed",
            "message": message if (g + i) % 5 == 0 else "",
            "waiver": None,
            "test": f"tests/test_x.py::test_{i}[g{g:04d}]",
        }
        for g in range(guests)
        for i, c in enumerate(controls)
    ]
    return {
        "schema_version": 1,
        "run": dict(SYNTHETIC_RUN),
        "controls": controls,
        "guests": [{"guest": f"g{g:04d}", "status": "non-compliant", "facts": None} for g in range(guests)],
        "results": results,
        "waivers": None,
    }


def test_guest_text_cannot_break_out_of_the_page() -> None:
    doc = document(1, message=HOSTILE)
    doc["guests"][0]["facts_error"] = HOSTILE
    page = render_page(doc, {"g0000": HOSTILE})
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert page.count("</script>") == 3  # the report's rows, its guests' facts and its own script, nothing else
    blob = re.search(r'<script type="application/json" id="hp-data">(.*?)</script>', page, re.S)
    assert blob is not None
    assert json.loads(blob.group(1))["facts"]["g0000"] == HOSTILE


def test_row_anchors_are_safe_and_distinct() -> None:
    assert row_anchor("hci-vm-01", "HP-04") == "hp-r-hci-vm-01-HP-04"
    odd = row_anchor('srv "a"<b> ü', "HP-04")
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", odd)
    assert odd != row_anchor("srv _22_a_22__3c_b_3e__20__fc_", "HP-05")


def test_a_big_fleet_is_data_not_rows() -> None:
    page = render_page(document(1000), {})
    # 7,000 results, a fifth of them failed with a message: no HTML row each, one entry each in the embedded rows.
    assert '<tr data-guest="' not in page
    blob = re.search(r'<script type="application/json" id="hp-table">(.*?)</script>', page, re.S)
    assert blob is not None
    table = json.loads(blob.group(1))
    assert len(table["rows"]) == 7000
    assert len(table["guests"]) == len(table["cells"]) == 1000
    assert table["texts"].count("restart required") == 1  # every text once, however many rows show it
    assert len(page.encode()) < 250_000  # under 36 bytes per result


@pytest.mark.parametrize("workers", [[], ["-n", "2"]])
def test_no_password_reaches_the_run_directory(tmp_path: Path, workers: list[str]) -> None:
    inventory = write_fleet(tmp_path, {"a": {}, "b": FAIL_HP04})
    secret = "S3cret-Inventory-Pa55"
    text = inventory.read_text().replace("  vars:\n", f"  vars:\n    ansible_password: {secret}\n")
    inventory.write_text(text)
    run = audit(tmp_path, *workers)
    assert run.results, run.output
    for path in run.run_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in run.output
