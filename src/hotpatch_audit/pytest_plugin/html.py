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

from hotpatch_audit.facts import GuestFacts
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
        path = run_dir / "facts" / f"{guest}.json"
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
        """Fill the columns from the report's properties; the deciding row carries the matrix's anchor."""
        props = {k: str(v) for k, v in report.user_properties}
        kept = [c for c in cells if not any(d in c for d in _DROPPED)]
        guest, control = props.get("guest", ""), props.get("control", "")
        anchor = f' id="{row_anchor(guest, control)}"' if "outcome" in props and report.when != "teardown" else ""
        title = f"{control} {props.get('title', '')}"
        cells[:] = [
            kept[0],
            f'<td class="col-guest"{anchor}>{escape(guest)}</td>',
            f'<td class="col-control" data-control="{escape(control)}">{escape(title)}</td>',
            f'<td class="col-severity">{escape(props.get("severity", ""))}</td>',
            f'<td class="col-message">{escape(props.get("message", ""))}</td>',
            *kept[1:],
        ]

    def pytest_html_results_table_html(self, report: pytest.TestReport, data: list[str]) -> None:
        """Show the audit's own account of the test instead of a traceback (JUnit keeps the traceback)."""
        props = {k: str(v) for k, v in report.user_properties}
        if "control" not in props:
            return
        lines = [
            f"{props['control']} {props.get('title', '')} (severity {props.get('severity', '')}) on {props['guest']}",
            f"outcome: {props.get('outcome') or report.outcome}",
        ]
        if props.get("message"):
            lines.append(f"message: {props['message']}")
        if "waiver.justification" in props:
            ticket = f", ticket {props['waiver.ticket']}" if props.get("waiver.ticket") else ""
            lines.append(
                f"waiver #{props.get('waiver.entry', '?')}: {props['waiver.justification']}; approved by "
                f"{props['waiver.approved_by']} until {props['waiver.expires']}{ticket}; underlying outcome: "
                f"{props.get('waiver.underlying_outcome', '')}"
            )
        data[:] = [escape("\n".join(lines)) + "\n"]
