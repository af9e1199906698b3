r"""Read Microsoft's "Windows Server release information" page (Markdown or HTML) into catalog rows.

The page has two sections this reads: "Windows Server release history" (one table per OS: standard monthly,
preview and out-of-band updates) and "Windows Server hotpatch calendar" (per OS, one table per calendar year:
baselines, hotpatches, unplanned baselines marked with an asterisk, announced months with empty cells).
Tables are found by their header names and every cell is checked against the format the page uses; anything
else is a :class:`PageDriftError` naming the table and row, never a guess. Leniency is limited to what the page
is known to vary: trailing empty cells, empty cells of announced months, the asterisk written as ``^\*^`` or
``<sup>*</sup>``, OOB labels, several calendar-year tables per OS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser

from hotpatch_audit.calendar import Build, Month, patch_tuesday

HOTPATCH_OSES = (20348, 26100)
HISTORY_SECTION = "Windows Server release history"
CALENDAR_SECTION = "Windows Server hotpatch calendar"
HISTORY_HEADER = ("Servicing option", "Update type", "Availability date", "Build", "KB article")
CALENDAR_HEADER = ("Month", "Update type", "Type", "Availability date", "Build", "KB article")
MONTH_NAMES = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
PROVENANCE_META = ("updated_at", "git_commit_id", "ms.date")

_OS_LABEL = re.compile(r"^Windows Server\b.* \(OS build (\d+)\)$")
_YEAR_LABEL = re.compile(r"^Calendar year (\d{4})$")
_HISTORY_TYPE = re.compile(r"^(\d{4})-(\d{2}) (A|B|C|D|E|OOB)$")
_CALENDAR_TYPE = re.compile(r"^(\d{4})\.(\d{2}) B(\*)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KB = re.compile(r"^KB\d{6,8}$")


class PageDriftError(ValueError):
    """The page does not have the structure or cell formats this reader knows; the message says where."""


@dataclass(frozen=True)
class PageRow:
    """One release read from the page, with where it was read."""

    os: int
    month: Month
    released: date
    type: str
    track: str
    build: Build
    kb: str
    planned: str | None
    where: str


@dataclass(frozen=True)
class PagePlan:
    """An announced calendar month (empty date, build and KB)."""

    os: int
    month: Month
    type: str


@dataclass
class ReleasePage:
    """What the page says: releases, announced months, provenance from its metadata, rows it skipped."""

    rows: list[PageRow] = field(default_factory=list)
    plans: list[PagePlan] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def releases(self) -> list[PageRow]:
        """One row per (os, KB): a baseline's calendar row and its history row (same KB) must agree."""
        merged: dict[tuple[int, str], PageRow] = {}
        for row in self.rows:
            key = (row.os, row.kb)
            old = merged.get(key)
            if old is None:
                merged[key] = row
                continue
            pair = {old.type, row.type}
            if pair != {"baseline", "lcu"} or (old.build, old.released) != (row.build, row.released):
                msg = (
                    f"{row.where}: {row.kb} {row.build} ({row.type}) contradicts {old.where}: {old.build} ({old.type})"
                )
                raise PageDriftError(msg)
            merged[key] = row if row.type == "baseline" else old
        return sorted(merged.values(), key=lambda r: (r.os, r.released, r.build, r.kb))


# Events the two syntaxes are reduced to: ("heading", text, level), ("label", text, None), ("table", header, rows).
Event = tuple[str, object, object]


def parse_page(text: str) -> ReleasePage:
    """Parse the page in Markdown (``?accept=text/markdown``) or as the rendered HTML."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<"):
        meta, events = _html_events(stripped)
    elif stripped.startswith(("---", "#")):
        meta, events = _markdown_events(stripped)
    else:
        msg = "neither Markdown (front matter or a heading first) nor HTML (a tag first): is this the page?"
        raise PageDriftError(msg)
    page = ReleasePage(meta={k: v for k, v in meta.items() if k in PROVENANCE_META})
    _interpret(events, page)
    return page


def _interpret(events: list[Event], page: ReleasePage) -> None:
    section: str | None = None
    os_build: int | None = None
    year: int | None = None
    seen: dict[str, set[int]] = {HISTORY_SECTION: set(), CALENDAR_SECTION: set()}
    for kind, first, second in events:
        if kind == "heading":
            if second == 1 or second == 2:
                section = str(first) if str(first) in seen else None
                os_build, year = None, None
        elif kind == "label":
            label = str(first)
            if (m := _OS_LABEL.match(label)) is not None:
                os_build, year = int(m.group(1)), None
            elif (m := _YEAR_LABEL.match(label)) is not None:
                year = int(m.group(1))
        elif kind == "table" and section is not None:
            header = tuple(first) if isinstance(first, list) else ()
            rows = second if isinstance(second, list) else []
            if os_build is None:
                msg = f"{section}: a table with no 'Windows Server YYYY (OS build N)' label before it"
                raise PageDriftError(msg)
            if os_build not in HOTPATCH_OSES:
                continue
            where = f"{section}, OS build {os_build}"
            if section == HISTORY_SECTION:
                _expect_header(header, HISTORY_HEADER, where)
                _history_rows(rows, os_build, where, page)
            else:
                if year is None:
                    raise PageDriftError(f"{where}: a calendar table with no 'Calendar year YYYY' label before it")
                where = f"{where}, calendar year {year}"
                _expect_header(header, CALENDAR_HEADER, where)
                _calendar_rows(rows, os_build, year, where, page)
            seen[section].add(os_build)
    for name, oses in seen.items():
        missing = [str(o) for o in HOTPATCH_OSES if o not in oses]
        if missing:
            msg = f"section '{name}' has no table for OS build {', '.join(missing)} (was the section renamed?)"
            raise PageDriftError(msg)


def _expect_header(header: tuple[str, ...], expected: tuple[str, ...], where: str) -> None:
    if header != expected:
        msg = f"{where}: table header is {' | '.join(header)!r}, expected {' | '.join(expected)!r}"
        raise PageDriftError(msg)


def _cells(row: list[str], width: int, where: str) -> list[str]:
    extra = row[width:]
    if any(extra):
        raise PageDriftError(f"{where}: {len(row)} cells, expected {width}: {' | '.join(row)}")
    if len(row) < width:
        raise PageDriftError(f"{where}: {len(row)} cells, expected {width}: {' | '.join(row)}")
    return row[:width]


def _history_rows(rows: list[list[str]], os_build: int, where: str, page: ReleasePage) -> None:
    for n, raw in enumerate(rows, start=1):
        at = f"{where}, row {n}"
        _servicing, update_type, available, build_text, kb = _cells(raw, len(HISTORY_HEADER), at)
        m = _HISTORY_TYPE.match(update_type)
        if m is None:
            raise PageDriftError(f"{at}: update type {update_type!r} is not 'YYYY-MM X' (X: A-E or OOB)")
        released = _date(available, at)
        build = _build(build_text, os_build, at)
        if not kb:
            # The release-to-market build (e.g. 2024-10 A, 26100.1742) has no KB: nothing to key a row by.
            page.skipped.append(f"{at}: {update_type} {build} has no KB article")
            continue
        kind = {"B": "lcu", "OOB": "oob"}.get(m.group(3), "preview")
        if kind == "lcu" and released != patch_tuesday(released.year, released.month):
            raise PageDriftError(f"{at}: a B release dated {released}, not on Patch Tuesday")
        page.rows.append(
            PageRow(os_build, Month.of(released), released, kind, "standard", build, _kb(kb, at), None, at)
        )


def _calendar_rows(rows: list[list[str]], os_build: int, year: int, where: str, page: ReleasePage) -> None:
    for n, raw in enumerate(rows, start=1):
        at = f"{where}, row {n}"
        month_name, update_type, kind_text, available, build_text, kb = _cells(raw, len(CALENDAR_HEADER), at)
        m = _CALENDAR_TYPE.match(update_type.replace("\\*", "*").replace("^*^", "*"))
        if m is None:
            raise PageDriftError(f"{at}: update type {update_type!r} is not 'YYYY.MM B' (with an optional *)")
        month = Month(int(m.group(1)), int(m.group(2)))
        if month.year != year or month_name != MONTH_NAMES[month.month - 1]:
            raise PageDriftError(f"{at}: {month_name} {update_type!r} is not a month of calendar year {year}")
        kind = {"Baseline (Restart)": "baseline", "Hotpatch": "hotpatch"}.get(kind_text)
        if kind is None:
            raise PageDriftError(f"{at}: type {kind_text!r} is not 'Baseline (Restart)' or 'Hotpatch'")
        filled = [c for c in (available, build_text, kb) if c]
        if not filled:
            page.plans.append(PagePlan(os_build, month, kind))
            continue
        if len(filled) != 3:
            raise PageDriftError(f"{at}: date, build and KB must all be given or all be empty")
        released = _date(available, at)
        if released != month.patch_tuesday:
            raise PageDriftError(f"{at}: {released} is not Patch Tuesday of {month}")
        unplanned = m.group(3) is not None
        if unplanned and kind != "baseline":
            raise PageDriftError(f"{at}: the unplanned marker '*' on a {kind_text} row")
        track = "both" if kind == "baseline" else "hotpatch"
        row = PageRow(
            os_build,
            month,
            released,
            kind,
            track,
            _build(build_text, os_build, at),
            _kb(kb, at),
            "hotpatch" if unplanned else None,
            at,
        )
        page.rows.append(row)


def _date(text: str, at: str) -> date:
    if not _DATE.match(text):
        raise PageDriftError(f"{at}: availability date {text!r} is not YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise PageDriftError(f"{at}: availability date {text!r}: {err}") from err


def _build(text: str, os_build: int, at: str) -> Build:
    try:
        build = Build.parse(text)
    except ValueError as err:
        raise PageDriftError(f"{at}: {err}") from err
    if build.major != os_build:
        raise PageDriftError(f"{at}: build {build} is not OS build {os_build}")
    return build


def _kb(text: str, at: str) -> str:
    if not _KB.match(text):
        raise PageDriftError(f"{at}: KB article {text!r} is not KB followed by digits")
    return text


# Markdown ------------------------------------------------------------------------------------------------------

_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_BOLD = re.compile(r"^\*\*(.+?)\*\*$")


def _markdown_events(text: str) -> tuple[dict[str, str], list[Event]]:
    lines = text.splitlines()
    meta: dict[str, str] = {}
    start = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            raise PageDriftError("Markdown front matter starts with '---' but never ends")
        for line in lines[1:end]:
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip()] = value.strip().strip("'\"")
        start = end + 1
    events: list[Event] = []
    i = start
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                block.append(lines[i].strip())
                i += 1
            events.append(_markdown_table(block))
            continue
        if line.startswith("#"):
            title = line.lstrip("#")
            events.append(("heading", title.strip(), len(line) - len(title)))
        elif (m := _MD_BOLD.match(line)) is not None:
            events.append(("label", m.group(1).strip(), None))
        i += 1
    return meta, events


def _markdown_table(block: list[str]) -> Event:
    def cells(line: str) -> list[str]:
        inner = line[1:-1] if line.endswith("|") and len(line) > 1 else line[1:]
        return [_MD_LINK.sub(r"\1", c).strip() for c in inner.split("|")]

    if len(block) < 2 or not all(re.fullmatch(r":?-{3,}:?", c) for c in cells(block[1])):
        raise PageDriftError(f"Markdown table without a header separator: {block[0]}")
    return ("table", cells(block[0]), [cells(line) for line in block[2:]])


# HTML ----------------------------------------------------------------------------------------------------------


class _Html(HTMLParser):
    """Headings, loose <strong> labels and tables (cells as text, <sup>x</sup> written ^x^) in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[Event] = []
        self.meta: dict[str, str] = {}
        self._text: list[str] | None = None
        self._capture: str | None = None
        self._table: list[list[str]] | None = None
        self._header: list[str] | None = None
        self._row: list[str] | None = None
        self._row_is_header = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            values = dict(attrs)
            name, content = values.get("name"), values.get("content")
            if name and content is not None:
                self.meta[name] = content
        elif self._table is None and self._capture is None and tag in ("h1", "h2", "h3", "strong"):
            self._capture, self._text = tag, []
        elif tag == "table":
            self._table, self._header = [], None
        elif tag == "tr" and self._table is not None:
            self._row, self._row_is_header = [], False
        elif tag in ("td", "th") and self._row is not None:
            self._row_is_header = self._row_is_header or tag == "th"
            self._capture, self._text = tag, []
        elif tag == "sup" and self._text is not None:
            self._text.append("^")

    def handle_endtag(self, tag: str) -> None:
        if tag == "sup" and self._text is not None:
            self._text.append("^")
        elif tag == self._capture and self._text is not None:
            text = " ".join("".join(self._text).split())
            if tag in ("td", "th") and self._row is not None:
                self._row.append(text)
            elif tag == "strong":
                self.events.append(("label", text, None))
            else:
                self.events.append(("heading", text, int(tag[1])))
            self._capture, self._text = None, None
        elif tag == "tr" and self._row is not None and self._table is not None:
            if self._row_is_header and self._header is None:
                self._header = self._row
            else:
                self._table.append(self._row)
            self._row = None
        elif tag == "table" and self._table is not None:
            self.events.append(("table", self._header or [], self._table))
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def _html_events(text: str) -> tuple[dict[str, str], list[Event]]:
    parser = _Html()
    parser.feed(text)
    parser.close()
    return parser.meta, parser.events
