"""The bundled catalog's data is consistent, and user catalogs merge over it with clear errors."""

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from hotpatch_audit.calendar import Build, Month
from hotpatch_audit.errors import CatalogError
from hotpatch_audit.rules.catalog import DATA_DIR_ENV, TRACKS, load_catalog, user_catalog_path

CATALOG = load_catalog(user=False)
ROW = (
    "{{os: 20348, month: '{month}', released: {released}, type: {type}, track: {track}, build: {build}, "
    "kb: {kb}{more}}}"
)


def catalog_file(tmp_path: Path, *rows: str, name: str = "extra.yml", head: str = "") -> Path:
    path = tmp_path / name
    path.write_text(head + "releases:\n" + "".join(f"  - {r}\n" for r in rows), encoding="utf-8")
    return path


def row(month: str, released: str, kind: str, track: str, build: str, kb: str, more: str = "") -> str:
    return ROW.format(month=month, released=released, type=kind, track=track, build=build, kb=kb, more=more)


def test_rows_are_unique_per_os_and_kb() -> None:
    counts = Counter((r.os, r.kb) for r in CATALOG.releases)
    assert [k for k, n in counts.items() if n > 1] == []


def test_every_month_has_exactly_one_patch_tuesday_hotpatch_track_row() -> None:
    counts = Counter((r.os, r.month) for r in CATALOG.releases if r.on_hotpatch_track and r.monthly)
    assert [k for k, n in counts.items() if n > 1] == []
    for os_build, first, last in ((20348, Month(2024, 1), Month(2026, 5)), (26100, Month(2024, 11), Month(2026, 5))):
        month, missing = first, []
        while month <= last:
            if (os_build, month) not in counts:
                missing.append(str(month))
            month = month.next()
        assert missing == [], os_build
        assert CATALOG.first_gap(os_build) == Month(2026, 6)


def test_types_and_tracks_are_consistent() -> None:
    assert all(r.track in TRACKS[r.type] for r in CATALOG.releases)
    baselines = {str(r.month)[5:] for r in CATALOG.releases if r.type == "baseline" and not r.planned}
    assert baselines == {"01", "04", "07", "10"}


def test_dates_are_patch_tuesday_unless_out_of_band() -> None:
    assert [r for r in CATALOG.releases if r.monthly and r.released != r.month.patch_tuesday] == []
    assert all(r.released.weekday() == 1 for r in CATALOG.releases if r.monthly)


def test_both_tables_standard_and_out_of_band_rows_are_bundled() -> None:
    kinds = Counter((r.os, r.type, r.track) for r in CATALOG.releases)
    assert kinds[(20348, "hotpatch", "hotpatch")] + kinds[(20348, "baseline", "both")] == 29
    assert kinds[(26100, "hotpatch", "hotpatch")] + kinds[(26100, "baseline", "both")] == 19
    assert kinds[(20348, "lcu", "standard")] == 18
    assert kinds[(20348, "oob", "standard")] == 11
    assert kinds[(20348, "oob", "hotpatch")] == 2  # KB5078238, KB5091576
    assert kinds[(26100, "lcu", "standard")] == 13  # with 2024-11 KB5046617 and 2024-12 KB5048667
    assert kinds[(26100, "oob", "standard")] == 10  # every WS2025 out-of-band release the page lists
    assert kinds[(26100, "oob", "hotpatch")] == 3  # KB5061258, KB5070893, KB5091470


def test_one_build_with_two_kbs_is_two_rows() -> None:
    rows = {r.kb: r.track for r in CATALOG.find_all(Build(26100, 6905))}
    assert rows == {"KB5070893": "hotpatch", "KB5070881": "standard"}
    assert CATALOG.find(Build(26100, 6905)) is None  # ambiguous: the installed KB decides
    oob = CATALOG.find(Build(26100, 32698))
    assert oob is not None
    assert (oob.kb, oob.released, oob.type, oob.track) == ("KB5091157", date(2026, 4, 19), "oob", "standard")


def test_plans_are_not_releases() -> None:
    assert CATALOG.next_baseline(20348, Month(2026, 5)) == Month(2026, 7)  # planned
    assert CATALOG.next_baseline(26100, Month(2026, 7)) == Month(2026, 10)  # planned
    assert CATALOG.next_baseline(20348, Month(2024, 7)) == Month(2024, 8)  # released: the unplanned one
    assert CATALOG.newest_months() == {"20348": "2026-05", "26100": "2026-05"}


def test_user_catalog_adds_next_month(tmp_path: Path) -> None:
    extra = catalog_file(tmp_path, row("2026-06", "2026-06-09", "hotpatch", "hotpatch", "'20348.5150'", "KB5099999"))
    merged = load_catalog([extra], user=False)
    assert merged.newest_months()["20348"] == "2026-06"
    assert merged.find(Build(20348, 5150)) is not None
    assert merged.sources[-1] == str(extra)
    assert merged.sha256 != CATALOG.sha256


def test_a_hole_ends_the_continuous_catalog(tmp_path: Path) -> None:
    july = catalog_file(tmp_path, row("2026-07", "2026-07-14", "baseline", "both", "'20348.5386'", "KB5099540"))
    merged = load_catalog([july], user=False)
    assert merged.first_gap(20348) == Month(2026, 6)
    assert merged.newest_months()["20348"] == "2026-05"  # not 2026-07: June is missing


def test_unquoted_float_build_is_a_located_error(tmp_path: Path) -> None:
    bad = catalog_file(tmp_path, row("2026-06", "2026-06-09", "hotpatch", "hotpatch", "20348.5200", "KB5099999"))
    with pytest.raises(CatalogError, match=r"extra\.yml:2: releases\.0\.build: must be a quoted string") as err:
        load_catalog([bad], user=False)
    assert "20348.52" in str(err.value)


def test_future_row_is_refused(tmp_path: Path) -> None:
    bad = catalog_file(tmp_path, row("2099-12", "2099-12-08", "hotpatch", "hotpatch", "'20348.9999'", "KB5999999"))
    with pytest.raises(CatalogError, match=r"extra\.yml:2: releases\.0\.released: 2099-12-08 is after today"):
        load_catalog([bad], user=False)
    # The bound is the day the catalog is loaded, so the same row loads once that day has come.
    assert load_catalog([bad], user=False, today=date(2099, 12, 8)).first_gap(20348) == Month(2026, 6)


def test_changing_a_bundled_row_needs_replaces(tmp_path: Path) -> None:
    retyped = row("2026-05", "2026-05-12", "lcu", "standard", "'20348.5074'", "KB5087424")
    with pytest.raises(
        CatalogError, match=r"extra\.yml:2: releases\.0: changes 20348\.5074 \(KB5087424, 2026-05 hotpatch"
    ):
        load_catalog([catalog_file(tmp_path, retyped)], user=False)
    said = catalog_file(tmp_path, retyped[:-1] + ", replaces: KB5087424}", name="said.yml")
    merged = load_catalog([said], user=False)
    replaced = merged.find(Build(20348, 5074))
    assert replaced is not None
    assert (replaced.type, replaced.source) == ("lcu", str(said))
    assert merged.first_gap(20348) == Month(2026, 5)  # May lost its hotpatch-track row: stale from May


def test_repeating_a_row_unchanged_is_no_change(tmp_path: Path) -> None:
    same = catalog_file(tmp_path, row("2026-05", "2026-05-12", "hotpatch", "hotpatch", "'20348.5074'", "KB5087424"))
    assert load_catalog([same], user=False).sha256 == CATALOG.sha256


def test_replaces_must_name_an_existing_row(tmp_path: Path) -> None:
    bad = catalog_file(
        tmp_path, row("2026-05", "2026-05-12", "lcu", "standard", "'20348.5074'", "KB5087424", ", replaces: KB1234567")
    )
    with pytest.raises(CatalogError, match="replaces KB1234567, which no earlier catalog has for 20348"):
        load_catalog([bad], user=False)


def test_hotpatch_track_out_of_band_rows_are_allowed(tmp_path: Path) -> None:
    oob = catalog_file(tmp_path, row("2026-05", "2026-05-20", "oob", "hotpatch", "'20348.5080'", "KB5999998"))
    merged = load_catalog([oob], user=False)
    found = merged.find(Build(20348, 5080))
    assert found is not None
    assert found.on_hotpatch_track
    assert "hotpatch out-of-band update" in found.describe()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (row("2026-06", "2026-06-10", "hotpatch", "hotpatch", "'20348.1'", "KB1"), "is not Patch Tuesday of 2026-06"),
        (row("2026-06", "2026-06-09", "hotpatch", "standard", "'20348.1'", "KB1"), "track: a hotpatch release is on"),
        (row("2026-06", "2026-06-09", "weekly", "hotpatch", "'20348.1'", "KB1"), "'weekly' is not one of"),
        (row("2026-06", "2026-06-09", "lcu", "standard", "'26100.1'", "KB1"), "does not belong to os 20348"),
        (row("2026-06", "2026-06-09", "lcu", "standard", "'20348.1'", "5087424"), "kb: '5087424' is not a KB number"),
        ("{os: 20348, month: '2026-06', released: 2026-06-09, type: lcu, track: standard, kb: KB1}", "missing 'build'"),
    ],
)
def test_malformed_user_catalog_names_file_line_and_key(tmp_path: Path, text: str, problem: str) -> None:
    bad = catalog_file(tmp_path, text, name="bad.yml")
    with pytest.raises(CatalogError, match=r"bad\.yml:2: releases\.0") as err:
        load_catalog([bad], user=False)
    assert problem in str(err.value)


def test_two_patch_tuesday_hotpatch_rows_in_one_month_are_refused(tmp_path: Path) -> None:
    bad = catalog_file(tmp_path, row("2026-05", "2026-05-12", "hotpatch", "hotpatch", "'20348.5075'", "KB5999997"))
    with pytest.raises(CatalogError, match="2026-05 has two hotpatch-track releases"):
        load_catalog([bad], user=False)


def test_per_user_catalog_loads_between_bundled_and_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    assert user_catalog_path() == tmp_path / "data" / "catalog.yml"
    assert load_catalog().sources == ("bundled:catalog.yml",)  # none written yet
    (tmp_path / "data").mkdir()
    provenance = 'provenance:\n  source: "https://example.invalid/page"\n  updated_at: "2026-06-10T03:00:00Z"\n'
    user = catalog_file(
        tmp_path / "data",
        row("2026-06", "2026-06-09", "hotpatch", "hotpatch", "'20348.5190'", "KB5999022"),
        name="catalog.yml",
        head=provenance,
    )
    extra = catalog_file(tmp_path, row("2026-06", "2026-06-09", "lcu", "standard", "'20348.5260'", "KB5999122"))
    merged = load_catalog([extra])
    assert merged.sources == ("bundled:catalog.yml", str(user), str(extra))
    assert merged.provenance[1].provenance == {
        "source": "https://example.invalid/page",
        "updated_at": "2026-06-10T03:00:00Z",
    }
    assert merged.provenance[1].newest == {"20348": "2026-06"}
    assert load_catalog([extra], user=False).sources == ("bundled:catalog.yml", str(extra))


def test_xdg_data_home_is_the_default_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert user_catalog_path() == tmp_path / "hotpatch-audit" / "catalog.yml"


def test_a_broken_per_user_catalog_says_how_to_recover(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    (tmp_path / "catalog.yml").write_text("releases:\n  - {os: 20348}\n")
    with pytest.raises(
        CatalogError, match=r"catalog\.yml:2: releases\.0: missing 'month' \(this is the per-user catalog"
    ):
        load_catalog()
