"""pytest-html integration: title, Guest/Control/Severity columns, the facts each control read, the summary."""

from __future__ import annotations

import html
from typing import Any

import pytest
from pytest_html import extras

from hotpatch_audit.evidence import Recorder, fact_values
from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.session import AuditSession


def facts_extra(facts: GuestFacts, reads: tuple[str, ...]) -> dict[str, Any]:
    """A JSON extra with the facts a control judged."""
    return dict(extras.json(fact_values(facts, reads), name="facts read"))


class HtmlHooks:
    """pytest-html hooks, registered only when pytest-html is active."""

    def __init__(self, session: AuditSession, recorder: Recorder) -> None:
        self.session = session
        self.recorder = recorder

    def pytest_html_report_title(self, report: Any) -> None:
        """Name the report after the audit."""
        report.title = "Hotpatch compliance audit"

    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str]) -> None:
        """Put the run's inputs and the fleet verdicts above the results table."""
        s = self.session
        lines = [
            f"Run {s.run_id} ({s.mode}), started {s.started_text}",
            f"Inventory {s.options.inventory} (sha256 {s.inventory_sha256[:12]}), limit {s.options.limit or 'all'}",
            f"As of {s.options.as_of or 'each guest collected_at'}; grace {s.policy.grace_days} days; "
            f"policy {s.policy.source}",
            "Catalog newest month: "
            + ", ".join(f"{k}: {v}" for k, v in s.catalog.newest_months().items())
            + f" (sha256 {s.catalog.sha256[:12]})",
            self.recorder.summary_line(None).split(" \u2014 ")[0],
        ]
        prefix.extend(f"<p>{html.escape(line)}</p>" for line in lines)

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        """Add sortable Guest, Control and Severity columns."""
        cells.insert(1, '<th class="sortable" data-column-type="guest">Guest</th>')
        cells.insert(2, '<th class="sortable" data-column-type="control">Control</th>')
        cells.insert(3, '<th class="sortable" data-column-type="severity">Severity</th>')

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        """Fill the added columns from the report's properties."""
        props = dict(report.user_properties)
        cells.insert(1, f'<td class="col-guest">{html.escape(str(props.get("guest", "")))}</td>')
        control = f"{props.get('control', '')} {props.get('title', '')}".strip()
        cells.insert(2, f'<td class="col-control">{html.escape(control)}</td>')
        cells.insert(3, f'<td class="col-severity">{html.escape(str(props.get("severity", "")))}</td>')
