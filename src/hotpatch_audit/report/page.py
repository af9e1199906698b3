"""report.html: the auditor's page, rendered from results.json and the stored facts alone.

The run, ``python -m hotpatch_audit report`` and ``merge`` all call :func:`render_page`, so a re-rendered or
merged report shows exactly what the data says. Reading order is an auditor's: the run and its completeness,
the fleet summary, the controls (rationale, references, facts read) before any result, waivers, the guest x
control matrix, then one row per result, with an unreachable guest's identical errors as one row naming the
controls it blocks. A guest's view (``?hp-guest=NAME``, or its name in any row) shows all its results, its
waivers and its facts as readable JSON. Facts are stored once per guest, not per result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from hotpatch_audit.errors import FactsError
from hotpatch_audit.facts import facts_path
from hotpatch_audit.report.inert import make_inert
from hotpatch_audit.report.sections import (
    OUTCOME_MARKS,
    asset,
    catalogue,
    fleet,
    header,
    matrix,
    promise,
    row_anchor,
    script_json,
    waivers,
)

TITLE = "Hotpatch compliance audit"


def render_page(doc: Mapping[str, Any], facts_texts: Mapping[str, str], note: str = "") -> str:
    """The whole report as one self-contained HTML document."""
    controls = [c["id"] for c in doc.get("controls", [])] or sorted({r["control"] for r in doc["results"]})
    run = doc["run"]
    body = "\n".join(
        part
        for part in (
            f"<h1>{TITLE}</h1>",
            header(doc, note),
            fleet(doc, controls),
            promise(doc),
            catalogue(doc),
            waivers(doc),
            matrix(doc, controls),
            _results(doc),
            _guest_dialog(),
            f'<script type="application/json" id="hp-data">{script_json(_data(doc, facts_texts))}</script>',
            f"<script>{asset('report.js')}</script>",
        )
        if part
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
        f"<title>{TITLE} {escape(run['id'])}</title><style>{asset('report.css')}</style></head>"
        f'<body class="hp-report">\n{body}\n</body></html>\n'
    )


def write_report(run_dir: Path, doc: Mapping[str, Any], target: Path, note: str = "") -> Path:
    """Render the report of `doc` with the facts stored in ``run_dir/facts`` into `target`, made inert."""
    texts = {}
    for g in doc.get("guests", []):
        if g.get("facts"):
            try:
                path = facts_path(run_dir / "facts", g["guest"])
            except FactsError:
                continue  # a name no facts file can have: nothing of it is shown
            if path.is_file():
                texts[g["guest"]] = path.read_text(encoding="utf-8", errors="replace")
    target.write_text(render_page(doc, texts, note), encoding="utf-8")
    make_inert(target)
    return target


def _data(doc: Mapping[str, Any], facts_texts: Mapping[str, str]) -> dict[str, Any]:
    """What the guest view needs: each guest's facts (compact JSON), facts errors and each control's reads."""
    compact = {}
    for guest, text in facts_texts.items():
        try:
            compact[guest] = json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
        except ValueError:
            compact[guest] = text  # shown as stored: the run judged it unreadable
    return {
        "facts": compact,
        "errors": {g["guest"]: g["facts_error"] for g in doc.get("guests", []) if g.get("facts_error")},
        "reads": {c["id"]: c.get("reads", []) for c in doc.get("controls", [])},
        "status": {g["guest"]: g["status"] for g in doc.get("guests", [])},
    }


def group_results(results: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """Results in order; a guest's errors with one message (unreachable, no facts) are one group, where the first is."""
    groups: list[list[Mapping[str, Any]]] = []
    by_cause: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in results:
        if r["outcome"] != "error":
            groups.append([r])
            continue
        cause = (r["guest"], r["message"])
        if cause not in by_cause:
            by_cause[cause] = []
            groups.append(by_cause[cause])
        by_cause[cause].append(r)
    return groups


def _results(doc: Mapping[str, Any]) -> str:
    titles = {c["id"]: c.get("title", "") for c in doc.get("controls", [])}
    rows = [_row(group, titles) for group in group_results(doc["results"])]
    return (
        '<section id="hp-results"><h2>Results</h2>'
        "<p class='hp-legend'>One row per (guest, control); a guest whose controls could not be evaluated for one "
        "reason is one row naming the controls it blocks. A guest's name opens its view: all its results, waivers "
        "and facts.</p>"
        '<table class="hp-table" id="hp-results-table"><thead><tr><th>Guest</th><th>Control</th><th>Severity</th>'
        f"<th>Outcome</th><th>Message</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _row(group: list[Mapping[str, Any]], titles: Mapping[str, str]) -> str:
    # Compact markup (no closing cell tags, one anchor per row): a fleet's report has one row per result.
    first = group[0]
    guest, outcome = first["guest"], first["outcome"]
    ids = [r["control"] for r in group]
    if len(group) == 1:
        control = f"{escape(first['control'])} {escape(titles.get(first['control'], first['title']))}"
        severity = escape(first["severity"])
    else:
        control = f"{len(group)} controls: {escape(', '.join(ids))}"
        severity = escape(", ".join(sorted({r["severity"] for r in group})))
    message = escape(first["message"])
    waiver = first.get("waiver")
    if waiver:
        ticket = f", ticket {waiver['ticket']}" if waiver.get("ticket") else ""
        message += (
            f'<div class="hp-waiver">waiver #{escape(str(waiver.get("entry") or "?"))}: '
            f"{escape(waiver['justification'])}; approved by {escape(waiver['approved_by'])} until "
            f"{escape(waiver['expires'])}{escape(ticket)}; underlying outcome "
            f'<span class="o-{escape(waiver["underlying_outcome"])}">{escape(waiver["underlying_outcome"])}'
            "</span></div>"
        )
    return (
        f'<tr id="{row_anchor(guest, ids[0])}" class="o-{escape(outcome)}" data-guest="{escape(guest, quote=True)}" '
        f'data-controls="{escape(" ".join(ids), quote=True)}"><td><button class="hp-guest-btn">{escape(guest)}</button>'
        f"<td>{control}<td>{severity}<td>{OUTCOME_MARKS.get(outcome, '?')} {escape(outcome)}<td>{message}</tr>"
    )


def _guest_dialog() -> str:
    return (
        '<dialog id="hp-guest-dialog"><form method="dialog"><button class="hp-close">close</button></form>'
        '<h3 id="hp-guest-title"></h3><p id="hp-guest-status"></p><p id="hp-guest-error"></p>'
        '<table class="hp-table" id="hp-guest-results"><thead><tr><th>Control</th><th>Outcome</th><th>Message</th>'
        "<th>Facts read</th></tr></thead><tbody></tbody></table>"
        '<h4>Facts</h4><pre id="hp-guest-facts"></pre></dialog>'
    )
