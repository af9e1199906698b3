"""The guest runs a Hotpatch-capable image (sources: hotpatch-domain §1.3, §3)."""

from hotpatch_audit.checks import GuestFacts, azure_edition_image, control, platform_prerequisites


@control(
    "HP-01",
    title="Azure Edition image",
    severity="high",
    readiness=True,
    azure_edition_only=False,
    reads=("os.operating_system_sku", "os.caption", "os.edition_id", "os.current_build"),
    refs=(
        "https://learn.microsoft.com/windows-server/get-started/hotpatch",
        "https://learn.microsoft.com/windows/win32/cimwin32prov/win32-operatingsystem",
    ),
)
def test_azure_edition_image(facts: GuestFacts) -> None:
    """Only Windows Server Datacenter: Azure Edition (SKU 407/408) on build 20348 or 26100 receives hotpatches."""
    finding = azure_edition_image(facts)
    assert finding.compliant, finding.message


@control(
    "HP-02",
    title="Platform prerequisites",
    severity="high",
    reads=("security.secure_boot_enabled", "security.vbs_configured", "security.vbs_status"),
    refs=(
        "https://learn.microsoft.com/windows-server/get-started/enable-hotpatch-azure-edition",
        "https://learn.microsoft.com/azure/azure-local/manage/windows-server-azure-edition",
    ),
)
def test_platform_prerequisites(facts: GuestFacts) -> None:
    """Hotpatch needs a Gen2 VM with Secure Boot and virtualization-based security configured."""
    finding = platform_prerequisites(facts)
    assert finding.compliant, finding.message
