"""pytest-html integration: the audit sections, the results table's columns, each row's details.

Every row is rendered from the report's user properties and extras only, and the sections from the results
document and the stored facts only, so ``python -m hotpatch_audit report`` reproduces the table exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from html import escape
from pathlib import Path
from typing import Any

import pytest
from pytest_html import extras

from hotpatch_audit.errors import FactsError
from hotpatch_audit.facts import GuestFacts, facts_path
from hotpatch_audit.pytest_plugin.outcome import DECIDING_PHASES, result_of
from hotpatch_audit.pytest_plugin.recorder import fact_values
from hotpatch_audit.report.sections import render_sections, row_anchor

TITLE = "Hotpatch compliance audit"
# Duration measures microseconds of evaluating facts already in memory, and Links would stay empty: both go.
_DROPPED = ('data-column-type="duration"', "col-duration", "<th>Links</th>", "col-links")


def facts_extra(facts: GuestFacts, reads: tuple[str, ...]) -> dict[str, Any]:
    """An HTML extra with the facts a control judged (shown in the row's details), one ``key: value`` a line.

    Plain lines rather than a table: pytest-html stores every row's extras in one escaped attribute, so markup
    is paid for several times over in a fleet's report.
    """
    lines = ["facts read"]
    for key, value in fact_values(facts, reads).items():
        if isinstance(value, dict) and "unreadable" in value:
            lines.append(f"{key}: could not be read: {value['unreadable']}")
        else:
            lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    return dict(extras.html(f'<pre class="hp-read">{escape(chr(10).join(lines), quote=False)}</pre>'))


def read_facts_texts(run_dir: Path, guests: list[str]) -> dict[str, str]:
    """The stored facts file of each guest that has one, as text."""
    texts = {}
    for guest in guests:
        try:
            path = facts_path(run_dir / "facts", guest)
        except FactsError:
            continue  # a name no facts file can have: the run stored none for it
        if path.is_file():
            texts[guest] = path.read_text(encoding="utf-8", errors="replace")
    return texts


class HtmlHooks:
    """pytest-html hooks, registered only when pytest-html is active."""

    def __init__(self, document: Callable[[], Mapping[str, Any]], run_dir: Path, note: str = "") -> None:
        self.document = document
        self.run_dir = run_dir
        self.note = note

    def pytest_html_report_title(self, report: Any) -> None:
        """Name the report after the audit."""
        report.title = TITLE

    def pytest_html_results_summary(self, prefix: list[str]) -> None:
        """Add the audit sections: run header, fleet summary, waivers, matrix, controls, raw facts."""
        doc = self.document()
        texts = read_facts_texts(self.run_dir, [g["guest"] for g in doc.get("guests", [])])
        prefix.append(render_sections(doc, texts, self.note))

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        """Result, Guest, Control, Severity, Message, Test."""
        kept = [c for c in cells if not any(d in c for d in _DROPPED)]
        cells[:] = [
            kept[0],
            '<th class="sortable" data-column-type="guest">Guest</th>',
            '<th class="sortable" data-column-type="control">Control</th>',
            '<th class="sortable" data-column-type="severity">Severity</th>',
            "<th>Message</th>",
            *kept[1:],
        ]

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        """Fill the columns from the report's result; the deciding row carries the matrix's anchor."""
        result = result_of(report)
        kept = [c for c in cells if not any(d in c for d in _DROPPED)]
        if result is None:
            cells[:] = [
                kept[0],
                "<td></td>",
                "<td></td>",
                "<td></td>",
                "<td></td>",
                f"<td>{escape(report.nodeid)}</td>",
            ]
            return
        anchor = f' id="{row_anchor(result.guest, result.control)}"' if report.when in DECIDING_PHASES else ""
        test_id = report.nodeid if report.when == "call" else f"{report.nodeid}::{report.when}"
        cells[:] = [
            kept[0],
            f'<td class="col-guest"{anchor}>{escape(result.guest)}</td>',
            f'<td class="col-control" data-control="{escape(result.control)}">'
            f"{escape(f'{result.control} {result.title}')}</td>",
            f'<td class="col-severity">{escape(result.severity)}</td>',
            f'<td class="col-message">{escape(result.message)}</td>',
            f'<td class="col-testId">{escape(test_id)}</td>',  # pytest-html inserts the raw node id
        ]

    def pytest_html_results_table_html(self, report: pytest.TestReport, data: list[str]) -> None:
        """Show the audit's own account of the test instead of a traceback (JUnit keeps the traceback)."""
        result = result_of(report)
        if result is None:
            return
        lines = [
            f"{result.control} {result.title} (severity {result.severity}) on {result.guest}",
            f"outcome: {result.outcome}",
        ]
        if result.message:
            lines.append(f"message: {result.message}")
        w = result.waiver
        if w is not None:
            ticket = f", ticket {w['ticket']}" if w.get("ticket") else ""
            lines.append(
                f"waiver #{w.get('entry') or '?'}: {w['justification']}; approved by {w['approved_by']} until "
                f"{w['expires']}{ticket}; underlying outcome: {w['underlying_outcome']}"
            )
        data[:] = [escape("\n".join(lines)) + "\n"]
