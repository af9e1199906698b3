"""HP-06 On the hotpatch track (sources: hotpatch-domain §4, §5; the release catalog)."""

from __future__ import annotations

from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.outcomes import Severity
from hotpatch_audit.rules.findings import Finding
from hotpatch_audit.rules.registry import ControlSpec, register
from hotpatch_audit.rules.updates import UpdateContext, installed_status

SPEC = register(
    ControlSpec(
        id="HP-06",
        title="On the hotpatch track",
        severity=Severity.MEDIUM,
        rationale="A standard cumulative update takes the guest off the hotpatch track: it restarts monthly until "
        "a baseline.",
        refs=(
            "https://learn.microsoft.com/windows-server/get-started/hotpatch",
            "https://learn.microsoft.com/windows/release-health/windows-server-release-info",
        ),
        reads=("os.current_build", "os.ubr", "hotfixes"),
        readiness=True,
    )
)


def evaluate(facts: GuestFacts, ctx: UpdateContext) -> Finding:
    """The installed release is a baseline or a hotpatch, not a standard update."""
    st = installed_status(facts, ctx)
    if st.behind:
        raise NotEvaluatedError(f"build {st.build} is not in the catalog: its track cannot be told")
    if st.problem is not None or st.installed is None:
        raise NotEvaluatedError(st.problem or f"build {st.build} could not be placed in the catalog")
    note = f" ({st.accepted_note})" if st.accepted_note else ""
    if st.installed.on_hotpatch_track:
        return Finding(True, f"installed {st.installed.describe()}{note} is on the hotpatch track")
    return Finding(
        False,
        f"installed {st.installed.describe()}{note} is a standard update, not a hotpatch or baseline: the guest left "
        "the hotpatch track; check Hotpatch enrollment and install the next baseline",
    )
