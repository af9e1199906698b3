"""report.html: the auditor's page, rendered from results.json and the stored facts alone.

The run, ``python -m hotpatch_audit report`` and ``merge`` all call :func:`render_page`, so a re-rendered or
merged report shows exactly what the data says. Reading order is an auditor's: the run and its completeness,
the fleet summary, the controls (rationale, references, facts read) before any result, waivers, the guest x
control matrix, then one row per result, with an unreachable guest's identical errors as one row naming the
controls it blocks. A guest's view (``?hp-guest=NAME``, or its name in any row) shows all its results, its
waivers and its facts as readable JSON. Facts are stored once per guest, not per result.

The matrix and the results table are not HTML rows: a fleet of 10,000 guests has 90,000 results, and a browser
needs half a minute to parse, style and filter that many rows. They are compact JSON (``hp-table``: every text
once, rows as indices) that the page's script filters as a whole and draws one page at a time; the facts
(``hp-data``, the largest part) are parsed only when a guest's view opens.
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
    STATUSES,
    asset,
    catalogue,
    fleet,
    header,
    matrix,
    pager,
    promise,
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
            matrix(controls),
            _results(),
            _guest_dialog(),
            f'<script type="application/json" id="hp-table">{script_json(_table(doc, controls))}</script>',
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


def _results() -> str:
    return (
        '<section id="hp-results"><h2>Results</h2>'
        "<p class='hp-legend'>One row per (guest, control); a guest whose controls could not be evaluated for one "
        "reason is one row naming the controls it blocks. A guest's name opens its view: all its results, waivers "
        "and facts. Printing the page prints every result, whatever the filters and the page shown.</p>"
        f"{pager('results', 'rows', (100, 500, 2000), 500)}"
        '<table class="hp-table" id="hp-results-table"><thead><tr><th>Guest</th><th>Control</th><th>Severity</th>'
        "<th>Outcome</th><th>Message</th></tr></thead><tbody></tbody></table></section>"
    )


def _table(doc: Mapping[str, Any], controls: Sequence[str]) -> dict[str, Any]:
    """The matrix and the result rows as indices into lists of the run's guests, control sets and texts.

    A row is ``[guest, control set, outcome, control text, severity, message, waiver or -1]``; a guest's
    ``cells`` hold one character per matrix column: its outcome's index in ``outcomes``, or ``-`` for none.
    """
    outcomes = list(OUTCOME_MARKS)
    titles = {c["id"]: c.get("title", "") for c in doc.get("controls", [])}
    guests = [g["guest"] for g in doc.get("guests", [])]
    index = {name: i for i, name in enumerate(guests)}
    status = [STATUSES.index(g["status"]) if g["status"] in STATUSES else -1 for g in doc.get("guests", [])]
    cells = [["-"] * len(controls) for _ in guests]
    column = {c: i for i, c in enumerate(controls)}
    texts: dict[str, int] = {}
    sets: dict[tuple[str, ...], int] = {}
    notes: dict[tuple[str, int], int] = {}
    rows = []

    def text(value: str) -> int:
        return texts.setdefault(value, len(texts))

    for r in doc["results"]:
        g = index.get(r["guest"])
        if g is not None and r["control"] in column:
            cells[g][column[r["control"]]] = str(outcomes.index(r["outcome"]))
    for group in group_results(doc["results"]):
        first = group[0]
        if first["guest"] not in index:  # a result of a guest the run does not list: shown, not in the matrix
            index[first["guest"]] = len(guests)
            guests.append(first["guest"])
            status.append(-1)
        ids = tuple(r["control"] for r in group)
        if len(group) == 1:
            label = f"{first['control']} {titles.get(first['control'], first['title'])}"
            severity = first["severity"]
        else:
            label = f"{len(group)} controls: {', '.join(ids)}"
            severity = ", ".join(sorted({r["severity"] for r in group}))
        waiver = first.get("waiver")
        note = -1
        if waiver:
            ticket = f", ticket {waiver['ticket']}" if waiver.get("ticket") else ""
            sentence = (
                f"waiver #{waiver.get('entry') or '?'}: {waiver['justification']}; approved by "
                f"{waiver['approved_by']} until {waiver['expires']}{ticket}; underlying outcome "
            )
            note = notes.setdefault((sentence, outcomes.index(waiver["underlying_outcome"])), len(notes))
        rows.append(
            [
                index[first["guest"]],
                sets.setdefault(ids, len(sets)),
                outcomes.index(first["outcome"]),
                text(label),
                text(severity),
                text(first["message"]),
                note,
            ]
        )
    return {
        "columns": list(controls),
        "outcomes": outcomes,
        "marks": list(OUTCOME_MARKS.values()),
        "statuses": list(STATUSES),
        "guests": guests,
        "status": status,
        "cells": ["".join(c) for c in cells],
        "sets": [list(ids) for ids in sets],
        "texts": list(texts),
        "waivers": [list(note) for note in notes],
        "rows": rows,
    }


def _guest_dialog() -> str:
    return (
        '<dialog id="hp-guest-dialog"><form method="dialog"><button class="hp-close">close</button></form>'
        '<h3 id="hp-guest-title"></h3><p id="hp-guest-status"></p><p id="hp-guest-error"></p>'
        '<table class="hp-table" id="hp-guest-results"><thead><tr><th>Control</th><th>Outcome</th><th>Message</th>'
        "<th>Facts read</th></tr></thead><tbody></tbody></table>"
        '<h4>Facts</h4><pre id="hp-guest-facts"></pre></dialog>'
    )
