"""Updates keep to the hotpatch calendar (sources: hotpatch-domain §4, §5; the release catalog)."""

from hotpatch_audit.checks import (
    GuestFacts,
    UpdateContext,
    control,
    latest_release_installed,
    on_hotpatch_track,
)


@control(
    "HP-05",
    title="Latest release installed",
    severity="high",
    reads=("os.current_build", "os.ubr", "hotfixes"),
    refs=("https://learn.microsoft.com/windows/release-health/windows-server-release-info",),
)
def test_latest_release_installed(facts: GuestFacts, updates: UpdateContext) -> None:
    """The newest release due (released + grace days) for the guest's OS, or a newer one, is installed."""
    finding = latest_release_installed(facts, updates)
    assert finding.compliant, finding.message


@control(
    "HP-06",
    title="On the hotpatch track",
    severity="medium",
    readiness=True,
    reads=("os.current_build", "os.ubr"),
    refs=(
        "https://learn.microsoft.com/windows-server/get-started/hotpatch",
        "https://learn.microsoft.com/windows/release-health/windows-server-release-info",
    ),
)
def test_on_hotpatch_track(facts: GuestFacts, updates: UpdateContext) -> None:
    """A standard cumulative update takes the guest off the hotpatch track: it restarts monthly until a baseline."""
    finding = on_hotpatch_track(facts, updates)
    assert finding.compliant, finding.message
