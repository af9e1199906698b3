"""A report built from hostile guest names and facts stays inert in a real browser: no script of theirs runs
and no request leaves the page (headless Chromium, NetLog)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from auditrun import audit, write_fleet
from e2e.browser.browser import chromium, page_requests, parse_dom, run_chromium
from hotpatch_audit.report.sections import row_anchor
from support import REPO

CHROMIUM = chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (CI installs Debian's chromium)")

HOSTILE = {
    "vm-1": "n2'\"><svg onload=document.documentElement.setAttribute('x','1')>",
    "vm-2": "vm<img src=http:127.0.0.1:9>",
}
CAPTION = "</script><script>document.documentElement.setAttribute('y','1')</script>"


def _hostile_run(tmp: Path) -> Path:
    """A real run, then its data rewritten with hostile names and captions, and its report rendered from it."""
    write_fleet(tmp, {"vm-1": {"os__caption": CAPTION}, "vm-2": {"security__vbs_status": 1}})
    run = audit(tmp)
    doc = json.loads((run.run_dir / "results.json").read_text())
    text = json.dumps(doc)
    for plain, hostile in HOSTILE.items():
        text = text.replace(json.dumps(plain)[1:-1], json.dumps(hostile)[1:-1])
        facts = json.loads((run.run_dir / "facts" / f"{plain}.json").read_text())
        facts["guest"] = hostile
        (run.run_dir / "facts" / f"{hostile}.json").write_text(json.dumps(facts))
        (run.run_dir / "facts" / f"{plain}.json").unlink()
    (run.run_dir / "results.json").write_text(text)
    command = [sys.executable, "-m", "hotpatch_audit", "report", str(run.run_dir), "--no-verify"]
    proc = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return run.run_dir / "report.html"


def test_hostile_names_and_facts_run_no_script_and_fetch_nothing(tmp_path: Path) -> None:
    report = _hostile_run(tmp_path)
    page = report.read_text(encoding="utf-8")
    assert 'http-equiv="Content-Security-Policy"' in page
    assert HOSTILE["vm-1"] not in page  # never verbatim: escaped wherever it is shown
    netlog = tmp_path / "netlog.json"
    assert CHROMIUM is not None
    proc = run_chromium(CHROMIUM, tmp_path / "profile", report.as_uri(), "--dump-dom", f"--log-net-log={netlog}")
    dom = parse_dom(proc.stdout)
    html = dom.find_all("html")[0]
    assert "x" not in html.attrs
    assert "y" not in html.attrs
    assert page_requests(netlog) == []
    guests = [tr.attrs["data-guest"] for tr in dom.by_id("hp-matrix").find_all("tr") if "data-guest" in tr.attrs]
    assert sorted(guests) == sorted(HOSTILE.values())  # shown as text, intact
    rows = [tr for tr in dom.by_id("hp-results-table").find_all("tr") if "data-guest" in tr.attrs]
    assert {tr.attrs["data-guest"] for tr in rows} == set(HOSTILE.values())
    for tr in rows:  # the ids the page's script gives its rows are the ids the report's links point to
        assert tr.attrs["id"] == row_anchor(tr.attrs["data-guest"], tr.attrs["data-controls"].split()[0])
