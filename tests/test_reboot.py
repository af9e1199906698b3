"""Restarts: the post-enablement restart happened and none is pending (sources: hotpatch-domain §2, §7)."""

from hotpatch_audit.checks import GuestFacts, control, no_restart_pending, restarted_after_enablement


@control(
    "HP-04",
    title="Restarted after enablement",
    severity="high",
    readiness=True,
    reads=("security.vbs_status", "security.vbs_configured", "os.last_boot_up_time"),
    refs=(
        "https://learn.microsoft.com/windows/security/hardware-security/enable-virtualization-based-protection-of-code-integrity",
        "https://learn.microsoft.com/windows-server/get-started/enable-hotpatch-azure-arc-enabled-servers",
    ),
)
def test_restarted_after_enablement(facts: GuestFacts) -> None:
    """VBS only runs after the restart that follows enablement; until then hotpatches cannot be applied."""
    finding = restarted_after_enablement(facts)
    assert finding.compliant, finding.message


@control(
    "HP-07",
    title="No restart pending",
    severity="medium",
    readiness=True,
    azure_edition_only=False,
    reads=(
        "reboot_pending.component_based_servicing",
        "reboot_pending.windows_update",
        "reboot_pending.pending_file_rename",
        "reboot_pending.computer_rename",
    ),
    refs=("https://github.com/dsccommunity/ComputerManagementDsc/wiki/PendingReboot",),
)
def test_no_restart_pending(facts: GuestFacts) -> None:
    """A pending restart means updates are not fully applied and the next window will restart anyway."""
    finding = no_restart_pending(facts)
    assert finding.compliant, finding.message
