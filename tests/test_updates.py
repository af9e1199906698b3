"""Updates keep to the hotpatch calendar over the last twelve months, and the OS still receives hotpatches."""

from hotpatch_audit.checks import GuestFacts, UpdateContext, control
from hotpatch_audit.rules import hp05_latest_release, hp06_hotpatch_track, hp08_twelve_months, hp09_support_horizon


@control(hp05_latest_release.SPEC)
def test_latest_release_installed(facts: GuestFacts, updates: UpdateContext) -> None:
    finding = hp05_latest_release.evaluate(facts, updates)
    assert finding.compliant, finding.message


@control(hp06_hotpatch_track.SPEC)
def test_on_hotpatch_track(facts: GuestFacts, updates: UpdateContext) -> None:
    finding = hp06_hotpatch_track.evaluate(facts, updates)
    assert finding.compliant, finding.message


@control(hp08_twelve_months.SPEC)
def test_on_hotpatch_track_for_twelve_months(facts: GuestFacts, updates: UpdateContext) -> None:
    finding = hp08_twelve_months.evaluate(facts, updates)
    assert finding.compliant, finding.message


@control(hp09_support_horizon.SPEC)
def test_hotpatch_support_horizon(facts: GuestFacts, updates: UpdateContext) -> None:
    finding = hp09_support_horizon.evaluate(facts, updates)
    assert finding.compliant, finding.message
