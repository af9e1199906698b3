"""The trend page in headless Chromium: it renders offline, runs no script, fetches nothing, and shows the chart
and the changes. A screenshot is saved as ``trend.png`` beside the page the test writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e.browser.browser import chromium, page_requests, parse_dom, run_chromium
from e2e.evidence.evidence import WEEKS, cli, weekly_runs

CHROMIUM = chromium()
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary")]


def test_trend_page_in_chromium(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    reports = tmp_path / "reports"
    weekly_runs(tmp_path, reports)
    out = tmp_path / "trend.html"
    assert cli("trend", str(reports), "--out", str(out)).returncode == 0
    netlog = tmp_path / "netlog.json"
    url = out.resolve().as_uri()
    proc = run_chromium(
        CHROMIUM, tmp_path / "profile", url, "--dump-dom", "--enable-logging=stderr", f"--log-net-log={netlog}"
    )
    assert "<html" in proc.stdout, proc.stderr[-2000:]
    assert "Uncaught" not in proc.stderr
    assert "Content Security Policy" not in proc.stderr  # nothing on the page needed what the policy forbids
    assert page_requests(netlog) == []
    dom = parse_dom(proc.stdout)
    chart = dom.by_id("chart")
    (svg,) = chart.find_all("svg")
    assert len(svg.find_all("circle", data_control="HP-04")) == len(WEEKS)
    rows = dom.by_id("changes").find_all("tr")[1:]
    assert [r.find_all("td")[0].all_text() for r in rows] == [day for day, _ in WEEKS[1:]]
    assert "hci-vm-02 (HP-04)" in rows[0].all_text()
    assert rows[1].find_all("td", "fixed")[0].all_text() == "hci-vm-02"
    assert dom.by_id("always").all_text().endswith("hci-vm-03")
    shot = run_chromium(
        CHROMIUM, tmp_path / "profile2", url, f"--screenshot={tmp_path / 'trend.png'}", "--window-size=900,1200"
    )
    assert (tmp_path / "trend.png").stat().st_size > 10_000, shot.stderr[-2000:]
