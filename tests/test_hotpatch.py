"""Hotpatch is enrolled on the guest."""

from hotpatch_audit.checks import GuestFacts, control
from hotpatch_audit.rules import hp03_enrollment


@control(hp03_enrollment.SPEC)
def test_hotpatch_enrolled(facts: GuestFacts) -> None:
    finding = hp03_enrollment.evaluate(facts)
    assert finding.compliant, finding.message
