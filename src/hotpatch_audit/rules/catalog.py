"""The release catalog: one row per Windows Server release, bundled YAML merged with user files.

Rows are data, never derived from month arithmetic: an unplanned baseline (WS2022 2024-08) is a baseline
because its row says so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from hotpatch_audit.calendar import Build, Month
from hotpatch_audit.errors import CatalogError
from hotpatch_audit.inputs.yamlsrc import YamlDocument, YamlSourceError, load_yaml, parse_yaml

TYPES = {"baseline": "both", "hotpatch": "hotpatch", "lcu": "standard", "oob": "standard"}
HOTPATCH_TRACK = frozenset({"hotpatch", "both"})
ROW_KEYS = frozenset({"os", "month", "released", "type", "track", "build", "kb", "planned", "note"})
BUNDLED = "bundled:catalog.yml"


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

    @property
    def on_hotpatch_track(self) -> bool:
        """Whether a guest on this release stays on the hotpatch track."""
        return self.track in HOTPATCH_TRACK

    def describe(self) -> str:
        """E.g. ``20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12)``."""
        kind = {"lcu": "standard update", "oob": "standard out-of-band update"}.get(self.type, self.type)
        unplanned = f", unplanned, replaced a planned {self.planned}" if self.planned else ""
        return f"{self.build} ({self.kb}, {self.month} {kind}{unplanned}, released {self.released})"


@dataclass(frozen=True)
class Catalog:
    """All rows, with the files they came from."""

    releases: tuple[Release, ...]
    sources: tuple[str, ...]

    def for_os(self, os_build: int) -> list[Release]:
        """Rows of one OS, oldest first."""
        return sorted((r for r in self.releases if r.os == os_build), key=lambda r: (r.released, r.build))

    def find(self, build: Build) -> Release | None:
        """The row whose build equals `build` exactly."""
        for r in self.releases:
            if r.build == build:
                return r
        return None

    def newest_hotpatch_month(self, os_build: int) -> Month | None:
        """The newest month with a hotpatch-track row for this OS."""
        months = [r.month for r in self.releases if r.os == os_build and r.on_hotpatch_track]
        return max(months) if months else None

    def newest_months(self) -> dict[str, str]:
        """Newest hotpatch-track month per OS, for the run metadata."""
        out: dict[str, str] = {}
        for os_build in sorted({r.os for r in self.releases}):
            newest = self.newest_hotpatch_month(os_build)
            if newest is not None:
                out[str(os_build)] = str(newest)
        return out

    @property
    def sha256(self) -> str:
        """Digest of the merged rows, independent of file layout and order."""
        rows = sorted(
            (r.os, str(r.month), r.released.isoformat(), r.type, r.track, str(r.build), r.kb, r.planned or "")
            for r in self.releases
        )
        return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def load_catalog(extra: Sequence[Path] = ()) -> Catalog:
    """The bundled catalog with each extra file merged over it (a row with the same OS build replaces)."""
    text = resources.files("hotpatch_audit").joinpath("rules/catalog.yml").read_text(encoding="utf-8")
    try:
        bundled = parse_yaml(text, Path(BUNDLED))
    except YamlSourceError as err:
        raise CatalogError(str(err)) from err
    rows = {r.build: r for r in _rows(bundled, BUNDLED)}
    sources = [BUNDLED]
    for path in extra:
        try:
            doc = load_yaml(path)
        except YamlSourceError as err:
            raise CatalogError(str(err)) from err
        for r in _rows(doc, str(path)):
            rows[r.build] = r
        sources.append(str(path))
    merged = tuple(sorted(rows.values(), key=lambda r: (r.os, r.released, r.build)))
    _check_months(merged)
    return Catalog(merged, tuple(sources))


def _rows(doc: YamlDocument, source: str) -> Iterable[Release]:
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("releases"), list):
        msg = f"{doc.where(())}: a catalog is a mapping with a 'releases' list"
        raise CatalogError(msg)
    unknown = set(data) - {"schema_version", "releases"}
    if unknown:
        key = sorted(unknown)[0]
        msg = f"{doc.where((key,))}: unknown key '{key}' (expected schema_version, releases)"
        raise CatalogError(msg)
    seen: dict[Build, int] = {}
    for i, raw in enumerate(data["releases"]):
        row = _row(doc, i, raw, source)
        if row.build in seen:
            msg = f"{doc.where(('releases', i, 'build'))}: build {row.build} is already row {seen[row.build]}"
            raise CatalogError(msg)
        seen[row.build] = i
        yield row


def _row(doc: YamlDocument, i: int, raw: Any, source: str) -> Release:
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
    if kind not in TYPES:
        raise fail("type", f"'{kind}' is not one of {', '.join(TYPES)}")
    if track != TYPES[kind]:
        raise fail("track", f"a {kind} release is on track '{TYPES[kind]}', found '{track}'")
    released = raw["released"]
    if not isinstance(released, date):
        raise fail("released", f"must be a date YYYY-MM-DD, found {released!r}")
    try:
        month = Month.parse(str(raw["month"]))
        build = Build.parse(str(raw["build"]))
    except ValueError as err:
        raise fail("month" if "month" in str(err) else "build", str(err)) from err
    if build.major != os_build:
        raise fail("build", f"build {build} does not belong to os {os_build}")
    if Month.of(released) != month:
        raise fail("released", f"{released} is not in month {month}")
    if kind != "oob" and released != month.patch_tuesday:
        raise fail("released", f"{released} is not Patch Tuesday of {month} ({month.patch_tuesday}); use type oob")
    planned = raw.get("planned")
    if planned is not None and (kind != "baseline" or planned != "hotpatch"):
        raise fail("planned", "only an unplanned baseline carries 'planned: hotpatch'")
    kb = str(raw["kb"])
    if not kb.upper().startswith("KB"):
        raise fail("kb", f"'{kb}' is not a KB number such as KB5087424")
    return Release(os_build, month, released, kind, track, build, kb.upper(), planned, source)


def _check_months(rows: Sequence[Release]) -> None:
    seen: dict[tuple[int, Month], Release] = {}
    for r in rows:
        if not r.on_hotpatch_track:
            continue
        other = seen.get((r.os, r.month))
        if other is not None:
            msg = (
                f"{r.source}: {r.month} has two hotpatch-track releases for {r.os}: "
                f"{other.build} ({other.source}) and {r.build}"
            )
            raise CatalogError(msg)
        seen[(r.os, r.month)] = r
