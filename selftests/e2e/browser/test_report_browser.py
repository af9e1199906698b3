"""report.html in a real browser: headless Chromium renders the demo report offline, and its filters work.

A screenshot of the demo report is saved as ``screenshot.png`` in the run directory the test creates.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from e2e.browser.browser import Element, chromium, page_requests, parse_dom, run_chromium
from support import REPO

CHROMIUM = chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (CI installs Debian's chromium)")

DEMO_WAIVERS = """waivers:
  - guests: [all]
    control: HP-04
    justification: Restarts are scheduled for the June maintenance window
    approved_by: J. Doe (change advisory board)
    expires: 2026-06-30
    ticket: CHG-4711
  - guests: [all]
    control: HP-07
    justification: Old exception for pending restarts
    approved_by: A. Smith
    expires: 2026-01-31
  - guests: [no-such-guest]
    control: HP-05
    justification: Guest removed last year
    approved_by: A. Smith
    expires: 2026-12-31
"""
# What makes a page load from the network: src/href of fetching elements, url(), @import, scripted requests.
FETCHING = re.compile(
    r"""<(?:script|img|iframe|embed|source|video|audio|object|track)\b[^>]*\b(?:src|data)\s*=\s*["']?(?:[a-z]+:)?//"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?(?:[a-z]+:)?//"""
    r"""|url\(\s*["']?(?:[a-z]+:)?//|@import|\bfetch\(|XMLHttpRequest|WebSocket\(|EventSource\(|sendBeacon""",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Demo:
    run_dir: Path
    results: dict[str, Any]


@dataclass(frozen=True)
class Page:
    dom: Element
    console: str
    requests: list[str]

    def result_rows(self) -> list[Element]:
        return [tr for tr in self.dom.by_id("hp-results-table").find_all("tr") if "data-guest" in tr.attrs]

    def matrix_rows(self) -> list[Element]:
        return [tr for tr in self.dom.by_id("hp-matrix").find_all("tr") if "data-guest" in tr.attrs]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    tmp = tmp_path_factory.mktemp("demo")
    (tmp / "waivers.yml").write_text(DEMO_WAIVERS)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hotpatch_audit",
            "demo",
            "--report-dir",
            str(tmp / "reports"),
            "--",
            "--waivers",
            str(tmp / "waivers.yml"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    (run_dir,) = [p for p in (tmp / "reports").iterdir() if p.is_dir()]
    assert (run_dir / "report.html").is_file(), proc.stdout + proc.stderr
    return Demo(run_dir, json.loads((run_dir / "results.json").read_text()))


def open_page(demo: Demo, tmp: Path, query: str = "", *extra: str) -> Page:
    assert CHROMIUM is not None
    netlog = tmp / "netlog.json"
    url = (demo.run_dir / "report.html").resolve().as_uri() + query
    proc = run_chromium(
        CHROMIUM, tmp / "profile", url, "--dump-dom", "--enable-logging=stderr", f"--log-net-log={netlog}", *extra
    )
    assert "<html" in proc.stdout, proc.stderr[-2000:]
    return Page(parse_dom(proc.stdout), proc.stderr, page_requests(netlog))


@pytest.fixture(scope="module")
def page(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Page:
    return open_page(demo, tmp_path_factory.mktemp("page"))


def test_the_page_runs_without_script_errors(page: Page) -> None:
    assert "Uncaught" not in page.console
    assert page.dom.find_all("body")[0].attrs.get("data-hp-ready-ms"), "the report's script did not finish"


def test_an_auditor_reads_no_test_runner_leftovers(page: Page) -> None:
    text = page.dom.all_text()
    for leftover in ("pytest-html", "Environment", "tests took", "Unexpected passes", "Reruns", "::setup", "Retried"):
        assert leftover not in text


def test_the_controls_come_before_the_results(demo: Demo) -> None:
    html = (demo.run_dir / "report.html").read_text(encoding="utf-8")
    order = [html.index(f'id="{section}"') for section in ("hp-run", "hp-fleet", "hp-controls", "hp-matrix")]
    assert order == sorted(order)
    assert order[-1] < html.index('id="hp-results"')
    assert "Only Windows Server Datacenter: Azure Edition" in html


def test_the_summary_renders(page: Page, demo: Demo) -> None:
    statuses = [g["status"] for g in demo.results["guests"]]
    tiles = {t.attrs["data-status"]: t for t in page.dom.by_id("hp-fleet").find_all("button", "hp-tile")}
    for status in ("compliant", "non-compliant", "not evaluated"):
        (number,) = tiles[status].find_all("b")
        assert number.all_text() == str(statuses.count(status))
    rate_rows = page.dom.by_id("hp-fleet").find_all("tr")[1:]
    assert len(rate_rows) == len(demo.results["controls"]) == 9
    assert "%" in rate_rows[0].all_text()
    assert demo.results["run"]["inventory_sha256"] in page.dom.by_id("hp-run").all_text()
    assert "complete" in page.dom.by_id("hp-run").all_text()


def test_the_matrix_renders_every_result_with_a_link_to_its_row(page: Page, demo: Demo) -> None:
    rows = page.matrix_rows()
    assert [r.attrs["data-guest"] for r in rows] == [g["guest"] for g in demo.results["guests"]]
    in_table = {(tr.attrs["data-guest"], c) for tr in page.result_rows() for c in tr.attrs["data-controls"].split()}
    outcomes = {(r["guest"], r["control"]): r["outcome"] for r in demo.results["results"]}
    controls = [c["id"] for c in demo.results["controls"]]
    for row in rows:
        cells = row.find_all("td")[1:]
        for control, cell in zip(controls, cells, strict=True):
            assert cell.classes == {f"o-{outcomes[(row.attrs['data-guest'], control)]}"}
            assert (row.attrs["data-guest"], control) in in_table


def test_the_waiver_details_render(page: Page, demo: Demo) -> None:
    table = page.dom.by_id("hp-waiver-table").all_text()
    for text in ("Restarts are scheduled for the June maintenance window", "J. Doe (change advisory board)"):
        assert text in table
    assert "2026-06-30" in table
    assert "CHG-4711" in table
    assert "waiver expired on 2026-01-31: ignored" in table
    assert "matched nothing: no guest or group of the inventory matches its guests" in table
    waived = [r for r in demo.results["results"] if r["outcome"] == "waived"]
    assert waived, "the demo fleet has HP-04 failures or errors to waive"
    listed = page.dom.by_id("hp-waived").find_all("tbody")[0].find_all("tr")
    assert len(listed) == len(waived)
    assert {r.find_all("td")[2].all_text() for r in listed} <= {"failed", "error"}
    waived_rows = [t for t in page.result_rows() if "o-waived" in t.classes]
    assert sum(len(t.attrs["data-controls"].split()) for t in waived_rows) == len(waived)
    assert all("approved by J. Doe" in t.all_text() for t in waived_rows)


def test_one_row_per_result_and_one_per_unreachable_guest(page: Page, demo: Demo) -> None:
    rows = page.result_rows()
    assert sum(len(t.attrs["data-controls"].split()) for t in rows) == len(demo.results["results"])
    for guest in (g for g in demo.results["guests"] if g["facts_error"]):
        mine = [r for r in demo.results["results"] if r["guest"] == guest["guest"] and r["outcome"] == "error"]
        shown = [t for t in rows if t.attrs["data-guest"] == guest["guest"] and "o-error" in t.classes]
        # One row per distinct message (an expired waiver's note makes one message differ), never one per control.
        assert len(shown) == len({r["message"] for r in mine}) < len(mine)
        assert sorted(c for t in shown for c in t.attrs["data-controls"].split()) == sorted(r["control"] for r in mine)
        main = max(shown, key=lambda t: len(t.attrs["data-controls"].split()))
        assert f"{len(main.attrs['data-controls'].split())} controls" in main.all_text()
        assert main.all_text().count(guest["facts_error"]) == 1  # one message per row, never twice


def test_a_filter_hides_rows(demo: Demo, tmp_path: Path) -> None:
    failed = {(r["guest"], r["control"]) for r in demo.results["results"] if r["outcome"] == "failed"}
    page = open_page(demo, tmp_path, "?hp-outcome=failed")
    shown = page.result_rows()  # the rows a filter leaves out are not drawn
    assert len(shown) == len(failed)
    assert all("o-failed" in t.classes for t in shown)
    guests_shown = {r.attrs["data-guest"] for r in page.matrix_rows()}
    assert guests_shown == {g for g, _ in failed}
    count = page.dom.by_id("hp-f-count").all_text()
    assert count.startswith(f"showing {len(guests_shown)} of {len(demo.results['guests'])} guests, {len(failed)} of ")


def test_guest_and_control_filters_combine(demo: Demo, tmp_path: Path) -> None:
    page = open_page(demo, tmp_path, "?hp-guest=hci-vm-0*&hp-control=HP-04")
    shown = page.result_rows()
    expected = {
        r["guest"] for r in demo.results["results"] if r["control"] == "HP-04" and r["guest"].startswith("hci-vm-0")
    }
    assert {t.attrs["data-guest"] for t in shown} == expected
    for row in shown:
        assert "HP-04" in row.attrs["data-controls"].split()
        assert row.attrs["data-guest"].startswith("hci-vm-0")


def test_the_guest_view_shows_results_facts_read_and_facts(demo: Demo, tmp_path: Path) -> None:
    guest = next(g for g in demo.results["guests"] if g["facts"])
    page = open_page(demo, tmp_path, f"?hp-guest={guest['guest']}")
    dialog = page.dom.by_id("hp-guest-dialog")
    assert "open" in dialog.attrs
    shown = json.loads(dialog.find_all("pre")[0].all_text())
    assert shown == json.loads((demo.run_dir / guest["facts"]).read_text(encoding="utf-8"))
    rows = page.dom.by_id("hp-guest-results").find_all("tbody")[0].find_all("tr")
    assert len(rows) == len([r for r in demo.results["results"] if r["guest"] == guest["guest"]])
    reads = " ".join(td.all_text() for td in page.dom.by_id("hp-guest-results").find_all("td", "hp-reads"))
    assert "security.vbs_status:" in reads
    broken = next(g for g in demo.results["guests"] if g["facts_error"])
    page = open_page(demo, tmp_path, f"?hp-guest={broken['guest']}")
    assert broken["facts_error"] in page.dom.by_id("hp-guest-error").all_text()


def test_the_report_prints_to_a_readable_pdf(demo: Demo, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    assert CHROMIUM is not None
    url = (demo.run_dir / "report.html").resolve().as_uri()
    run_chromium(CHROMIUM, tmp_path / "profile", url, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert pdf.is_file()
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False)
    if info.returncode != 0:
        pytest.skip("no pdfinfo (poppler-utils) to read the PDF")
    pages = int(next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages:")))
    assert 2 <= pages <= 40
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for needle in ("Hotpatch compliance audit", "Controls: what is checked and why", "Results", "hci-vm-18"):
        assert needle in text


def test_the_page_loads_nothing_from_the_network(page: Page, demo: Demo, tmp_path: Path) -> None:
    html = (demo.run_dir / "report.html").read_text(encoding="utf-8")
    assert FETCHING.findall(html) == []
    assert page.requests == []
    # The same check sees a page that does load something: the NetLog method is not blind.
    leaky = tmp_path / "leaky.html"
    leaky.write_text('<html><body><img src="http://example.invalid/pixel.png"></body></html>')
    assert FETCHING.findall(leaky.read_text())
    netlog = tmp_path / "netlog.json"
    assert CHROMIUM is not None
    run_chromium(CHROMIUM, tmp_path / "profile", leaky.as_uri(), "--dump-dom", f"--log-net-log={netlog}")
    assert page_requests(netlog) == ["http://example.invalid/pixel.png"]


def test_a_screenshot_of_the_demo_report_is_saved_in_its_run_directory(demo: Demo, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    shot = demo.run_dir / "screenshot.png"
    url = (demo.run_dir / "report.html").resolve().as_uri()
    proc = run_chromium(CHROMIUM, tmp_path / "profile", url, f"--screenshot={shot}", "--window-size=1400,2400")
    assert shot.is_file(), proc.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000


def test_the_promise_is_measured_and_charted(page: Page, demo: Demo) -> None:
    section = page.dom.by_id("hp-promise")
    text = section.all_text()
    assert "% of update restarts avoided" in text
    assert "promised: 67 %" in text
    assert "Next baseline restart expected in" in text
    assert section.find_all("svg")
    counted = [g for g in demo.results["guests"] if g.get("restarts")]
    assert counted
    assert len(section.find_all("details")[0].find_all("tbody")[0].find_all("tr")) == len(counted)
