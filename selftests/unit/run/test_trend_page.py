"""The trend page escapes what guests and runs are called, and stays inert whatever they hold."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hotpatch_audit.report.inert import make_inert
from hotpatch_audit.report.trend import DAY_LABEL_PX, render_html

HOSTILE = '<script>alert(1)</script><img src=x onerror="fetch(`//evil.example`)">'


def trend(guest: str) -> dict[str, Any]:
    controls = {"HP-04": {"passed": 1, "waived": 0, "failed": 1, "error": 0, "skipped": 0, "compliance": 0.5}}
    run = {"id": "r1", "day": "2026-06-03", "path": "/x", "guests": {"non-compliant": 1}, "failing": [guest]}
    return {
        "reports_dir": HOSTILE,
        "since": None,
        "runs": [{**run, "controls": controls}, {**run, "id": HOSTILE, "day": "2026-06-10", "controls": controls}],
        "skipped": [{"path": HOSTILE, "reason": HOSTILE, "kind": "unverified"}],
        "changes": [
            {"from": "r1", "to": "r2", "day": "2026-06-10", "newly_failing": {guest: ["HP-04"]}, "newly_fixed": [guest]}
        ],
        "failing_in_every_run": [guest],
        "restarts_per_month": {"2026-06": 2},
    }


def test_hostile_names_are_text_and_the_page_runs_no_script(tmp_path: Path) -> None:
    page = tmp_path / "trend.html"
    page.write_text(render_html(trend(HOSTILE)), encoding="utf-8")
    make_inert(page)
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text
    assert "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "script-src 'none'" in text
    assert "default-src 'none'" in text
    assert 'id="restarts"' in text
    assert 'id="skipped"' in text


def test_trend_imports_no_simulator() -> None:
    probe = (
        "import importlib, sys; import hotpatch_audit.__main__ as m; importlib.import_module(m.COMMANDS['trend'][0]); "
        "print([n for n in sys.modules if n.startswith('hotpatch_audit.testing')])"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _axis_days(page: str) -> list[str]:
    return re.findall(r'text-anchor="middle">(\d{4}-\d{2}-\d{2})</text>', page)


def test_day_labels_never_overlap_and_the_newest_run_is_always_labelled() -> None:
    base = trend("vm")
    few, many = base["runs"][:2], []
    for week in range(30):
        many.append(
            {**base["runs"][0], "id": f"r{week}", "day": (date(2026, 1, 5) + timedelta(weeks=week)).isoformat()}
        )
    assert _axis_days(render_html({**base, "runs": few})) == ["2026-06-03", "2026-06-10"]
    labelled = _axis_days(render_html({**base, "runs": many}))
    assert labelled[-1] == many[-1]["day"]
    plot_width = 760 - 48 - 150
    assert 1 < len(labelled) <= plot_width // DAY_LABEL_PX
