"""The sections of report.html (run header, fleet summary, controls, waivers, matrix), from results.json alone.

Everything is inline (styles, script, data): the page loads nothing from the network. Text from guests and input
files is always escaped.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import cache
from html import escape
from importlib import resources
from typing import Any

from hotpatch_audit.rules.restarts import PROMISED_AVOIDED

OUTCOME_MARKS = {"passed": "\u2713", "failed": "\u2717", "error": "!", "waived": "W", "skipped": "\u2013"}
OS_NAMES = {"20348": "Windows Server 2022", "26100": "Windows Server 2025"}
STATUSES = ("compliant", "non-compliant", "not evaluated")
NO_SCRIPT = (
    '<noscript><p class="hp-note hp-noscript">The matrix and the results are drawn by the page\'s own script '
    "from the data embedded in it; with scripts off, read results.json in the run directory.</p></noscript>"
)


@cache
def asset(name: str) -> str:
    """A static file of the report (CSS or JavaScript) shipped in the package."""
    return resources.files("hotpatch_audit").joinpath("report", name).read_text(encoding="utf-8")


def row_anchor(guest: str, control: str) -> str:
    """The HTML id of a test's row in the results table, safe in a URL fragment."""
    token = re.sub(r"[^A-Za-z0-9_.-]", lambda m: f"_{ord(m.group()):x}_", guest)
    return f"hp-r-{token}-{control}"


def script_json(data: Any) -> str:
    """JSON for an application/json script element, inert whatever text it holds."""
    # Inside <script> only "</" could end the element; escaping <, > and & keeps any guest text inert.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _dl(rows: Sequence[tuple[str, str]]) -> str:
    return "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in rows)


def _code(text: object) -> str:
    return f"<code>{escape(str(text))}</code>"


def header(doc: Mapping[str, Any], note: str) -> str:
    """The run: identity, completeness, inputs with their digests, catalog, policy and waivers."""
    run = doc["run"]
    policy = run.get("policy") or {}
    newest = ", ".join(
        f"{escape(OS_NAMES.get(k, k))} ({escape(k)}): {escape(v)}" for k, v in sorted(run["catalog_newest"].items())
    )
    disabled = "; ".join(f"{k} ({v})" for k, v in sorted((policy.get("disabled_controls") or {}).items()))
    accepted = "; ".join(f"{a['build']} as {a['as']} ({a['reason']})" for a in policy.get("accepted_builds") or [])
    policy_text = escape(
        f"{policy.get('source', 'default policy')}; grace {policy.get('grace_days', '?')} days"
        + (f"; disabled: {disabled}" if disabled else "")
        + (f"; accepted builds: {accepted}" if accepted else "")
    )
    waivers = doc.get("waivers")
    waiver_text = (
        f"{escape(waivers['source'])} ({len(waivers['entries'])} entries, judged on {escape(waivers['as_of'])}) "
        f"sha256 {_code(waivers['sha256'])}"
        if waivers
        else "none"
    )
    inputs = run.get("inputs") or []
    mixed = {k: len({str(i.get(k)) for i in inputs}) > 1 for k in ("as_of", "limit", "mode")}
    rows = [
        ("Completeness", _completeness(run)),
        (
            "Run",
            f"{_code(run['id'])} ({escape('mixed' if mixed.get('mode') else run.get('mode', ''))}), "
            f"limit {escape('differs per input' if mixed.get('limit') else run.get('limit') or 'all')}"
            + (f", shard {escape(run['shard'])}" if run.get("shard") else ""),
        ),
        ("Operator", f"{escape(run.get('operator') or 'unknown')} on {escape(run.get('host') or 'unknown')}"),
        ("Started", escape(run["started"])),
        ("Finished", escape(run["finished"])),
        (
            "As of",
            "differs per input" if mixed.get("as_of") else escape(run["as_of"] or "each guest's collection date"),
        ),
        ("Suite version", escape(run["suite_version"])),
        ("Inventory", f"{escape(run.get('inventory', ''))} sha256 {_code(run['inventory_sha256'])}"),
        ("Catalog", f"{escape(', '.join(run.get('catalog_sources', [])))} sha256 {_code(run.get('catalog_sha256'))}"),
        *_catalog_sources(run),
        ("Newest catalog month", newest or "none"),
        ("Policy", policy_text),
        ("Waivers", waiver_text),
    ]
    if run.get("signer"):
        rows.append(("Signed by", f"Ed25519 key {_code(run['signer'])} (manifest.sha256.sig)"))
    if run.get("merged_from"):
        rows.append(("Merged from", escape(", ".join(run["merged_from"]))))
    rows.extend((f"Input {escape(i['id'])}", _input_text(i)) for i in inputs)
    if run.get("plaintext_basic"):
        names = ", ".join(run["plaintext_basic"])
        rows.append(
            (
                "Plaintext",
                f'<strong class="hp-incomplete">Basic authentication over plain http, allowed by the inventory '
                f"(hotpatch_allow_plaintext_basic) for: {escape(names)}</strong>",
            )
        )
    banner = f'<p class="hp-note">{escape(note)}</p>' if note else ""
    return f'<section id="hp-run"><h2>Audit run</h2>{banner}<dl class="hp-meta">{_dl(rows)}</dl></section>'


def _completeness(run: Mapping[str, Any]) -> str:
    selection = run.get("selection") or {}
    scope = f"control set {escape(selection.get('control_set', 'all'))}"
    if selection.get("filters"):
        scope += f"; narrowed by {escape('; '.join(selection['filters']))}"
    if run.get("complete"):
        return f'<span class="hp-complete">complete</span> ({scope})'
    reason = escape(run.get("incomplete_reason") or "not recorded")
    return f'<strong class="hp-incomplete">INCOMPLETE: {reason}</strong> ({scope})'


def _input_text(i: Mapping[str, Any]) -> str:
    state = "complete" if i.get("complete") else f"INCOMPLETE: {i.get('incomplete_reason')}"
    parts = [
        f"shard {i.get('shard') or 'none'}",
        f"as of {i.get('as_of') or 'collection date'}",
        f"limit {i.get('limit') or 'all'}",
        f"mode {i.get('mode')}",
        f"inventory {i.get('inventory') or ''} sha256 {i.get('inventory_sha256')}",
        state,
    ]
    return escape(", ".join(parts)) + f" manifest sha256 {_code(i.get('manifest_sha256', ''))}"


def _catalog_sources(run: Mapping[str, Any]) -> list[tuple[str, str]]:
    """One row per loaded catalog file: where its rows came from and the newest continuous month per OS."""
    rows = []
    for source in run.get("catalog_provenance") or []:
        origin = source["provenance"]
        said = "; ".join(
            f"{k} {origin[k]}" for k in ("source", "updated_at", "git_commit_id", "retrieved_at") if k in origin
        )
        newest = ", ".join(f"{OS_NAMES.get(k, k)} ({k}): {v}" for k, v in sorted(source["newest"].items()))
        text = f"{source['rows']} rows" + (f", newest {newest}" if newest else "") + (f"; from {said}" if said else "")
        rows.append((f"Catalog source {source['name']}", escape(text)))
    return rows


def fleet(doc: Mapping[str, Any], controls: Sequence[str]) -> str:
    """Guest status tiles and each control's outcome counts and pass rate."""
    statuses = Counter(g["status"] for g in doc.get("guests", []))
    tiles = "".join(
        f'<button type="button" class="hp-tile hp-s-{s.replace(" ", "-")}" data-status="{s}">'
        f"<b>{statuses.get(s, 0)}</b>{s}</button>"
        for s in STATUSES
    )
    total = f'<div class="hp-tile hp-s-all"><b>{len(doc.get("guests", []))}</b>guests</div>'
    titles = {c["id"]: c for c in doc.get("controls", [])}
    by_control: dict[str, Counter[str]] = {c: Counter() for c in controls}
    for r in doc["results"]:
        if r["control"] in by_control:
            by_control[r["control"]][r["outcome"]] += 1
    rows = []
    for control in controls:
        counts = by_control[control]
        applicable = sum(counts.values()) - counts["skipped"]
        rate = counts["passed"] / applicable if applicable else None
        bar = (
            f'<span class="hp-bar"><span style="width:{rate * 100:.1f}%"></span></span> {rate * 100:.0f}%'
            if rate is not None
            else "\u2013"
        )
        meta = titles.get(control, {})
        cells = "".join(f'<td class="hp-n o-{o}">{counts[o] or ""}</td>' for o in OUTCOME_MARKS)
        rows.append(
            f'<tr><th><a href="#hp-c-{escape(control)}">{escape(control)}</a></th>'
            f"<td>{escape(meta.get('title', ''))}</td><td>{escape(meta.get('severity', ''))}</td>"
            f"{cells}<td class='hp-rate'>{bar}</td></tr>"
        )
    head = "".join(f'<th class="o-{o}">{o}</th>' for o in OUTCOME_MARKS)
    return (
        '<section id="hp-fleet"><h2>Fleet summary</h2>'
        f'<div class="hp-tiles">{total}{tiles}</div>'
        '<table class="hp-table"><thead><tr><th>Control</th><th>Title</th><th>Severity</th>'
        f'{head}<th title="passed / (all \u2212 skipped)">Pass rate</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _tr(cells: Sequence[str], cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<tr{attr}>{''.join(f'<td>{c}</td>' for c in cells)}</tr>"


def waivers(doc: Mapping[str, Any]) -> str:
    """The waiver file's entries with their state and reach, and every waived result."""
    summary = doc.get("waivers")
    waived = [r for r in doc["results"] if r.get("waiver")]
    if not summary and not waived:
        return ""
    parts = ['<section id="hp-waivers"><h2>Waivers</h2>']
    if summary:
        rows = "".join(
            _tr(
                [
                    f"#{e['entry']}",
                    escape(e["control"]),
                    escape(", ".join(e["guests"])),
                    escape(e["justification"]),
                    escape(e["approved_by"]),
                    escape(e["expires"]),
                    escape(e.get("ticket") or ""),
                    escape(e["state"]),
                    str(e.get("matched_guests", "")),
                    str(e.get("waived", "")),
                    escape("; ".join(e.get("notes", []))),
                ],
                f"hp-w-{escape(e['state'])}",
            )
            for e in summary["entries"]
        )
        parts.append(
            f"<p>{escape(summary['source'])}, judged on {escape(summary['as_of'])}; expiring = at most "
            f"{summary.get('expiry_warning_days', 14)} days left.</p>"
            '<table class="hp-table" id="hp-waiver-table"><thead><tr><th>#</th><th>Control</th><th>Guests</th>'
            "<th>Justification</th><th>Approved by</th><th>Expires</th><th>Ticket</th><th>State</th>"
            f"<th>Guests matched</th><th>Results waived</th><th>Notes</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    if waived:
        rows = "".join(_waived_row(r) for r in waived)
        parts.append(
            '<h3>Waived results</h3><table class="hp-table" id="hp-waived"><thead><tr><th>Guest</th><th>Control</th>'
            "<th>Underlying outcome</th><th>Message</th><th>Justification</th><th>Approved by</th><th>Expires</th>"
            f"<th>Ticket</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    parts.append("</section>")
    return "".join(parts)


def _waived_row(r: Mapping[str, Any]) -> str:
    w = r["waiver"]
    underlying = escape(w["underlying_outcome"])
    entry = f"#{w['entry']} " if w.get("entry") else ""
    return _tr(
        [
            f'<a href="#{row_anchor(r["guest"], r["control"])}">{escape(r["guest"])}</a>',
            escape(r["control"]),
            f'<span class="o-{underlying}">{underlying}</span>',
            escape(r["message"]),
            entry + escape(w["justification"]),
            escape(w["approved_by"]),
            escape(w["expires"]),
            escape(w.get("ticket") or ""),
        ]
    )


def pager(name: str, unit: str, sizes: Sequence[int], default: int) -> str:
    """Page controls of a table the script draws one page at a time; ``all`` draws every row."""
    options = (
        "".join(f'<option value="{n}"{" selected" if n == default else ""}>{n}</option>' for n in sizes)
        + '<option value="all">all</option>'
    )
    return (
        f'<div class="hp-pager" id="hp-pager-{name}" data-size="{default}">'
        '<button type="button" data-step="first" title="first page">\u00ab</button>'
        '<button type="button" data-step="prev" title="previous page">\u2039</button>'
        '<span class="hp-page-of"></span>'
        '<button type="button" data-step="next" title="next page">\u203a</button>'
        '<button type="button" data-step="last" title="last page">\u00bb</button>'
        f'<label>{unit} per page <select class="hp-page-size">{options}</select></label></div>'
    )


def matrix(controls: Sequence[str]) -> str:
    """The filters and the guest x control matrix, drawn by the page's script from the embedded data."""
    options = "".join(f'<option value="{escape(c)}">{escape(c)}</option>' for c in controls)
    filters = (
        '<div id="hp-filters" class="hp-filters"><b>Filter</b>'
        '<label>guest <input id="hp-f-guest" type="search" placeholder="name or glob, e.g. hci-*"></label>'
        f'<label>control <select id="hp-f-control"><option value="">all</option>{options}</select></label>'
        '<label>outcome <select id="hp-f-outcome"><option value="">all</option>'
        + "".join(f'<option value="{o}">{o}</option>' for o in OUTCOME_MARKS)
        + '</select></label><label>guest status <select id="hp-f-status"><option value="">all</option>'
        + "".join(f'<option value="{s}">{s}</option>' for s in STATUSES)
        + '</select></label><label>text <input id="hp-f-text" type="search" placeholder="in message or control, '
        'e.g. KB5087424"></label><button type="button" id="hp-f-reset">reset</button>'
        '<span id="hp-f-count"></span></div>'
    )
    head = "".join(f'<th data-control="{escape(c)}"><a href="#hp-c-{escape(c)}">{escape(c)}</a></th>' for c in controls)
    legend = " ".join(f'<span class="o-{o} hp-key">{m}</span> {o}' for o, m in OUTCOME_MARKS.items())
    return (
        '<section id="hp-matrix"><h2>Guests \u00d7 controls</h2>'
        f"{filters}<p class='hp-legend'>{legend}. The filters apply to every guest and result of the run, on "
        "every page. A cell links to its result row; a guest name opens the guest's view with all its results "
        "and facts (also as ?hp-guest=NAME).</p>"
        f"{NO_SCRIPT}{pager('matrix', 'guests', (100, 200, 1000), 200)}"
        '<div class="hp-scroll"><table class="hp-table hp-grid"><thead><tr><th>Guest</th><th>Status</th>'
        f"{head}</tr></thead><tbody></tbody></table></div></section>"
    )


def catalogue(doc: Mapping[str, Any]) -> str:
    """Every control of the run: severity, rationale, the facts it reads and Microsoft's references."""
    rows = []
    for c in doc.get("controls", []):
        refs = "<br>".join(
            f'<a href="{escape(u, quote=True)}" rel="noreferrer noopener" target="_blank">{escape(u)}</a>'
            for u in c.get("refs", [])
        )
        reads = " ".join(_code(k) for k in c.get("reads", []))
        badge = ' <span class="hp-badge">readiness</span>' if c.get("readiness") else ""
        rows.append(
            f'<tr id="hp-c-{escape(c["id"])}"><th>{escape(c["id"])}</th><td><b>{escape(c["title"])}</b>{badge}<br>'
            f"{escape(c.get('rationale', ''))}</td><td>{escape(c['severity'])}</td>"
            f"<td>{escape(c.get('applies', ''))}</td><td>{reads}</td><td class='hp-refs'>{refs}</td></tr>"
        )
    return (
        '<section id="hp-controls"><h2>Controls: what is checked and why</h2><table class="hp-table">'
        "<thead><tr><th>Id</th><th>Control and rationale</th><th>Severity</th><th>Applies to</th>"
        f"<th>Facts read</th><th>Microsoft references</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</section>"
    )


def promise(doc: Mapping[str, Any]) -> str:
    """The hotpatch promise measured: restarts by cause over twelve months, avoided versus the promised 67 %."""
    counted = [(g["guest"], g["restarts"]) for g in doc.get("guests", []) if g.get("restarts")]
    nxt = doc["run"].get("next_baseline") or {}
    upcoming = ", ".join(f"{OS_NAMES.get(k, k)}: {v}" for k, v in sorted(nxt.items()))
    following = f"<p>Next baseline restart expected in {escape(upcoming)} (Microsoft's calendar).</p>" if nxt else ""
    if not counted:
        return (
            '<section id="hp-promise"><h2>The hotpatch promise</h2>'
            "<p>No guest's facts hold a restart history (facts files of schema version 1, or the System log could "
            f"not be read).</p>{following}</section>"
        )
    kinds = ("update_baseline", "update_other", "unplanned", "other")
    totals = {k: sum(r[k] for _, r in counted) for k in kinds}
    months = sum(r["months"] for _, r in counted)
    updates = totals["update_baseline"] + totals["update_other"]
    share = max(0.0, 1 - updates / months) if months else 0.0
    labels = {
        "update_baseline": "baseline updates (promised)",
        "update_other": "other updates (avoidable)",
        "unplanned": "unplanned (event 6008)",
        "other": "other restarts",
    }
    rows = "".join(
        f"<tr><th>{escape(guest)}</th><td class='hp-n'>{r['months']}</td>"
        + "".join(f"<td class='hp-n'>{r[k]}</td>" for k in kinds)
        + "</tr>"
        for guest, r in counted
    )
    head = "".join(f"<th>{escape(labels[k])}</th>" for k in kinds)
    verdict = "kept" if share >= PROMISED_AVOIDED else "not kept"
    return (
        '<section id="hp-promise"><h2>The hotpatch promise</h2>'
        f"<p>Over {months:.0f} guest-months, monthly cumulative updates would have restarted these "
        f"{len(counted)} guests about {months:.0f} times; updates restarted them {updates} times: "
        f"<b>{share * 100:.0f} % of update restarts avoided</b> (promised: {PROMISED_AVOIDED * 100:.0f} %, {verdict}). "
        f"Unplanned restarts: {totals['unplanned']}; other restarts: {totals['other']}.</p>"
        f"{_promise_chart(months, totals)}{following}"
        '<details><summary>Restarts per guest</summary><table class="hp-table"><thead><tr><th>Guest</th>'
        f"<th>Months covered</th>{head}</tr></thead><tbody>{rows}</tbody></table></details></section>"
    )


def _promise_chart(months: float, totals: Mapping[str, int]) -> str:
    """Two bars: restarts with monthly cumulative updates, and the update restarts that happened, by cause."""
    width, scale = 520, 520 / max(months, 1.0)
    baseline, other = totals["update_baseline"] * scale, totals["update_other"] * scale
    target = months * (1 - PROMISED_AVOIDED) * scale
    return (
        f'<svg class="hp-chart" width="{width + 220}" height="86" role="img" '
        'aria-label="restarts with monthly updates compared with the update restarts that happened">'
        f'<rect x="200" y="8" width="{months * scale:.1f}" height="24" fill="#bdbdbd"/>'
        '<text x="0" y="25">monthly cumulative updates</text>'
        f'<rect x="200" y="46" width="{baseline:.1f}" height="24" fill="#43a047"/>'
        f'<rect x="{200 + baseline:.1f}" y="46" width="{other:.1f}" height="24" fill="#e53935"/>'
        '<text x="0" y="63">hotpatch (as measured)</text>'
        f'<line x1="{200 + target:.1f}" y1="40" x2="{200 + target:.1f}" y2="78" stroke="#0d47a1" '
        'stroke-dasharray="4 3"/>'
        f'<text x="{206 + target:.1f}" y="84" font-size="10" fill="#0d47a1">promise (4 of 12)</text></svg>'
    )
