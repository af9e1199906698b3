"""HP-09 Hotpatch support horizon: the guest's OS still receives hotpatches (data: ``rules/lifecycle.yml``)."""

from __future__ import annotations

from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.outcomes import Severity
from hotpatch_audit.rules.findings import Finding, unread
from hotpatch_audit.rules.lifecycle import horizons
from hotpatch_audit.rules.registry import ControlSpec, register
from hotpatch_audit.rules.updates import UpdateContext

SPEC = register(
    ControlSpec(
        id="HP-09",
        title="Hotpatch support horizon",
        severity=Severity.MEDIUM,
        rationale="Hotpatches stop when Microsoft ends hotpatch support for the OS and edition; after that every "
        "security update restarts the guest. Dates per OS come from the bundled lifecycle data, each with its "
        "source and whether Microsoft confirms it.",
        refs=(
            "https://learn.microsoft.com/lifecycle/products/windows-server-2022",
            "https://learn.microsoft.com/lifecycle/products/windows-server-2025",
            "https://learn.microsoft.com/windows/release-health/windows-server-release-info",
        ),
        reads=("os.current_build",),
    )
)


def evaluate(facts: GuestFacts, ctx: UpdateContext) -> Finding:
    """Passed with "ends in N days" before the end of hotpatch support, failed after it."""
    if facts.unreadable("os.current_build") or facts.os.current_build is None:
        raise NotEvaluatedError(unread(facts, "os.current_build", "CurrentBuild").message)
    horizon = horizons().get(facts.os.current_build)
    if horizon is None:
        raise NotEvaluatedError(
            f"no hotpatch lifecycle data for OS build {facts.os.current_build}: Hotpatch is known for 20348 and 26100"
        )
    days = (horizon.hotpatch_ends - ctx.as_of).days
    if days < 0:
        return Finding(
            False,
            f"{horizon.describe()}: ended {-days} days before {ctx.as_of}; every update now restarts the guest, "
            "plan the move to a supported release",
        )
    return Finding(True, f"{horizon.describe()}: ends in {days} days (as of {ctx.as_of})")
