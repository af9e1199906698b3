"""Hotpatch is enrolled on the guest."""

from hotpatch_audit.checks import GuestFacts, UpdateContext, control
from hotpatch_audit.rules import hp03_enrollment


@control(hp03_enrollment.SPEC)
def test_hotpatch_enrolled(facts: GuestFacts, updates: UpdateContext) -> None:
    finding = hp03_enrollment.evaluate(facts, updates)
    assert finding.compliant, finding.message
