"""Hotpatch is enrolled on the guest (sources: hotpatch-domain §1.5, §1.6, §2)."""

from hotpatch_audit.checks import GuestFacts, control, hotpatch_enrolled


@control(
    "HP-03",
    title="Hotpatch enrolled",
    severity="high",
    readiness=True,
    reads=(
        "os.current_build",
        "os.ubr",
        "hotpatch.hotpatch_table_size",
        "hotpatch.enrollment_package_name",
        "hotpatch.enrollment_package_version",
    ),
    refs=(
        "https://learn.microsoft.com/windows-server/get-started/enable-hotpatch-azure-edition",
        "https://learn.microsoft.com/windows-server/get-started/enable-hotpatch-azure-arc-enabled-servers",
    ),
)
def test_hotpatch_enrolled(facts: GuestFacts) -> None:
    """A WS2022 guest receives hotpatches only when enrolled; WS2025 Azure Edition from build 26100.1742."""
    finding = hotpatch_enrolled(facts)
    assert finding.compliant, finding.message
