"""Restarts: the post-enablement restart happened and none is pending."""

from hotpatch_audit.checks import GuestFacts, control
from hotpatch_audit.rules import hp04_restarted, hp07_restart_pending


@control(hp04_restarted.SPEC)
def test_restarted_after_enablement(facts: GuestFacts) -> None:
    finding = hp04_restarted.evaluate(facts)
    assert finding.compliant, finding.message


@control(hp07_restart_pending.SPEC)
def test_no_restart_pending(facts: GuestFacts) -> None:
    finding = hp07_restart_pending.evaluate(facts)
    assert finding.compliant, finding.message
