"""HP-01..HP-04 and HP-07: a passing and a failing example each, and unreadable facts give error."""

from typing import Any

import pytest

from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import parse_facts
from hotpatch_audit.rules.findings import not_azure_edition as is_not_azure_edition
from hotpatch_audit.rules.hp01_image import evaluate as azure_edition_image
from hotpatch_audit.rules.hp02_platform import evaluate as platform_prerequisites
from hotpatch_audit.rules.hp03_enrollment import evaluate as hotpatch_enrolled
from hotpatch_audit.rules.hp04_restarted import evaluate as restarted_after_enablement
from hotpatch_audit.rules.hp07_restart_pending import evaluate as no_restart_pending
from support import facts, facts_doc


@pytest.mark.parametrize(("sku", "build"), [(407, 20348), (408, 20348), (407, 26100), (408, 26100)])
def test_hp01_passes_on_azure_edition(sku: int, build: int) -> None:
    assert azure_edition_image(facts(os__operating_system_sku=sku, os__current_build=build)).compliant


@pytest.mark.parametrize(("sku", "build", "named"), [(8, 20348, "OperatingSystemSKU is 8"), (407, 17763, "17763")])
def test_hp01_fails_elsewhere(sku: int, build: int, named: str) -> None:
    finding = azure_edition_image(facts(os__operating_system_sku=sku, os__current_build=build))
    assert not finding.compliant
    assert named in finding.message


def test_hp01_unreadable_sku_is_error_and_keeps_applicability_open() -> None:
    unread = facts(unreadable=("os.operating_system_sku",))
    with pytest.raises(NotEvaluatedError, match="OperatingSystemSKU"):
        azure_edition_image(unread)
    assert is_not_azure_edition(unread) is None
    assert is_not_azure_edition(facts(os__operating_system_sku=8)) is not None


def test_hp02_passes_and_fails() -> None:
    assert platform_prerequisites(facts()).compliant
    no_boot = platform_prerequisites(facts(security__secure_boot_enabled=False))
    assert not no_boot.compliant
    assert "UEFISecureBootEnabled" in no_boot.message
    no_vbs = platform_prerequisites(facts(security__vbs_configured=0, security__vbs_status=0))
    assert not no_vbs.compliant
    assert "EnableVirtualizationBasedSecurity is 0" in no_vbs.message


def test_hp02_passes_on_configured_vbs_even_when_status_unreadable() -> None:
    assert platform_prerequisites(facts(unreadable=("security.vbs_status",))).compliant
    assert platform_prerequisites(facts(security__vbs_configured=None, security__vbs_status=1)).compliant


def test_hp02_errors_when_the_deciding_fact_is_unreadable() -> None:
    with pytest.raises(NotEvaluatedError, match=r"security\.vbs"):
        platform_prerequisites(facts(security__vbs_configured=None, unreadable=("security.vbs_status",)))
    with pytest.raises(NotEvaluatedError, match="secure_boot_enabled"):
        platform_prerequisites(facts(unreadable=("security.secure_boot_enabled",)))


def test_hp02_known_failure_wins_over_unreadable_fact() -> None:
    finding = platform_prerequisites(
        facts(security__secure_boot_enabled=False, security__vbs_configured=None, unreadable=("security.vbs_status",))
    )
    assert not finding.compliant


def test_hp02_null_secure_boot_without_error_means_not_enabled() -> None:
    assert not platform_prerequisites(facts(security__secure_boot_enabled=None)).compliant


def test_hp03_ws2022_passes_and_fails() -> None:
    assert hotpatch_enrolled(facts()).compliant
    for change in ({"hotpatch__hotpatch_table_size": 0}, {"hotpatch__enrollment_package_name": None}):
        finding = hotpatch_enrolled(facts(**change))
        assert not finding.compliant
    with pytest.raises(NotEvaluatedError, match="HotPatchTableSize"):
        hotpatch_enrolled(facts(unreadable=("hotpatch.hotpatch_table_size",)))


def test_hp03_ws2025_by_build() -> None:
    assert hotpatch_enrolled(facts(os__current_build=26100, os__ubr=1742, hotpatch__hotpatch_table_size=None)).compliant
    finding = hotpatch_enrolled(facts(os__current_build=26100, os__ubr=1741))
    assert not finding.compliant
    assert "26100.1741" in finding.message


@pytest.mark.parametrize(("status", "text"), [(1, "is 1 (enabled, not running): restart required"), (0, "is 0")])
def test_hp04_fails_until_vbs_runs(status: int, text: str) -> None:
    finding = restarted_after_enablement(facts(security__vbs_status=status))
    assert not finding.compliant
    assert f"VirtualizationBasedSecurityStatus {text}" in finding.message


def test_hp04_passes_when_running_and_errors_when_unreadable() -> None:
    assert restarted_after_enablement(facts()).compliant
    with pytest.raises(NotEvaluatedError, match=r"security\.vbs_status"):
        restarted_after_enablement(facts(unreadable=("security.vbs_status",)))
    assert not restarted_after_enablement(facts(security__vbs_status=None)).compliant


@pytest.mark.parametrize(
    "marker", ["component_based_servicing", "windows_update", "pending_file_rename", "computer_rename"]
)
def test_hp07_each_marker_fails(marker: str) -> None:
    pending: dict[str, Any] = {f"reboot_pending__{marker}": True}
    finding = no_restart_pending(facts(**pending))
    assert not finding.compliant
    assert "restart pending" in finding.message


def test_hp07_passes_and_errors() -> None:
    assert no_restart_pending(facts()).compliant
    with pytest.raises(NotEvaluatedError, match=r"reboot_pending\.windows_update"):
        no_restart_pending(facts(unreadable=("reboot_pending.windows_update",)))
    assert not no_restart_pending(
        facts(reboot_pending__component_based_servicing=True, unreadable=("reboot_pending.windows_update",))
    ).compliant


def test_a_whole_unreadable_section_covers_its_facts() -> None:
    doc_facts = facts(unreadable=("security.vbs_status",))
    assert doc_facts.unreadable("security.vbs_status") is not None
    assert doc_facts.unreadable("security.vbs_configured") is None


def test_an_error_on_a_section_covers_every_fact_of_it() -> None:
    doc = facts_doc()
    doc["security"] = dict.fromkeys(doc["security"])
    doc["errors"] = [{"probe": "security", "message": "Access is denied."}]
    section_unread = parse_facts(doc, "selftest")
    assert section_unread.unreadable("security.vbs_status") is not None
    assert section_unread.unreadable("security") is not None
    assert section_unread.unreadable("securityx.vbs_status") is None
    assert section_unread.unreadable("os.ubr") is None
    with pytest.raises(NotEvaluatedError, match=r"security\.vbs_status"):
        restarted_after_enablement(section_unread)
