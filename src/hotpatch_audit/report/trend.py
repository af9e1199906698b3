"""``python -m hotpatch_audit trend REPORTS_DIR``: compliance across the sealed runs of a reports directory.

Each run directory is verified against its manifest (and, with ``--key``, its signature) before it is read:
a trend drawn from edited evidence would prove nothing. Incomplete runs are left out, since a guest missing
from an interrupted run is not a fixed guest; every run left out is listed with the reason. A run is placed on
the time axis at its as-of date (the day it judged), else the day it started.
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import math
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from hotpatch_audit.errors import HotpatchAuditError
from hotpatch_audit.report.inert import make_inert
from hotpatch_audit.run.integrity import MANIFEST, RESULTS, IntegrityError, incomplete_reason, verify
from hotpatch_audit.run.results import ResultsFileError, load_results
from hotpatch_audit.run.signing import SignatureError, load_public_key, verify_signature

EXIT_OK, EXIT_UNVERIFIED, EXIT_NOTHING = 0, 1, 2
KERNEL_BOOT = (12, "Microsoft-Windows-Kernel-General")  # "the operating system started": one per restart
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")


class TrendError(HotpatchAuditError):
    """The reports directory cannot be read as asked."""


@dataclass
class RunPoint:
    """One sealed, complete run as the trend uses it."""

    id: str
    day: date
    started: str
    path: str
    status: dict[str, str]  # guest: compliant, non-compliant or not evaluated
    failing_controls: dict[str, list[str]]
    controls: dict[str, dict[str, Any]]  # control: outcome counts and compliance
    restarts: set[tuple[str, str]] = field(default_factory=set)  # (guest, time) of each restart in the history
    has_history: bool = False


def find_runs(reports: Path) -> list[Path]:
    """Every run directory under `reports` (one holding results.json or a manifest), at any depth."""
    if not reports.is_dir():
        msg = f"{reports}: not a directory of run directories"
        raise TrendError(msg)
    found = {p.parent for name in (RESULTS, MANIFEST) for p in reports.rglob(name) if p.is_file()}
    return sorted(found)


def load_run(run_dir: Path, key: Path | None) -> RunPoint:
    """Verify `run_dir` and read it; TrendError says why a run cannot be used."""
    try:
        check = verify(run_dir)
        if not check.ok:
            msg = f"does not match its {MANIFEST}: {'; '.join(check.problems())}"
            raise TrendError(msg)
        if key is not None:
            verify_signature(run_dir, load_public_key(key))
        reason = incomplete_reason(run_dir)
        doc = load_results(run_dir)
    except (IntegrityError, SignatureError, ResultsFileError) as err:
        raise TrendError(str(err)) from err
    if reason is not None:
        msg = f"incomplete: {reason}"
        raise TrendError(msg)
    run = doc["run"]
    point = RunPoint(
        id=run["id"],
        day=date.fromisoformat(run["as_of"] or run["started"][:10]),
        started=run["started"],
        path=str(run_dir),
        status={},
        failing_controls={},
        controls={},
    )
    _read_results(point, doc["results"])
    _read_history(point, run_dir / "facts")
    return point


def _read_results(point: RunPoint, results: list[dict[str, Any]]) -> None:
    outcomes: dict[str, Counter[str]] = {}
    per_guest: dict[str, set[str]] = {}
    for result in results:
        outcomes.setdefault(result["control"], Counter())[result["outcome"]] += 1
        per_guest.setdefault(result["guest"], set()).add(result["outcome"])
        if result["outcome"] == "failed":
            point.failing_controls.setdefault(result["guest"], []).append(result["control"])
    for guest, seen in sorted(per_guest.items()):
        # An error is never a pass: a guest with one is "not evaluated", neither failing nor fixed.
        point.status[guest] = (
            "non-compliant" if "failed" in seen else "not evaluated" if "error" in seen else "compliant"
        )
    for control, counts in sorted(outcomes.items()):
        judged = counts["passed"] + counts["waived"] + counts["failed"] + counts["error"]
        point.controls[control] = {
            **{k: counts[k] for k in ("passed", "waived", "failed", "error", "skipped")},
            "compliance": round((counts["passed"] + counts["waived"]) / judged, 4) if judged else None,
        }


def _read_history(point: RunPoint, facts_dir: Path) -> None:
    """Restarts from each guest's System log history (facts ``history.events``), where the collector read it."""
    for path in sorted(facts_dir.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a sealed run's facts were read by the audit itself; an unreadable one has no history
        history = doc.get("history") if isinstance(doc, dict) else None
        events = history.get("events") if isinstance(history, dict) else None
        if not isinstance(events, list):
            continue
        point.has_history = True
        for event in events:
            if isinstance(event, dict) and (event.get("id"), event.get("source")) == KERNEL_BOOT:
                point.restarts.add((str(doc.get("guest", path.stem)), str(event.get("time", ""))))


def build_trend(reports: Path, *, since: date | None = None, key: Path | None = None) -> dict[str, Any]:
    """The trend document: runs in order, runs left out, changes between runs, persistent failures, restarts."""
    points: list[RunPoint] = []
    skipped: list[dict[str, str]] = []
    for run_dir in find_runs(reports):
        try:
            point = load_run(run_dir, key)
        except TrendError as err:
            incomplete = str(err).startswith("incomplete")
            skipped.append(
                {"path": str(run_dir), "reason": str(err), "kind": "incomplete" if incomplete else "unverified"}
            )
            continue
        if since is None or point.day >= since:
            points.append(point)
    points.sort(key=lambda p: (p.day, p.started))
    changes = [
        {
            "from": before.id,
            "to": after.id,
            "day": after.day.isoformat(),
            "newly_failing": {
                g: after.failing_controls[g]
                for g, s in after.status.items()
                if s == "non-compliant" and before.status.get(g) != "non-compliant"
            },
            "newly_fixed": sorted(
                g for g, s in after.status.items() if s == "compliant" and before.status.get(g) == "non-compliant"
            ),
        }
        for before, after in itertools.pairwise(points)
    ]
    failing_sets = [{g for g, s in p.status.items() if s == "non-compliant"} for p in points]
    always = sorted(set.intersection(*failing_sets)) if failing_sets else []
    restarts: Counter[str] | None = None
    if any(p.has_history for p in points):
        restarts = Counter(time[:7] for _, time in {r for p in points for r in p.restarts} if time)
    return {
        "reports_dir": str(reports),
        "since": since.isoformat() if since else None,
        "runs": [
            {
                "id": p.id,
                "day": p.day.isoformat(),
                "path": p.path,
                "guests": Counter(p.status.values()),
                "failing": sorted(g for g, s in p.status.items() if s == "non-compliant"),
                "controls": p.controls,
            }
            for p in points
        ],
        "skipped": skipped,
        "changes": changes,
        "failing_in_every_run": always,
        "restarts_per_month": dict(sorted(restarts.items())) if restarts is not None else None,
    }


DAY_LABEL_PX = 76  # a YYYY-MM-DD axis label with its gap, in the chart's font


def _chart(trend: dict[str, Any]) -> str:
    """An inline SVG line chart: compliance (%) of each control at each run."""
    runs = trend["runs"]
    controls = sorted({c for r in runs for c in r["controls"]})
    width, height, left, top, bottom = 760, 300, 48, 16, 48
    plot_w, plot_h = width - left - 150, height - top - bottom
    step = plot_w / max(len(runs) - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if len(runs) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return top + plot_h * (1 - value)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'role="img" aria-label="Compliance per control over time">'
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{int(tick * 100)}%</text>')
    # A day is about DAY_LABEL_PX wide: past a handful of runs only every n-th is labelled, counted back from the
    # newest, so labels never overlap (every point still names its day when pointed at).
    every = max(1, math.ceil(len(runs) * DAY_LABEL_PX / plot_w))
    for i, run in enumerate(runs):
        if (len(runs) - 1 - i) % every == 0:
            day = _e(run["day"])
            parts.append(f'<text x="{x(i):.1f}" y="{height - bottom + 18}" text-anchor="middle">{day}</text>')
    for n, control in enumerate(controls):
        colour = COLOURS[n % len(COLOURS)]
        values = [(i, r["controls"].get(control, {}).get("compliance")) for i, r in enumerate(runs)]
        known = [(i, v) for i, v in values if v is not None]
        if len(known) > 1:
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in known)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in known:
            label = f"{control} {runs[i]['day']}: {v * 100:.1f}%"
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}" data-control="{_e(control)}">'
                f"<title>{_e(label)}</title></circle>"
            )
        ly = top + 14 * n + 6
        parts.append(f'<rect x="{left + plot_w + 16}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{left + plot_w + 32}" y="{ly + 1}">{_e(control)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(trend: dict[str, Any]) -> str:
    """The self-contained trend page (no scripts, no external resources)."""
    runs = trend["runs"]
    rows = "".join(
        f"<tr><td>{_e(r['day'])}</td><td><code>{_e(r['id'])}</code></td>"
        f"<td>{r['guests'].get('compliant', 0)}</td><td>{r['guests'].get('non-compliant', 0)}</td>"
        f"<td>{r['guests'].get('not evaluated', 0)}</td></tr>"
        for r in runs
    )
    changes = "".join(
        f'<tr><td>{_e(c["day"])}</td><td class="{"failing" if c["newly_failing"] else "none"}">'
        + (", ".join(f"{_e(g)} ({_e(', '.join(cs))})" for g, cs in sorted(c["newly_failing"].items())) or "none")
        + f'</td><td class="{"fixed" if c["newly_fixed"] else "none"}">'
        + (", ".join(_e(g) for g in c["newly_fixed"]) or "none")
        + "</td></tr>"
        for c in trend["changes"]
    )
    controls = sorted({c for r in runs for c in r["controls"]})
    table = "".join(
        f"<tr><th>{_e(c)}</th>"
        + "".join(f"<td>{_percent(r['controls'].get(c, {}).get('compliance'))}</td>" for r in runs)
        + "</tr>"
        for c in controls
    )
    days = "".join(f"<th>{_e(r['day'])}</th>" for r in runs)
    skipped = "".join(f"<li><code>{_e(s['path'])}</code>: {_e(s['reason'])}</li>" for s in trend["skipped"])
    always = ", ".join(_e(g) for g in trend["failing_in_every_run"]) or "none"
    sections = [
        f"<h1>Hotpatch compliance trend</h1><p>{len(runs)} sealed, complete run(s) from <code>"
        f"{_e(trend['reports_dir'])}</code>" + (f" since {_e(trend['since'])}" if trend["since"] else "") + ".</p>",
        f'<section id="chart"><h2>Compliance per control</h2><p>Share of judged guests that passed or are waived; '
        f"an error counts against it.</p>{_chart(trend)}"
        f'<table id="compliance"><tr><th>control</th>{days}</tr>{table}</table></section>',
        '<section id="runs"><h2>Runs</h2><table><tr><th>day</th><th>run</th><th>compliant</th>'
        f"<th>non-compliant</th><th>not evaluated</th></tr>{rows}</table></section>",
        '<section id="changes"><h2>Changes since the previous run</h2><table><tr><th>run of</th>'
        f"<th>newly failing (controls)</th><th>newly fixed</th></tr>{changes}</table></section>"
        if trend["changes"]
        else '<section id="changes"><h2>Changes since the previous run</h2><p>One run: nothing to compare.</p>'
        "</section>",
        f'<section id="always"><h2>Failing in every run of the period</h2><p>{always}</p></section>',
    ]
    if trend["restarts_per_month"] is not None:
        months = "".join(f"<tr><td>{_e(m)}</td><td>{n}</td></tr>" for m, n in trend["restarts_per_month"].items())
        sections.append(
            '<section id="restarts"><h2>Restarts per month</h2><p>Operating system starts in the guests\' System '
            "logs, counted once across runs.</p><table><tr><th>month</th><th>restarts</th></tr>"
            f"{months}</table></section>"
        )
    if skipped:
        # Right under the title: a run that no longer verifies matters more than any line of the chart.
        sections.insert(1, f'<section id="skipped"><h2>Runs left out</h2><ul>{skipped}</ul></section>')
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/><title>Hotpatch compliance trend</title>'
        f"<style>{_CSS}</style></head><body>{''.join(sections)}</body></html>\n"
    )


_CSS = (
    "body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f3f3f3}"
    "svg text{font-size:11px;fill:#444}svg .grid{stroke:#e3e3e3}.failing{color:#b00020}.fixed{color:#1b7f3b}"
    ".none{color:#777}section{margin-bottom:24px}"
)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _since(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"'{text}' is not a date YYYY-MM-DD"
        raise argparse.ArgumentTypeError(msg) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the trend command."""
    parser.add_argument("reports_dir", type=Path, help="the directory holding the run directories (--report-dir)")
    parser.add_argument("--out", type=Path, help="where to write the page (default REPORTS_DIR/trend.html)")
    parser.add_argument("--since", type=_since, metavar="DATE", help="only runs judged on or after YYYY-MM-DD")
    parser.add_argument(
        "--json", action="store_true", help="print the trend as JSON on stdout (and no page unless --out)"
    )
    parser.add_argument("--key", type=Path, metavar="PUB", help="use only runs signed with this Ed25519 public key")


def run(args: argparse.Namespace) -> int:
    """Trend: 0 written, 1 written but some runs failed verification (listed), 2 no usable run or bad input."""
    try:
        if args.key is not None:
            load_public_key(args.key)
        trend = build_trend(args.reports_dir, since=args.since, key=args.key)
    except (TrendError, SignatureError) as err:
        print(f"trend: {err}", file=sys.stderr)  # noqa: T201 - command-line output
        return EXIT_NOTHING
    out: Path | None = args.out if args.json else (args.out or args.reports_dir / "trend.html")
    if out is not None and any((d / MANIFEST).is_file() for d in (out.parent, *out.parent.parents)):
        print(f"trend: --out {out}: inside a sealed run directory, whose manifest it would break", file=sys.stderr)  # noqa: T201
        return EXIT_NOTHING
    if trend["runs"] and out is not None:
        out.write_text(render_html(trend), encoding="utf-8")
        make_inert(out)
    if args.json:
        print(json.dumps(trend, indent=2))  # noqa: T201 - command-line output
    for entry in trend["skipped"]:
        print(f"trend: left out {entry['path']}: {entry['reason']}", file=sys.stderr)  # noqa: T201
    if not trend["runs"]:
        print(f"trend: {args.reports_dir}: no sealed, complete run to show", file=sys.stderr)  # noqa: T201
        return EXIT_NOTHING
    if out is not None and not args.json:
        print(f"trend: {len(trend['runs'])} runs -> {out}")  # noqa: T201 - command-line output
    return EXIT_UNVERIFIED if any(s["kind"] == "unverified" for s in trend["skipped"]) else EXIT_OK
