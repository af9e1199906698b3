"""The release catalog: one row per Windows Server release, bundled YAML merged with user files.

Rows are data, never derived from month arithmetic: an unplanned baseline (WS2022 2024-08) is a baseline
because its row says so. A row is keyed by (os, kb): one build can carry two KBs on different tracks
(26100.6905 is KB5070893 on the hotpatch track and KB5070881 off it).

Layers load in order: the bundled file, the per-user catalog that ``catalog update`` writes, then each
``--catalog`` file. A later layer may repeat an earlier row unchanged; changing one needs ``replaces: KB...``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from hotpatch_audit.calendar import Build, Month
from hotpatch_audit.errors import CatalogError
from hotpatch_audit.inputs.yamlsrc import YamlDocument, YamlSourceError, load_yaml, parse_yaml

# type: the tracks a release of that type may be on. Out-of-band releases exist on both tracks.
TRACKS: dict[str, frozenset[str]] = {
    "baseline": frozenset({"both"}),
    "hotpatch": frozenset({"hotpatch"}),
    "lcu": frozenset({"standard"}),
    "oob": frozenset({"standard", "hotpatch"}),
    "preview": frozenset({"standard"}),
}
# Types released on Patch Tuesday; the others carry their own date.
PATCH_TUESDAY = frozenset({"baseline", "hotpatch", "lcu"})
HOTPATCH_TRACK = frozenset({"hotpatch", "both"})
ROW_KEYS = frozenset({"os", "month", "released", "type", "track", "build", "kb", "planned", "note", "replaces"})
PLAN_KEYS = frozenset({"os", "month", "type", "note"})
PROVENANCE_KEYS = frozenset({"source", "updated_at", "git_commit_id", "retrieved_at"})
TOP_KEYS = frozenset({"schema_version", "provenance", "releases", "plans"})
BUNDLED = "bundled:catalog.yml"
DATA_DIR_ENV = "HOTPATCH_AUDIT_DATA_DIR"
REFRESH_COMMAND = "python -m hotpatch_audit catalog update"
# One loaded file: its name, its provenance and the (os, kb) keys of its rows.
Layer = tuple[str, dict[str, str], set[tuple[int, str]]]


def user_catalog_path() -> Path:
    """Where ``catalog update`` writes and audits read the per-user catalog.

    ``$HOTPATCH_AUDIT_DATA_DIR/catalog.yml``, else ``$XDG_DATA_HOME/hotpatch-audit/catalog.yml``, else
    ``~/.local/share/hotpatch-audit/catalog.yml``.
    """
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override) / "catalog.yml"
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "hotpatch-audit" / "catalog.yml"


@dataclass(frozen=True)
class Release:
    """One catalog row."""

    os: int
    month: Month
    released: date
    type: str
    track: str
    build: Build
    kb: str
    planned: str | None = None
    source: str = BUNDLED
    replaces: str | None = None

    @property
    def on_hotpatch_track(self) -> bool:
        """Whether a guest on this release stays on the hotpatch track."""
        return self.track in HOTPATCH_TRACK

    @property
    def monthly(self) -> bool:
        """A Patch Tuesday release (baseline, hotpatch, standard update), not out-of-band or preview."""
        return self.type in PATCH_TUESDAY

    def describe(self) -> str:
        """E.g. ``20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12)``."""
        kinds = {
            "lcu": "standard update",
            "preview": "standard preview update",
            "oob": "hotpatch out-of-band update" if self.on_hotpatch_track else "standard out-of-band update",
        }
        kind = kinds.get(self.type, self.type)
        unplanned = f", unplanned, replaced a planned {self.planned}" if self.planned else ""
        return f"{self.build} ({self.kb}, {self.month} {kind}{unplanned}, released {self.released})"

    def key(self) -> tuple[object, ...]:
        """Everything a verdict can depend on, for comparing a row with the one it repeats."""
        return (self.os, self.month, self.released, self.type, self.track, self.build, self.kb, self.planned)


@dataclass(frozen=True)
class Plan:
    """A month Microsoft's calendar announces; never used as a release in a verdict."""

    os: int
    month: Month
    type: str
    source: str = BUNDLED


@dataclass(frozen=True)
class CatalogSource:
    """One loaded catalog file: where its data came from, its row count, its newest hotpatch-track month per OS."""

    name: str
    provenance: Mapping[str, str]
    rows: int
    newest: Mapping[str, str]

    def as_json(self) -> dict[str, Any]:
        """Plain data for results.json."""
        return {"name": self.name, "provenance": dict(self.provenance), "rows": self.rows, "newest": dict(self.newest)}


@dataclass(frozen=True)
class Catalog:
    """All rows, with the files they came from."""

    releases: tuple[Release, ...]
    sources: tuple[str, ...]
    plans: tuple[Plan, ...] = ()
    provenance: tuple[CatalogSource, ...] = ()

    # The rows never change, and every update control of every guest asks these questions: each is answered
    # from an index built once per catalog, not by scanning all rows per question.
    @cached_property
    def _by_os(self) -> dict[int, tuple[Release, ...]]:
        rows: dict[int, list[Release]] = {}
        for r in sorted(self.releases, key=lambda r: (r.released, r.build, r.kb)):
            rows.setdefault(r.os, []).append(r)
        return {os_build: tuple(found) for os_build, found in rows.items()}

    @cached_property
    def _by_build(self) -> dict[Build, tuple[Release, ...]]:
        rows: dict[Build, list[Release]] = {}
        for r in self.releases:
            rows.setdefault(r.build, []).append(r)
        return {build: tuple(found) for build, found in rows.items()}

    @cached_property
    def _first_gaps(self) -> dict[int, Month | None]:
        return {os_build: self._gap(os_build) for os_build in self._by_os}

    def for_os(self, os_build: int) -> list[Release]:
        """Rows of one OS, oldest first."""
        return list(self._by_os.get(os_build, ()))

    def find(self, build: Build) -> Release | None:
        """The one row whose build equals `build` exactly; None when there is none or more than one."""
        rows = self.find_all(build)
        return rows[0] if len(rows) == 1 else None

    def find_all(self, build: Build) -> list[Release]:
        """Every row with this build (two when one build carries two KBs)."""
        return list(self._by_build.get(build, ()))

    def hotpatch_months(self, os_build: int) -> list[Month]:
        """Months with a Patch Tuesday hotpatch-track release (hotpatch or baseline), oldest first."""
        return sorted({r.month for r in self._by_os.get(os_build, ()) if r.monthly and r.on_hotpatch_track})

    def first_gap(self, os_build: int) -> Month | None:
        """The first month without a hotpatch-track release after the catalog's first one (None: no rows)."""
        return self._first_gaps.get(os_build)

    def _gap(self, os_build: int) -> Month | None:
        months = self.hotpatch_months(os_build)
        if not months:
            return None
        expected = months[0]
        for month in months:
            if month != expected:
                return expected
            expected = month.next()
        return expected

    def newest_hotpatch_month(self, os_build: int) -> Month | None:
        """The newest month up to which every month has its hotpatch-track release."""
        months = self.hotpatch_months(os_build)
        gap = self.first_gap(os_build)
        before = [m for m in months if gap is None or m < gap]
        return before[-1] if before else None

    def newest_months(self) -> dict[str, str]:
        """Newest continuous hotpatch-track month per OS, for the run metadata."""
        out: dict[str, str] = {}
        for os_build in sorted({r.os for r in self.releases}):
            newest = self.newest_hotpatch_month(os_build)
            if newest is not None:
                out[str(os_build)] = str(newest)
        return out

    def next_baseline(self, os_build: int, after: Month) -> Month | None:
        """The first baseline month after `after`: a released baseline, else one Microsoft's calendar plans."""
        released = [r.month for r in self.releases if r.os == os_build and r.type == "baseline"]
        planned = [p.month for p in self.plans if p.os == os_build and p.type == "baseline"]
        later = [m for m in released + planned if m > after]
        return min(later) if later else None

    @property
    def sha256(self) -> str:
        """Digest of the merged rows, independent of file layout and order."""
        rows = sorted(
            (r.os, str(r.month), r.released.isoformat(), r.type, r.track, str(r.build), r.kb, r.planned or "")
            for r in self.releases
        )
        return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def load_catalog(extra: Sequence[Path] = (), *, user: bool = True, today: date | None = None) -> Catalog:
    """The bundled catalog, the per-user catalog (when `user` and it exists), then each extra file.

    `today` (default: the UTC date) bounds release dates: a row released after it is refused.
    """
    day = today or datetime.now(UTC).date()
    text = resources.files("hotpatch_audit").joinpath("rules/catalog.yml").read_text(encoding="utf-8")
    try:
        docs = [(parse_yaml(text, Path(BUNDLED)), BUNDLED)]
    except YamlSourceError as err:
        raise CatalogError(str(err)) from err
    own = user_catalog_path()
    paths = [own] if user and own.is_file() else []
    for path in [*paths, *extra]:
        try:
            docs.append((load_yaml(path), str(path)))
        except YamlSourceError as err:
            raise CatalogError(_hint(str(err), path, own)) from err
    rows: dict[tuple[int, str], Release] = {}
    plans: dict[tuple[int, Month], Plan] = {}
    layers: list[Layer] = []
    for doc, name in docs:
        try:
            _check_top(doc)
            keys = _merge(doc, name, rows, bundled=name == BUNDLED, today=day)
            for plan in _plans(doc, name):
                plans[(plan.os, plan.month)] = plan
            layers.append((name, _provenance(doc), keys))
        except CatalogError as err:
            raise CatalogError(_hint(str(err), doc.path, own)) from err
    merged = tuple(sorted(rows.values(), key=lambda r: (r.os, r.released, r.build, r.kb)))
    _check_months(merged)
    catalog = Catalog(merged, tuple(name for _, name in docs), tuple(sorted(plans.values(), key=_plan_order)))
    return replace(catalog, provenance=_sources(catalog, layers))


def _hint(message: str, path: Path, own: Path) -> str:
    if path != own:
        return message
    return f"{message} (this is the per-user catalog: run '{REFRESH_COMMAND}' again, or delete the file)"


def _plan_order(plan: Plan) -> tuple[int, Month]:
    return (plan.os, plan.month)


def _sources(catalog: Catalog, layers: Sequence[Layer]) -> tuple[CatalogSource, ...]:
    out = []
    for name, provenance, keys in layers:
        newest: dict[str, Month] = {}
        for r in catalog.releases:
            if (r.os, r.kb) in keys and r.monthly and r.on_hotpatch_track:
                newest[str(r.os)] = max(newest.get(str(r.os), r.month), r.month)
        shown = {os_build: str(month) for os_build, month in sorted(newest.items())}
        out.append(CatalogSource(name, provenance, len(keys), shown))
    return tuple(out)


def _check_top(doc: YamlDocument) -> None:
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("releases"), list):
        msg = f"{doc.where(())}: a catalog is a mapping with a 'releases' list"
        raise CatalogError(msg)
    unknown = set(data) - TOP_KEYS
    if unknown:
        key = sorted(unknown)[0]
        msg = f"{doc.where((key,))}: unknown key '{key}' (expected {', '.join(sorted(TOP_KEYS))})"
        raise CatalogError(msg)
    if data.get("schema_version", 1) != 1:
        msg = f"{doc.where(('schema_version',))}: schema_version {data['schema_version']!r} is not supported (1)"
        raise CatalogError(msg)


def _provenance(doc: YamlDocument) -> dict[str, str]:
    raw = doc.data.get("provenance")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CatalogError(f"{doc.where(('provenance',))}: provenance must be a mapping")
    for key, value in raw.items():
        if key not in PROVENANCE_KEYS:
            allowed = ", ".join(sorted(PROVENANCE_KEYS))
            raise CatalogError(f"{doc.where(('provenance', key))}: unknown key '{key}' (expected {allowed})")
        if not isinstance(value, str):
            raise CatalogError(f"{doc.where(('provenance', key))}: must be a quoted string, found {value!r}")
    return {str(k): str(v) for k, v in raw.items()}


def _merge(
    doc: YamlDocument, source: str, rows: dict[tuple[int, str], Release], *, bundled: bool, today: date
) -> set[tuple[int, str]]:
    """Merge one file's rows into `rows`; returns the (os, kb) keys this file contributed."""
    own: dict[tuple[int, str], int] = {}
    for i, raw in enumerate(doc.data["releases"]):
        row = _row(doc, i, raw, source, today)
        key = (row.os, row.kb)
        if key in own:
            raise CatalogError(f"{doc.where(('releases', i, 'kb'))}: {row.kb} for {row.os} is already row {own[key]}")
        own[key] = i
        if row.replaces is not None:
            if bundled:
                raise CatalogError(f"{doc.where(('releases', i, 'replaces'))}: the bundled catalog replaces nothing")
            old_key = (row.os, row.replaces)
            if old_key not in rows:
                msg = (
                    f"{doc.where(('releases', i, 'replaces'))}: replaces {row.replaces}, which no earlier catalog "
                    f"has for {row.os}"
                )
                raise CatalogError(msg)
            del rows[old_key]
        old = rows.get(key)
        if old is not None and old.key() != row.key():
            msg = (
                f"{doc.where(('releases', i))}: changes {old.describe()} from {old.source} into {row.describe()}; "
                f"if that is intended, say so with 'replaces: {row.kb}'"
            )
            raise CatalogError(msg)
        if old is None or row.replaces is not None:
            rows[key] = row
    return set(own)


def _plans(doc: YamlDocument, source: str) -> Iterable[Plan]:
    raw_plans = doc.data.get("plans", [])
    if not isinstance(raw_plans, list):
        raise CatalogError(f"{doc.where(('plans',))}: plans must be a list")
    for i, raw in enumerate(raw_plans):
        at = ("plans", i)
        if not isinstance(raw, dict):
            raise CatalogError(f"{doc.where(at)}: each plan must be a mapping")
        for key in raw:
            if key not in PLAN_KEYS:
                allowed = ", ".join(sorted(PLAN_KEYS))
                raise CatalogError(f"{doc.where((*at, key))}: unknown key '{key}' (expected {allowed})")
        for key in ("os", "month", "type"):
            if raw.get(key) is None:
                raise CatalogError(f"{doc.where(at)}: missing '{key}'")
        if not isinstance(raw["os"], int):
            raise CatalogError(f"{doc.where((*at, 'os'))}: must be a build number such as 20348")
        if raw["type"] not in ("baseline", "hotpatch"):
            raise CatalogError(f"{doc.where((*at, 'type'))}: a plan is a 'baseline' or a 'hotpatch' month")
        month = _month(doc, (*at, "month"), raw["month"])
        yield Plan(raw["os"], month, str(raw["type"]), source)


def _month(doc: YamlDocument, at: tuple[str | int, ...], value: Any) -> Month:
    if not isinstance(value, str):
        raise CatalogError(f'{doc.where(at)}: must be a quoted month such as "2026-05", found {value!r}')
    try:
        return Month.parse(value)
    except ValueError as err:
        raise CatalogError(f"{doc.where(at)}: {err}") from err


def _row(doc: YamlDocument, i: int, raw: Any, source: str, today: date) -> Release:
    at = ("releases", i)

    def fail(key: str | None, problem: str) -> CatalogError:
        return CatalogError(f"{doc.where((*at, key) if key else at)}: {problem}")

    if not isinstance(raw, dict):
        raise fail(None, "each release must be a mapping")
    for key in raw:
        if key not in ROW_KEYS:
            raise fail(key, f"unknown key '{key}' (expected {', '.join(sorted(ROW_KEYS))})")
    for key in ("os", "month", "released", "type", "track", "build", "kb"):
        if raw.get(key) is None:
            raise fail(None, f"missing '{key}'")
    os_build, kind, track = raw["os"], str(raw["type"]), str(raw["track"])
    if not isinstance(os_build, int):
        raise fail("os", f"must be a build number such as 20348, found {os_build!r}")
    if kind not in TRACKS:
        raise fail("type", f"'{kind}' is not one of {', '.join(TRACKS)}")
    if track not in TRACKS[kind]:
        raise fail("track", f"a {kind} release is on track '{' or '.join(sorted(TRACKS[kind]))}', found '{track}'")
    released = raw["released"]
    if not isinstance(released, date):
        raise fail("released", f"must be a date YYYY-MM-DD, found {released!r}")
    if released > today:
        raise fail(
            "released",
            f"{released} is after today ({today}): a catalog lists releases that happened; "
            "put announced months under 'plans'",
        )
    if not isinstance(raw["build"], str):
        raise fail(
            "build",
            f'must be a quoted string such as "20348.5074": YAML read {raw["build"]!r} as a number '
            "(an unquoted 20348.5200 would lose its trailing zero)",
        )
    try:
        build = Build.parse(raw["build"])
    except ValueError as err:
        raise fail("build", str(err)) from err
    month = _month(doc, (*at, "month"), raw["month"])
    if build.major != os_build:
        raise fail("build", f"build {build} does not belong to os {os_build}")
    if Month.of(released) != month:
        raise fail("released", f"{released} is not in month {month}")
    if kind in PATCH_TUESDAY and released != month.patch_tuesday:
        raise fail("released", f"{released} is not Patch Tuesday of {month} ({month.patch_tuesday}); use type oob")
    planned = raw.get("planned")
    if planned is not None and (kind != "baseline" or planned != "hotpatch"):
        raise fail("planned", "only an unplanned baseline carries 'planned: hotpatch'")
    kb = _kb(raw["kb"], lambda problem: fail("kb", problem))
    replaces = raw.get("replaces")
    if replaces is not None:
        replaces = _kb(replaces, lambda problem: fail("replaces", problem))
    return Release(os_build, month, released, kind, track, build, kb, planned, source, replaces)


def _kb(value: Any, fail: Callable[[str], CatalogError]) -> str:
    text = str(value).upper()
    if not isinstance(value, str) or not text.startswith("KB") or not text[2:].isdigit():
        raise fail(f"'{value}' is not a KB number such as KB5087424")
    return text


def _check_months(rows: Sequence[Release]) -> None:
    seen: dict[tuple[int, Month], Release] = {}
    for r in rows:
        if not (r.on_hotpatch_track and r.monthly):
            continue
        other = seen.get((r.os, r.month))
        if other is not None:
            msg = (
                f"{r.source}: {r.month} has two hotpatch-track releases for {r.os}: "
                f"{other.build} {other.kb} ({other.source}) and {r.build} {r.kb}"
            )
            raise CatalogError(msg)
        seen[(r.os, r.month)] = r
