"""A big fleet's report in a real browser: only one page of rows is drawn, and yet every result can be found.

The report of 1,200 guests x 7 controls (8,400 results) is rendered as a run renders it; headless Chromium
opens it with filters, pages and links in the URL, as an auditor would share them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from e2e.browser.browser import Element, chromium, parse_dom, run_chromium
from hotpatch_audit.report.inert import make_inert
from hotpatch_audit.report.page import render_page
from hotpatch_audit.report.sections import row_anchor
from support import SYNTHETIC_RUN

CHROMIUM = chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (CI installs Debian's chromium)")

CONTROLS = [f"HP-0{i}" for i in range(1, 8)]
NEEDLE = "KB5999999 is missing"  # the one result with this text belongs to the fleet's last guest


def fleet(guests: int) -> dict[str, Any]:
    """Every fifth result failed; every hundredth guest unreachable (its errors one row); the last guest's
    HP-05 fails with NEEDLE."""
    results = []
    statuses = []
    for g in range(guests):
        name = f"g{g:04d}"
        unreachable = g % 100 == 50
        for i, control in enumerate(CONTROLS):
            if unreachable:
                outcome, message = "error", "connection refused"
            elif name == f"g{guests - 1:04d}" and control == "HP-05":
                outcome, message = "failed", NEEDLE
            elif (g + i) % 5 == 0:
                outcome, message = "failed", "restart required"
            else:
                outcome, message = "passed", ""
            results.append(
                {
                    "guest": name,
                    "control": control,
                    "title": f"Control {control}",
                    "severity": "high",
                    "outcome": outcome,
                    "message": message,
                    "waiver": None,
                    "test": f"tests/test_x.py::test_{i}[{name}]",
                }
            )
        mine = [r["outcome"] for r in results if r["guest"] == name]
        statuses.append("not evaluated" if "error" in mine else "non-compliant" if "failed" in mine else "compliant")
    return {
        "schema_version": 1,
        "run": dict(SYNTHETIC_RUN),
        "controls": [{"id": c, "title": f"Control {c}", "severity": "high", "refs": [], "reads": []} for c in CONTROLS],
        "guests": [
            {"guest": f"g{g:04d}", "status": s, "facts": None, "facts_error": None} for g, s in enumerate(statuses)
        ],
        "results": results,
        "waivers": None,
    }


def write_page(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(render_page(doc, {}), encoding="utf-8")
    make_inert(path)
    return path


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    doc = fleet(1200)
    return write_page(tmp_path_factory.mktemp("big") / "report.html", doc), doc


def open_report(report: Path, tmp: Path, tail: str = "") -> Element:
    assert CHROMIUM is not None
    proc = run_chromium(CHROMIUM, tmp / "profile", report.as_uri() + tail, "--dump-dom")
    assert "data-hp-ready-ms" in proc.stdout, proc.stderr[-2000:]
    return parse_dom(proc.stdout)


def drawn(dom: Element, table: str) -> list[Element]:
    return [tr for tr in dom.by_id(table).find_all("tr") if "data-guest" in tr.attrs]


def rows_of(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The result rows a report has, in order: one per result, one per unreachable guest's errors."""
    rows: list[tuple[str, str]] = []
    for r in doc["results"]:
        if r["message"] == "connection refused" and rows and rows[-1][0] == r["guest"]:
            rows[-1] = (r["guest"], rows[-1][1] + " " + r["control"])
        else:
            rows.append((r["guest"], r["control"]))
    return rows


def keys(rows: list[Element]) -> list[tuple[str, str]]:
    return [(tr.attrs["data-guest"], tr.attrs["data-controls"]) for tr in rows]


def test_one_page_is_drawn_and_the_counts_cover_the_whole_run(big: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    report, doc = big
    dom = open_report(report, tmp_path)
    total = len(rows_of(doc))
    assert keys(drawn(dom, "hp-results-table")) == rows_of(doc)[:500]
    assert [tr.attrs["data-guest"] for tr in drawn(dom, "hp-matrix")] == [f"g{g:04d}" for g in range(200)]
    count = dom.by_id("hp-f-count").all_text()
    assert count == f"showing 1200 of 1200 guests, {total} of {total} result rows"
    pages = -(-total // 500)
    pager = dom.by_id("hp-pager-results").all_text()
    assert pager.startswith(f"\u00ab\u2039rows 1\u2013500 of {total} (page 1 of {pages})")
    assert "page 1 of 6" in dom.by_id("hp-pager-matrix").all_text()


def test_the_pages_together_hold_every_row(big: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    report, doc = big
    expected = rows_of(doc)
    pages = -(-len(expected) // 500)
    last = drawn(open_report(report, tmp_path, "?hp-page=last"), "hp-results-table")
    assert keys(last) == expected[(pages - 1) * 500 :]
    middle = drawn(open_report(report, tmp_path, "?hp-page=3"), "hp-results-table")
    assert keys(middle) == expected[1000:1500]
    everything = drawn(open_report(report, tmp_path, "?hp-size=all"), "hp-results-table")
    assert keys(everything) == expected
    outcomes = {(r["guest"], r["control"]): r["outcome"] for r in doc["results"]}
    for tr in everything:
        first = tr.attrs["data-controls"].split()[0]
        assert tr.classes == {f"o-{outcomes[(tr.attrs['data-guest'], first)]}"}


def test_the_text_filter_finds_a_result_on_the_last_page(big: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    report, _ = big
    dom = open_report(report, tmp_path, "?hp-text=kb5999999")
    (row,) = drawn(dom, "hp-results-table")
    assert (row.attrs["data-guest"], row.attrs["data-controls"]) == ("g1199", "HP-05")
    assert NEEDLE in row.all_text()
    assert [tr.attrs["data-guest"] for tr in drawn(dom, "hp-matrix")] == ["g1199"]
    assert dom.by_id("hp-f-count").all_text().startswith("showing 1 of 1200 guests, 1 of ")


def test_filters_count_over_every_page(big: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    report, doc = big
    failed = [r for r in doc["results"] if r["outcome"] == "failed" and r["control"] == "HP-03"]
    dom = open_report(report, tmp_path, "?hp-outcome=failed&hp-control=HP-03&hp-size=100&hp-page=last")
    rows = drawn(dom, "hp-results-table")
    assert len(failed) > 100
    assert keys(rows) == [(r["guest"], "HP-03") for r in failed][(len(failed) - 1) // 100 * 100 :]
    guests = {r["guest"] for r in failed}
    text = dom.by_id("hp-f-count").all_text()
    assert text == f"showing {len(guests)} of 1200 guests, {len(failed)} of {len(rows_of(doc))} result rows"
    late = open_report(report, tmp_path, "?hp-guest=g11*&hp-status=not+evaluated")
    (errors,) = drawn(late, "hp-results-table")
    assert (errors.attrs["data-guest"], errors.attrs["data-controls"]) == ("g1150", " ".join(CONTROLS))
    assert f"{len(CONTROLS)} controls" in errors.all_text()


def test_a_link_to_a_result_opens_the_page_that_holds_it(big: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    report, doc = big
    anchor = row_anchor("g1100", "HP-04")
    dom = open_report(report, tmp_path, f"#{anchor}")
    row = dom.by_id(anchor)
    assert "hp-flash" in row.classes
    position = rows_of(doc).index(("g1100", "HP-04"))
    assert f"page {position // 500 + 1} of" in dom.by_id("hp-pager-results").all_text()


def test_printing_prints_every_result(tmp_path: Path) -> None:
    doc = fleet(80)  # 560 rows: two pages of 500 on screen
    report = write_page(tmp_path / "report.html", doc)
    pdf = tmp_path / "report.pdf"
    assert CHROMIUM is not None
    run_chromium(CHROMIUM, tmp_path / "profile", report.as_uri(), f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert pdf.is_file()
    try:
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    except FileNotFoundError:
        pytest.skip("no pdftotext (poppler-utils) to read the PDF")
    assert NEEDLE in text  # the last guest's result, on the second page on screen
    assert text.count("restart required") == sum(r["message"] == "restart required" for r in doc["results"])
