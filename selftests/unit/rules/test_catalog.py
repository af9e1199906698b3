"""The bundled catalog's data is consistent, and user catalogs merge over it with clear errors."""

from collections import Counter
from pathlib import Path

import pytest

from hotpatch_audit.calendar import Build, Month
from hotpatch_audit.errors import CatalogError
from hotpatch_audit.rules.catalog import TYPES, load_catalog

CATALOG = load_catalog()


def test_builds_are_unique_per_os() -> None:
    counts = Counter((r.os, r.build) for r in CATALOG.releases)
    assert [k for k, n in counts.items() if n > 1] == []


def test_one_hotpatch_track_row_per_month() -> None:
    counts = Counter((r.os, r.month) for r in CATALOG.releases if r.on_hotpatch_track)
    assert [k for k, n in counts.items() if n > 1] == []
    for os_build, first, last in ((20348, Month(2024, 1), Month(2026, 5)), (26100, Month(2024, 11), Month(2026, 5))):
        month, missing = first, []
        while month <= last:
            if (os_build, month) not in counts:
                missing.append(str(month))
            month = month.next()
        assert missing == [], os_build


def test_types_and_tracks_are_consistent() -> None:
    assert {(r.type, r.track) for r in CATALOG.releases} <= set(TYPES.items())
    baselines = {str(r.month)[5:] for r in CATALOG.releases if r.type == "baseline" and not r.planned}
    assert baselines == {"01", "04", "07", "10"}


def test_dates_are_patch_tuesday_unless_out_of_band() -> None:
    assert [r for r in CATALOG.releases if r.type != "oob" and r.released != r.month.patch_tuesday] == []
    assert all(r.released.weekday() == 1 for r in CATALOG.releases if r.type != "oob")


def test_both_tables_and_standard_rows_are_bundled() -> None:
    kinds = Counter((r.os, r.type) for r in CATALOG.releases)
    assert kinds[(20348, "hotpatch")] + kinds[(20348, "baseline")] == 29
    assert kinds[(26100, "hotpatch")] + kinds[(26100, "baseline")] == 19
    assert kinds[(20348, "lcu")] == 18
    assert kinds[(20348, "oob")] == 11
    assert kinds[(26100, "lcu")] == 11


def test_user_catalog_adds_next_month(tmp_path: Path) -> None:
    extra = tmp_path / "june.yml"
    extra.write_text(
        "releases:\n"
        '  - {os: 20348, month: "2026-06", released: 2026-06-09, type: hotpatch, track: hotpatch,'
        ' build: "20348.5150", kb: KB5099999}\n'
    )
    merged = load_catalog([extra])
    assert merged.newest_months()["20348"] == "2026-06"
    assert merged.find(Build(20348, 5150)) is not None
    assert merged.sources[-1] == str(extra)
    assert merged.sha256 != CATALOG.sha256


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            "{os: 20348, month: '2026-06', released: 2026-06-10, type: hotpatch, track: hotpatch, build: '20348.1',"
            " kb: KB1}",
            "is not Patch Tuesday of 2026-06 (2026-06-09)",
        ),
        (
            "{os: 20348, month: '2026-06', released: 2026-06-09, type: hotpatch, track: standard, build: '20348.1',"
            " kb: KB1}",
            "track: a hotpatch release is on track 'hotpatch'",
        ),
        (
            "{os: 20348, month: '2026-06', released: 2026-06-09, type: weekly, track: hotpatch, build: '20348.1',"
            " kb: KB1}",
            "'weekly' is not one of",
        ),
        (
            "{os: 20348, month: '2026-06', released: 2026-06-09, type: lcu, track: standard, build: '26100.1',"
            " kb: KB1}",
            "does not belong to os 20348",
        ),
        ("{os: 20348, month: '2026-06', released: 2026-06-09, type: lcu, track: standard, kb: KB1}", "missing 'build'"),
    ],
)
def test_malformed_user_catalog_names_file_line_and_key(tmp_path: Path, row: str, problem: str) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(f"releases:\n  - {row}\n")
    with pytest.raises(CatalogError, match=r"bad\.yml:2: releases\.0") as err:
        load_catalog([bad])
    assert problem in str(err.value)


def test_two_hotpatch_rows_in_one_month_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "dup.yml"
    bad.write_text(
        "releases:\n  - {os: 20348, month: '2026-05', released: 2026-05-12, type: hotpatch, track: hotpatch,"
        " build: '20348.5075', kb: KB1}\n"
    )
    with pytest.raises(CatalogError, match="2026-05 has two hotpatch-track releases"):
        load_catalog([bad])
