"""HP-05 and HP-06 on the traps that fool naive tools (DESIGN §4)."""

from datetime import date, timedelta
from pathlib import Path

import pytest

from hotpatch_audit.calendar import Build, Month
from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.inputs.policy import AcceptedBuild, Policy
from hotpatch_audit.rules.catalog import REFRESH_COMMAND, Catalog, load_catalog
from hotpatch_audit.rules.hp05_latest_release import evaluate as latest_release_installed
from hotpatch_audit.rules.hp06_hotpatch_track import evaluate as on_hotpatch_track
from hotpatch_audit.rules.updates import UpdateContext, assess
from support import facts

CATALOG = load_catalog(user=False)
MAY_27 = date(2026, 5, 27)


def ctx(as_of: date = MAY_27, grace: int = 14, policy: Policy | None = None) -> UpdateContext:
    return UpdateContext(CATALOG, policy or Policy(grace_days=grace), as_of)


def test_hotpatch_build_lower_than_same_month_standard_update_passes_both() -> None:
    hotpatched = facts(os__ubr=5074)  # 2026-05 hotpatch; the 2026-05 standard update is 20348.5139
    assert Build(20348, 5074) < Build(20348, 5139)
    assert latest_release_installed(hotpatched, ctx()).compliant
    assert on_hotpatch_track(hotpatched, ctx()).compliant


def test_standard_update_of_a_hotpatch_month_is_current_but_off_track() -> None:
    standard = facts(os__ubr=5139)
    assert latest_release_installed(standard, ctx()).compliant
    finding = on_hotpatch_track(standard, ctx())
    assert not finding.compliant
    assert "20348.5139" in finding.message
    assert "KB5087545" in finding.message


def test_ws2025_builds_compare_numerically_across_the_ubr_jump() -> None:
    dec_2025 = facts(os__current_build=26100, os__ubr=7392)
    finding = latest_release_installed(dec_2025, ctx())
    assert not finding.compliant
    assert "26100.32772" in finding.message
    assert latest_release_installed(facts(os__current_build=26100, os__ubr=32772), ctx()).compliant


def test_ws2022_2024_08_is_an_unplanned_baseline_from_the_catalog() -> None:
    row = CATALOG.find(Build(20348, 2655))
    assert row is not None
    assert (row.type, row.track, row.planned) == ("baseline", "both", "hotpatch")
    aug = facts(os__ubr=2655)
    as_of = date(2024, 9, 1)
    assert on_hotpatch_track(aug, ctx(as_of)).compliant
    assert latest_release_installed(aug, ctx(as_of)).compliant


@pytest.mark.parametrize(
    ("days_after_release", "expected_month_due"),
    [(13, False), (14, True), (15, True)],
)
def test_grace_boundary(days_after_release: int, expected_month_due: bool) -> None:
    released = date(2026, 5, 12)
    on_april = facts(os__ubr=5020)  # 2026-04 baseline
    finding = latest_release_installed(on_april, ctx(released + timedelta(days=days_after_release)))
    assert finding.compliant is not expected_month_due


def test_stale_catalog_is_an_error_for_both_controls() -> None:
    late = ctx(date(2026, 6, 23))  # June 2026 Patch Tuesday (06-09) + 14 days, no June row
    for evaluate in (latest_release_installed, on_hotpatch_track):
        with pytest.raises(NotEvaluatedError, match=r"catalog is stale: no release for 2026-06"):
            evaluate(facts(), late)
    assert latest_release_installed(facts(), ctx(date(2026, 6, 22))).compliant


def test_unknown_build_newer_than_the_catalog_is_an_error() -> None:
    newer = facts(os__ubr=5300)
    for evaluate in (latest_release_installed, on_hotpatch_track):
        with pytest.raises(NotEvaluatedError, match="catalog needs updating"):
            evaluate(newer, ctx())


def test_unknown_build_between_rows_is_an_error() -> None:
    with pytest.raises(NotEvaluatedError, match="is unknown"):
        latest_release_installed(facts(os__ubr=5100), ctx())


def test_unknown_build_older_than_everything_due_fails_hp05_and_errors_hp06() -> None:
    ancient = facts(os__ubr=1000)
    finding = latest_release_installed(ancient, ctx())
    assert not finding.compliant
    assert "20348.1000" in finding.message
    with pytest.raises(NotEvaluatedError, match="track cannot be told"):
        on_hotpatch_track(ancient, ctx())


@pytest.mark.parametrize("fact", ["os.current_build", "os.ubr"])
def test_unreadable_build_is_an_error_never_a_pass(fact: str) -> None:
    with pytest.raises(NotEvaluatedError, match=fact):
        latest_release_installed(facts(unreadable=(fact,)), ctx())
    with pytest.raises(NotEvaluatedError, match=fact):
        on_hotpatch_track(facts(unreadable=(fact,)), ctx())


def test_nothing_due_before_the_catalog_starts() -> None:
    with pytest.raises(NotEvaluatedError, match="no release is due"):
        latest_release_installed(facts(os__ubr=2227), ctx(date(2024, 1, 20)))


def test_a_build_older_than_expected_fails_with_both_releases_named() -> None:
    finding = latest_release_installed(facts(os__ubr=4830), ctx())
    assert not finding.compliant
    assert "KB5078737" in finding.message
    assert "KB5087424" in finding.message


def test_policy_accepted_build_is_judged_as_its_equivalent() -> None:
    policy = Policy(accepted_builds=(AcceptedBuild(Build(20348, 5080), Build(20348, 5074), "private fix"),))
    private = facts(os__ubr=5080)
    assert latest_release_installed(private, ctx(policy=policy)).compliant
    assert "private fix" in on_hotpatch_track(private, ctx(policy=policy)).message


def test_out_of_band_standard_release_is_off_track() -> None:
    oob = facts(os__ubr=5024)  # 2026-04-19 OOB
    assert latest_release_installed(oob, ctx(date(2026, 5, 1))).compliant
    assert not on_hotpatch_track(oob, ctx(date(2026, 5, 1))).compliant


def test_stale_message_names_the_month_and_the_refresh_command() -> None:
    with pytest.raises(NotEvaluatedError) as err:
        latest_release_installed(facts(), ctx(date(2026, 6, 23)))
    assert "no release for 2026-06" in str(err.value)
    assert f"'{REFRESH_COMMAND}'" in str(err.value)
    assert "--from SAVED_PAGE" in str(err.value)


def june_hole(tmp_path: Path) -> Catalog:
    july = tmp_path / "july.yml"
    july.write_text(
        "releases:\n  - {os: 20348, month: '2026-07', released: 2026-07-14, type: baseline, track: both,"
        " build: '20348.5386', kb: KB5099540}\n"
    )
    return load_catalog([july], user=False)


def test_a_july_baseline_without_the_june_hotpatch_leaves_the_catalog_stale(tmp_path: Path) -> None:
    hole = UpdateContext(june_hole(tmp_path), Policy(grace_days=14), date(2026, 7, 1))
    status = assess(Build(20348, 5074), hole)
    assert status.problem is not None
    assert status.problem.startswith("catalog is stale: no release for 2026-06")
    for evaluate in (latest_release_installed, on_hotpatch_track):
        with pytest.raises(NotEvaluatedError, match="no release for 2026-06"):
            evaluate(facts(os__ubr=5074), hole)
    # Once the July baseline is due, a guest on it is still not judged: June stays unknown.
    late = UpdateContext(hole.catalog, hole.policy, date(2026, 7, 30))
    assert assess(Build(20348, 5386), late).problem is not None


def test_a_planned_month_is_never_a_release() -> None:
    assert any(p.month == Month(2026, 6) for p in CATALOG.plans)
    with pytest.raises(NotEvaluatedError, match="no release for 2026-06"):
        latest_release_installed(facts(), ctx(date(2026, 6, 23)))
    status = assess(Build(20348, 5074), ctx())
    assert status.next_baseline == Month(2026, 7)


def test_ws2025_out_of_band_build_is_evaluated() -> None:
    on_oob = facts(os__current_build=26100, os__ubr=32698)  # KB5091157, 2026-04-19
    may_1 = ctx(date(2026, 5, 1))
    finding = latest_release_installed(on_oob, may_1)
    assert finding.compliant
    assert "KB5091157" in finding.message
    assert not on_hotpatch_track(on_oob, may_1).compliant
    assert not latest_release_installed(on_oob, ctx()).compliant  # the May hotpatch is due by 05-27


def test_hotpatch_track_out_of_band_is_on_track_but_never_expected() -> None:
    may_5 = ctx(date(2026, 5, 5))  # 2026-04-19 + 14 days have passed
    on_baseline = facts(os__ubr=5020)
    assert latest_release_installed(on_baseline, may_5).compliant  # the OOB fixes a named problem only
    on_oob = facts(os__ubr=5029)  # KB5091576
    assert latest_release_installed(on_oob, may_5).compliant
    assert on_hotpatch_track(on_oob, may_5).compliant


@pytest.mark.parametrize(
    ("kbs", "track"),
    [
        ({"KB5070893"}, "hotpatch"),
        ({"kb5070881", "KB5066835"}, "standard"),
        (set(), None),
        ({"KB5070893", "KB5070881"}, None),
    ],
)
def test_one_build_with_two_kbs_is_told_apart_by_the_installed_kb(kbs: set[str], track: str | None) -> None:
    status = assess(Build(26100, 6905), ctx(date(2025, 11, 1)), installed_kbs=kbs)
    if track is None:
        assert status.installed is None
        assert status.problem is not None
        assert "KB5070893 (hotpatch track)" in status.problem
        assert "KB5070881 (standard track)" in status.problem
        assert "cannot be told" in status.problem
        assert status.next_baseline == Month(2026, 1)
    else:
        assert status.installed is not None
        assert status.installed.track == track


@pytest.mark.parametrize(("kb", "on_track"), [("KB5070893", True), ("KB5070881", False)])
def test_the_installed_kb_tells_apart_one_build_shipped_on_two_tracks(kb: str, on_track: bool) -> None:
    guest = facts(
        os__current_build=26100,
        os__ubr=6905,
        hotfixes=[{"id": kb, "description": "Update", "installed_on": "2025-10-24"}],
    )
    assert on_hotpatch_track(guest, ctx()).compliant is on_track
    with pytest.raises(NotEvaluatedError, match="cannot be told"):
        on_hotpatch_track(facts(os__current_build=26100, os__ubr=6905, hotfixes=[]), ctx())
