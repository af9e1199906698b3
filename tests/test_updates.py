"""Updates keep to the hotpatch calendar (the release catalog decides what is due and on which track)."""

from hotpatch_audit.checks import GuestFacts, UpdateContext, control
from hotpatch_audit.rules import hp05_latest_release, hp06_hotpatch_track


@control(hp05_latest_release.SPEC)
def test_latest_release_installed(facts: GuestFacts, updates: UpdateContext) -> None:
    finding = hp05_latest_release.evaluate(facts, updates)
    assert finding.compliant, finding.message


@control(hp06_hotpatch_track.SPEC)
def test_on_hotpatch_track(facts: GuestFacts, updates: UpdateContext) -> None:
    finding = hp06_hotpatch_track.evaluate(facts, updates)
    assert finding.compliant, finding.message
