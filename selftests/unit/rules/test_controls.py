"""HP-01..HP-04 and HP-07: passing, failing and error examples on recorded facts (HP-05/06/08/09 elsewhere)."""

from datetime import date
from typing import Any

import pytest

from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import GuestFacts, parse_facts
from hotpatch_audit.inputs.policy import Policy
from hotpatch_audit.rules.catalog import load_catalog
from hotpatch_audit.rules.findings import Finding
from hotpatch_audit.rules.findings import not_azure_edition as is_not_azure_edition
from hotpatch_audit.rules.hp01_image import evaluate as azure_edition_image
from hotpatch_audit.rules.hp02_platform import evaluate as platform_prerequisites
from hotpatch_audit.rules.hp03_enrollment import evaluate as enrollment
from hotpatch_audit.rules.hp04_restarted import evaluate as restarted_after_enablement
from hotpatch_audit.rules.hp07_restart_pending import evaluate as no_restart_pending
from hotpatch_audit.rules.updates import UpdateContext
from support import facts, facts_doc

CTX = UpdateContext(load_catalog(user=False), Policy(), date(2026, 5, 27))
PLAIN = {"os__edition_id": "ServerDatacenter", "os__caption": "Microsoft Windows Server 2022 Datacenter"}


def hotfix(kb: str, day: str | None = None) -> dict[str, str | None]:
    return {"id": kb, "description": "Security Update", "installed_on": day}


def hotpatch_enrolled(guest: GuestFacts) -> Finding:
    return enrollment(guest, CTX)


@pytest.mark.parametrize(("sku", "build"), [(407, 20348), (408, 20348), (407, 26100), (408, 26100)])
def test_hp01_passes_on_azure_edition(sku: int, build: int) -> None:
    assert azure_edition_image(facts(os__operating_system_sku=sku, os__current_build=build)).compliant


@pytest.mark.parametrize(("sku", "build", "named"), [(8, 20348, "OperatingSystemSKU is 8"), (407, 17763, "17763")])
def test_hp01_fails_elsewhere(sku: int, build: int, named: str) -> None:
    finding = azure_edition_image(facts(os__operating_system_sku=sku, os__current_build=build, **PLAIN))
    assert not finding.compliant
    assert named in finding.message


def test_hp01_unreadable_sku_is_error_and_keeps_applicability_open() -> None:
    unread = facts(unreadable=("os.operating_system_sku",))
    with pytest.raises(NotEvaluatedError, match="OperatingSystemSKU"):
        azure_edition_image(unread)
    assert is_not_azure_edition(unread) is None
    assert is_not_azure_edition(facts(os__operating_system_sku=8, **PLAIN)) is not None


def test_sku_409_is_an_error_never_a_silent_skip() -> None:
    guest = facts(os__operating_system_sku=409, os__edition_id=None, os__caption=None)
    with pytest.raises(NotEvaluatedError, match="409 \\(PRODUCT_DATACENTER_WS_SERVER_CORE_AZURE_EDITION\\)"):
        azure_edition_image(guest)
    assert is_not_azure_edition(guest) is None  # HP-02..HP-09 run and show their real verdicts
    assert not platform_prerequisites(
        facts(os__operating_system_sku=409, security__secure_boot_enabled=False)
    ).compliant


def test_an_unknown_sku_of_the_azure_edition_family_is_an_error() -> None:
    guest = facts(os__operating_system_sku=999, os__edition_id="ServerTurbineCor")
    with pytest.raises(NotEvaluatedError, match="not a known Azure Edition id, but EditionID is 'ServerTurbineCor'"):
        azure_edition_image(guest)
    assert is_not_azure_edition(guest) is None
    by_caption = facts(os__operating_system_sku=998, os__edition_id=None)  # caption says Azure Edition
    assert is_not_azure_edition(by_caption) is None


def test_the_host_os_sku_is_named_and_not_applicable() -> None:
    host = facts(os__operating_system_sku=406, os__edition_id="ServerAzureStackHCICor", os__caption="Azure Stack HCI")
    finding = azure_edition_image(host)
    assert not finding.compliant
    assert "Azure Stack HCI / Azure Local host OS" in finding.message
    assert "host OS" in (is_not_azure_edition(host) or "")


def test_hp02_passes_and_fails() -> None:
    assert platform_prerequisites(facts()).compliant
    no_boot = platform_prerequisites(facts(security__secure_boot_enabled=False))
    assert not no_boot.compliant
    assert "UEFISecureBootEnabled" in no_boot.message
    no_vbs = platform_prerequisites(facts(security__vbs_configured=0, security__vbs_status=0))
    assert not no_vbs.compliant
    assert "VBS is not configured (EnableVirtualizationBasedSecurity 0" in no_vbs.message


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("vbs_policy", 1, "Group Policy EnableVirtualizationBasedSecurity"),
        ("hvci_enabled", 1, "HVCI Enabled"),
        ("credential_guard", 1, "Credential Guard LsaCfgFlags"),
        ("credential_guard", 2, "Credential Guard LsaCfgFlags"),
    ],
)
def test_hp02_vbs_switched_on_by_policy_hvci_or_credential_guard(setting: str, value: int, named: str) -> None:
    off = {"security__vbs_configured": None, "security__vbs_status": 0}
    assert not platform_prerequisites(facts(**off)).compliant
    finding = platform_prerequisites(facts(**off, **{f"security__{setting}": value}))
    assert finding.compliant
    assert named in finding.message


def test_hp02_passes_on_configured_vbs_even_when_status_unreadable() -> None:
    assert platform_prerequisites(facts(unreadable=("security.vbs_status",))).compliant
    assert platform_prerequisites(facts(security__vbs_configured=None, security__vbs_status=1)).compliant


def test_hp02_errors_when_the_deciding_fact_is_unreadable() -> None:
    with pytest.raises(NotEvaluatedError, match=r"security\.vbs"):
        platform_prerequisites(facts(security__vbs_configured=None, unreadable=("security.vbs_status",)))
    with pytest.raises(NotEvaluatedError, match="secure_boot_enabled"):
        platform_prerequisites(facts(unreadable=("security.secure_boot_enabled",)))
    with pytest.raises(NotEvaluatedError, match=r"security\.hvci_enabled"):
        platform_prerequisites(
            facts(security__vbs_configured=0, security__vbs_status=0, unreadable=("security.hvci_enabled",))
        )


def test_hp02_a_version_1_facts_file_cannot_rule_out_policy_or_hvci() -> None:
    v1 = facts(schema_version=1, security__vbs_configured=0, security__vbs_status=0)
    with pytest.raises(NotEvaluatedError, match="not collected by this facts file"):
        platform_prerequisites(v1)


def test_hp02_known_failure_wins_over_unreadable_fact() -> None:
    finding = platform_prerequisites(
        facts(security__secure_boot_enabled=False, security__vbs_configured=None, unreadable=("security.vbs_status",))
    )
    assert not finding.compliant


def test_hp02_null_secure_boot_without_error_means_not_enabled() -> None:
    assert not platform_prerequisites(facts(security__secure_boot_enabled=None)).compliant


def test_hp03_an_installed_hotpatch_proves_enrollment_without_the_configuration() -> None:
    finding = hotpatch_enrolled(facts(hotpatch__hotpatch_table_size=None, hotpatch__enrollment_package_name=None))
    assert finding.compliant
    assert "20348.5074 (KB5087424, 2026-05 hotpatch" in finding.message
    # The guest is on a baseline now, but its installed updates list an earlier hotpatch.
    earlier = facts(os__ubr=5020, hotfixes=[hotfix("KB5078737", "2026-03-11"), hotfix("KB5082142", "2026-04-15")])
    assert "installed hotpatch 20348.4830 (KB5078737" in hotpatch_enrolled(earlier).message


def test_hp03_ws2022_iso_enablement_is_proven_by_kb5003508() -> None:
    guest = facts(os__ubr=5020, hotfixes=[hotfix("KB5082142"), hotfix("KB5003508", "2026-04-20")])
    finding = hotpatch_enrolled(guest)
    assert finding.compliant
    assert "KB5003508 is installed on 2026-04-20" in finding.message


def test_hp03_ws2022_configuration_alone_passes_and_says_it_is_the_weakest_proof() -> None:
    baseline_only = facts(os__ubr=5020, hotfixes=[hotfix("KB5082142")])
    finding = hotpatch_enrolled(baseline_only)
    assert finding.compliant
    assert "not proof that hotpatches arrive" in finding.message
    for change in ({"hotpatch__hotpatch_table_size": 0}, {"hotpatch__enrollment_package_name": None}):
        assert not hotpatch_enrolled(facts(os__ubr=5020, hotfixes=[hotfix("KB5082142")], **change)).compliant
    with pytest.raises(NotEvaluatedError, match="HotPatchTableSize"):
        hotpatch_enrolled(facts(os__ubr=5020, hotfixes=[], unreadable=("hotpatch.hotpatch_table_size",)))


def test_hp03_the_standard_update_of_a_hotpatch_month_fails() -> None:
    finding = hotpatch_enrolled(facts(os__ubr=5139, hotfixes=[hotfix("KB5087545", "2026-05-14")]))
    assert not finding.compliant
    assert "KB5087545, 2026-05 standard update" in finding.message


def test_hp03_ws2025_no_longer_passes_on_the_ga_build() -> None:
    # 26100.32690 is the 2026-04 baseline: far above 26100.1742, and still no proof of enrollment.
    baseline = facts(os__current_build=26100, os__ubr=32690, hotfixes=[hotfix("KB5082063")])
    with pytest.raises(NotEvaluatedError, match=r"no hotpatch is installed yet .*only a prerequisite"):
        hotpatch_enrolled(baseline)
    hotpatched = facts(os__current_build=26100, os__ubr=32772, hotfixes=[hotfix("KB5087423")])
    assert hotpatch_enrolled(hotpatched).compliant
    lcu = facts(os__current_build=26100, os__ubr=32860, hotfixes=[hotfix("KB5087539")])
    assert not hotpatch_enrolled(lcu).compliant
    doc = facts_doc(os__current_build=26100, os__ubr=32690, hotfixes=None)
    doc["errors"] = [{"probe": "hotfixes", "message": "Provider load failure"}]
    with pytest.raises(NotEvaluatedError, match=r"installed updates \(hotfixes\) could not be read"):
        hotpatch_enrolled(parse_facts(doc, "selftest"))


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


def test_hp04_fails_when_the_last_boot_is_before_the_enrollment_package() -> None:
    guest = facts(hotfixes=[hotfix("KB5003508", "2026-05-20")])  # last boot 2026-04-15
    finding = restarted_after_enablement(guest)
    assert not finding.compliant
    assert "LastBootUpTime 2026-04-15T02:10:00Z is before KB5003508 was installed on 2026-05-20" in finding.message
    after = restarted_after_enablement(facts(hotfixes=[hotfix("KB5003508", "2026-04-01")]))
    assert after.compliant
    assert "after KB5003508 was installed on 2026-04-01" in after.message
    with pytest.raises(NotEvaluatedError, match="LastBootUpTime"):
        restarted_after_enablement(
            facts(hotfixes=[hotfix("KB5003508", "2026-04-01")], unreadable=("os.last_boot_up_time",))
        )


@pytest.mark.parametrize(
    "marker",
    [
        "component_based_servicing", "windows_update", "pending_file_rename", "computer_rename",
        "update_exe_volatile", "pending_file_rename_2", "domain_join", "hostname_change",
    ],
)  # fmt: skip
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


def test_hp07_a_version_1_facts_file_did_not_read_the_new_markers() -> None:
    with pytest.raises(NotEvaluatedError, match=r"reboot_pending\.update_exe_volatile.*not collected by this facts"):
        no_restart_pending(facts(schema_version=1))
    assert not no_restart_pending(facts(schema_version=1, reboot_pending__windows_update=True)).compliant


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


def test_hp03_a_standard_update_outweighs_the_enrollment_package() -> None:
    guest = facts(os__ubr=5139, hotfixes=[hotfix("KB5003508", "2025-01-10"), hotfix("KB5087545", "2026-05-14")])
    finding = hotpatch_enrolled(guest)
    assert not finding.compliant
    assert "no hotpatch is installed" in finding.message
