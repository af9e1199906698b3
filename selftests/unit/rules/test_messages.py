# ruff: noqa: E501 - the table pins whole messages, one per line, as an auditor reads them
"""Each control's verdict and message, exactly, on every branch of its rule: the message is what an auditor reads.

One row per branch: the changes to the compliant WS2022 guest, the outcome (``passed``, ``failed`` or ``error``)
and the whole message. Boundaries are included (WS2025 from 26100.1742, VBS status 1), and a known failure wins
over an unreadable fact. HP-05 and HP-06 judge against the bundled release catalog as of 2026-05-27, with a policy
that accepts the private build 20348.5080 as 20348.5074.
"""

from __future__ import annotations

import dataclasses
import inspect
from datetime import date
from typing import Any

import pytest

from hotpatch_audit.calendar import Build
from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.inputs.policy import AcceptedBuild, Policy
from hotpatch_audit.rules.catalog import load_catalog
from hotpatch_audit.rules.controls import BUILTIN
from hotpatch_audit.rules.findings import not_azure_edition
from hotpatch_audit.rules.updates import UpdateContext
from support import facts

ACCEPTED = (AcceptedBuild(Build(20348, 5080), Build(20348, 5074), "private fix"),)
CTX = UpdateContext(load_catalog(user=False), Policy(accepted_builds=ACCEPTED), date(2026, 5, 27))
RULES = {m.SPEC.id: m.evaluate for m in BUILTIN}
PLAIN = {"os__edition_id": "ServerDatacenter", "os__caption": "Microsoft Windows Server 2022 Datacenter"}

# (control, case, changes to the compliant guest, outcome, message)
# fmt: off
CASES: list[tuple[str, str, dict[str, Any], str, str]] = [
    ('HP-01', 'compliant', {}, 'passed',
     'OperatingSystemSKU 408 (Azure Edition Core), Windows Server 2022 build 20348'),
    ('HP-01', 'sku 407', {'os__operating_system_sku': 407}, 'passed',
     'OperatingSystemSKU 407 (Azure Edition), Windows Server 2022 build 20348'),
    ('HP-01', 'WS2025', {'os__current_build': 26100}, 'passed',
     'OperatingSystemSKU 408 (Azure Edition Core), Windows Server 2025 build 26100'),
    ('HP-01', 'other sku', {'os__operating_system_sku': 8}, 'error',
     "OperatingSystemSKU is 8, not a known Azure Edition id, but EditionID is 'ServerTurbineCor' and the caption 'Microsoft Windows Server 2022 Datacenter Azure Edition': an Azure Edition variant this suite does not know; confirm the image before relying on Hotpatch"),
    ('HP-01', 'other sku no caption', {'os__operating_system_sku': 8, 'os__caption': None}, 'error',
     "OperatingSystemSKU is 8, not a known Azure Edition id, but EditionID is 'ServerTurbineCor' and the caption None: an Azure Edition variant this suite does not know; confirm the image before relying on Hotpatch"),
    ('HP-01', 'sku null', {'os__operating_system_sku': None}, 'error',
     "OperatingSystemSKU is None, not a known Azure Edition id, but EditionID is 'ServerTurbineCor' and the caption 'Microsoft Windows Server 2022 Datacenter Azure Edition': an Azure Edition variant this suite does not know; confirm the image before relying on Hotpatch"),
    ('HP-01', 'other build', {'os__current_build': 17763}, 'failed',
     'CurrentBuild is 17763, not 20348 or 26100: Hotpatch needs WS2022 or WS2025'),
    ('HP-01', 'build null', {'os__current_build': None}, 'failed',
     'CurrentBuild is None, not 20348 or 26100: Hotpatch needs WS2022 or WS2025'),
    ('HP-01', 'both wrong', {'os__operating_system_sku': 8, 'os__current_build': 17763}, 'failed',
     'CurrentBuild is 17763, not 20348 or 26100: Hotpatch needs WS2022 or WS2025'),
    ('HP-01', 'sku unreadable', {'unreadable': ('os.operating_system_sku',)}, 'error',
     'OperatingSystemSKU (os.operating_system_sku) could not be read: Access is denied.'),
    ('HP-01', 'build unreadable', {'unreadable': ('os.current_build',)}, 'error',
     'CurrentBuild (os.current_build) could not be read: Access is denied.'),
    ('HP-01', 'section unreadable', {'unreadable': ('os',)}, 'error',
     'OperatingSystemSKU (os.operating_system_sku) could not be read: Access is denied.; CurrentBuild (os.current_build) could not be read: Access is denied.'),
    ('HP-01', 'failure wins', {'os__current_build': 17763, 'unreadable': ('os.operating_system_sku',)}, 'failed',
     'CurrentBuild is 17763, not 20348 or 26100: Hotpatch needs WS2022 or WS2025'),
    ('HP-02', 'compliant', {}, 'passed',
     'Secure Boot enabled; VBS configured by EnableVirtualizationBasedSecurity, VirtualizationBasedSecurityStatus'),
    ('HP-02', 'secure boot off', {'security__secure_boot_enabled': False}, 'failed',
     'UEFISecureBootEnabled is 0: enable Secure Boot on the Gen2 VM'),
    ('HP-02', 'secure boot null', {'security__secure_boot_enabled': None}, 'failed',
     'UEFISecureBootEnabled is not reported: enable Secure Boot on the Gen2 VM'),
    ('HP-02', 'secure boot unreadable', {'unreadable': ('security.secure_boot_enabled',)}, 'error',
     'UEFISecureBootEnabled (security.secure_boot_enabled) could not be read: Access is denied.'),
    ('HP-02', 'vbs off', {'security__vbs_configured': 0, 'security__vbs_status': 0}, 'failed',
     'VBS is not configured (EnableVirtualizationBasedSecurity 0, Group Policy EnableVirtualizationBasedSecurity None, HVCI Enabled None, Credential Guard LsaCfgFlags None, VirtualizationBasedSecurityStatus 0): set EnableVirtualizationBasedSecurity=1 and restart'),
    ('HP-02', 'vbs configured 2', {'security__vbs_configured': 2, 'security__vbs_status': 0}, 'failed',
     'VBS is not configured (EnableVirtualizationBasedSecurity 2, Group Policy EnableVirtualizationBasedSecurity None, HVCI Enabled None, Credential Guard LsaCfgFlags None, VirtualizationBasedSecurityStatus 0): set EnableVirtualizationBasedSecurity=1 and restart'),
    ('HP-02', 'vbs status 1', {'security__vbs_configured': 0, 'security__vbs_status': 1}, 'passed',
     'Secure Boot enabled; VBS configured by VirtualizationBasedSecurityStatus'),
    ('HP-02', 'vbs status only', {'security__vbs_configured': None, 'security__vbs_status': 2}, 'passed',
     'Secure Boot enabled; VBS configured by VirtualizationBasedSecurityStatus'),
    ('HP-02', 'vbs registry only', {'security__vbs_configured': 1, 'security__vbs_status': None}, 'passed',
     'Secure Boot enabled; VBS configured by EnableVirtualizationBasedSecurity'),
    ('HP-02', 'vbs null', {'security__vbs_configured': None, 'security__vbs_status': None}, 'failed',
     'VBS is not configured (EnableVirtualizationBasedSecurity None, Group Policy EnableVirtualizationBasedSecurity None, HVCI Enabled None, Credential Guard LsaCfgFlags None, VirtualizationBasedSecurityStatus None): set EnableVirtualizationBasedSecurity=1 and restart'),
    ('HP-02', 'configured unreadable', {'security__vbs_status': 0, 'unreadable': ('security.vbs_configured',)}, 'error',
     'VBS setting (security.vbs_configured) could not be read: Access is denied.'),
    ('HP-02', 'status unreadable', {'security__vbs_configured': 0, 'unreadable': ('security.vbs_status',)}, 'error',
     'VBS setting (security.vbs_status) could not be read: Access is denied.'),
    ('HP-02', 'both unreadable', {'unreadable': ('security.vbs_configured', 'security.vbs_status')}, 'error',
     'VBS setting (security.vbs_configured) could not be read: Access is denied.; VBS setting (security.vbs_status) could not be read: Access is denied.'),
    ('HP-02', 'failure wins', {'security__secure_boot_enabled': False, 'unreadable': ('security.vbs_status',), 'security__vbs_configured': 0}, 'failed',
     'UEFISecureBootEnabled is 0: enable Secure Boot on the Gen2 VM'),
    ('HP-03', 'compliant', {}, 'passed',
     'the installed release 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12) is a hotpatch: the guest is enrolled'),
    ('HP-03', 'build unreadable', {'unreadable': ('os.current_build',)}, 'error',
     'CurrentBuild (os.current_build) could not be read: Access is denied.'),
    ('HP-03', 'WS2025 first hotpatch build', {'os__current_build': 26100, 'os__ubr': 1742}, 'error',
     'no hotpatch is installed yet (current build 26100.1742, installed updates KB5087424): Windows Server 2025 Azure Edition is enrolled by default, but the GA build 26100.1742 is only a prerequisite; enrollment is shown once the guest installs a hotpatch, in the next hotpatch month'),
    ('HP-03', 'WS2025 before', {'os__current_build': 26100, 'os__ubr': 1741}, 'error',
     'no hotpatch is installed yet (current build 26100.1741, installed updates KB5087424): Windows Server 2025 Azure Edition is enrolled by default, but the GA build 26100.1742 is only a prerequisite; enrollment is shown once the guest installs a hotpatch, in the next hotpatch month'),
    ('HP-03', 'WS2025 ubr null', {'os__current_build': 26100, 'os__ubr': None}, 'error',
     'UBR (os.ubr) could not be read: no value'),
    ('HP-03', 'WS2025 ubr unreadable', {'os__current_build': 26100, 'unreadable': ('os.ubr',)}, 'error',
     'UBR (os.ubr) could not be read: Access is denied.'),
    ('HP-03', 'other build', {'os__current_build': 17763}, 'failed',
     'CurrentBuild is 17763: Hotpatch enrollment exists for 20348 and 26100 only'),
    ('HP-03', 'table size 0', {'hotpatch__hotpatch_table_size': 0}, 'passed',
     'the installed release 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12) is a hotpatch: the guest is enrolled'),
    ('HP-03', 'table size null', {'hotpatch__hotpatch_table_size': None}, 'passed',
     'the installed release 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12) is a hotpatch: the guest is enrolled'),
    ('HP-03', 'table size unreadable', {'unreadable': ('hotpatch.hotpatch_table_size',)}, 'passed',
     'the installed release 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12) is a hotpatch: the guest is enrolled'),
    ('HP-03', 'package other', {'hotpatch__enrollment_package_name': 'Other Package'}, 'passed',
     'the installed release 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12) is a hotpatch: the guest is enrolled'),
    ('HP-03', 'package null', {'hotpatch__enrollment_package_name': None}, 'passed',
     'the installed release 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12) is a hotpatch: the guest is enrolled'),
    ('HP-03', 'package unreadable', {'unreadable': ('hotpatch.enrollment_package_name',)}, 'passed',
     'the installed release 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12) is a hotpatch: the guest is enrolled'),
    ('HP-03', 'both missing', {'hotpatch__hotpatch_table_size': 0, 'hotpatch__enrollment_package_name': None}, 'passed',
     'the installed release 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12) is a hotpatch: the guest is enrolled'),
    ('HP-03', 'failure wins', {'hotpatch__hotpatch_table_size': 0, 'unreadable': ('hotpatch.enrollment_package_name',)}, 'passed',
     'the installed release 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12) is a hotpatch: the guest is enrolled'),
    ('HP-04', 'compliant', {}, 'passed',
     'VirtualizationBasedSecurityStatus is 2 (running), last boot 2026-04-15T02:10:00Z'),
    ('HP-04', 'no boot time', {'os__last_boot_up_time': None}, 'passed',
     'VirtualizationBasedSecurityStatus is 2 (running)'),
    ('HP-04', 'enabled not running', {'security__vbs_status': 1}, 'failed',
     'VirtualizationBasedSecurityStatus is 1 (enabled, not running): restart required, last boot 2026-04-15T02:10:00Z'),
    ('HP-04', 'enabled no boot time', {'security__vbs_status': 1, 'os__last_boot_up_time': None}, 'failed',
     'VirtualizationBasedSecurityStatus is 1 (enabled, not running): restart required'),
    ('HP-04', 'not enabled', {'security__vbs_status': 0}, 'failed',
     'VirtualizationBasedSecurityStatus is 0 (not enabled): enable VBS and restart'),
    ('HP-04', 'no device guard', {'security__vbs_status': None}, 'failed',
     'Win32_DeviceGuard is not available: VBS is not running; enable VBS and restart'),
    ('HP-04', 'status unreadable', {'unreadable': ('security.vbs_status',)}, 'error',
     'VirtualizationBasedSecurityStatus (security.vbs_status) could not be read: Access is denied.'),
    ('HP-05', 'compliant', {}, 'passed',
     'installed 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12); expected as of 2026-05-27: 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12)'),
    ('HP-05', 'behind', {'os__ubr': 4830}, 'failed',
     'installed 20348.4830 (KB5078737, 2026-03 hotpatch, released 2026-03-10) is behind: expected 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12) as of 2026-05-27; install it'),
    ('HP-05', 'newer than the catalog', {'os__ubr': 5300}, 'error',
     'build 20348.5300 is newer than the newest catalog release 20348.5139: catalog needs updating (--catalog)'),
    ('HP-05', 'ubr unreadable', {'unreadable': ('os.ubr',)}, 'error',
     'UBR (os.ubr) could not be read: Access is denied.'),
    ('HP-05', 'unknown and behind', {'os__ubr': 5073}, 'failed',
     'build 20348.5073 is not in the catalog and older than every release since the expected 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12): install the latest release'),
    ('HP-05', 'accepted by policy', {'os__ubr': 5080}, 'passed',
     'installed 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12) (accepted by policy as 20348.5074: private fix); expected as of 2026-05-27: 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12)'),
    ('HP-06', 'compliant', {}, 'passed',
     'installed 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12) is on the hotpatch track'),
    ('HP-06', 'standard update', {'os__ubr': 5139}, 'failed',
     'installed 20348.5139 (KB5087545, 2026-05 standard update, released 2026-05-12) is a standard update, not a hotpatch or baseline: the guest left the hotpatch track; check Hotpatch enrollment and install the next baseline'),
    ('HP-06', 'ubr unreadable', {'unreadable': ('os.ubr',)}, 'error',
     'UBR (os.ubr) could not be read: Access is denied.'),
    ('HP-06', 'older than the catalog', {'os__ubr': 1}, 'error',
     'build 20348.1 is not in the catalog: its track cannot be told'),
    ('HP-06', 'unknown and behind', {'os__ubr': 5073}, 'error',
     'build 20348.5073 is not in the catalog: its track cannot be told'),
    ('HP-06', 'accepted by policy', {'os__ubr': 5080}, 'passed',
     'installed 20348.5074 (KB5087424, 2026-05 hotpatch, released 2026-05-12) (accepted by policy as 20348.5074: private fix) is on the hotpatch track'),
    ('HP-07', 'compliant', {}, 'passed',
     'no restart pending (none of the 8 markers is set)'),
    ('HP-07', 'CBS', {'reboot_pending__component_based_servicing': True}, 'failed',
     'restart pending (CBS RebootPending): restart in the next maintenance window'),
    ('HP-07', 'Windows Update', {'reboot_pending__windows_update': True}, 'failed',
     'restart pending (Windows Update RebootRequired): restart in the next maintenance window'),
    ('HP-07', 'file renames', {'reboot_pending__pending_file_rename': True}, 'failed',
     'restart pending (PendingFileRenameOperations): restart in the next maintenance window'),
    ('HP-07', 'computer rename', {'reboot_pending__computer_rename': True}, 'failed',
     'restart pending (pending computer rename): restart in the next maintenance window'),
    ('HP-07', 'two markers', {'reboot_pending__component_based_servicing': True, 'reboot_pending__computer_rename': True}, 'failed',
     'restart pending (CBS RebootPending, pending computer rename): restart in the next maintenance window'),
    ('HP-07', 'one unreadable', {'unreadable': ('reboot_pending.windows_update',)}, 'error',
     'Windows Update RebootRequired (reboot_pending.windows_update) could not be read: Access is denied.'),
    ('HP-07', 'two unreadable', {'unreadable': ('reboot_pending.windows_update', 'reboot_pending.computer_rename')}, 'error',
     'Windows Update RebootRequired (reboot_pending.windows_update) could not be read: Access is denied.; pending computer rename (reboot_pending.computer_rename) could not be read: Access is denied.'),
    ('HP-07', 'failure wins', {'reboot_pending__pending_file_rename': True, 'unreadable': ('reboot_pending.windows_update',)}, 'failed',
     'restart pending (PendingFileRenameOperations): restart in the next maintenance window'),
    ('HP-08', 'example passing', {}, 'passed',
     'no standard update in the 8 hotpatch months 2025-06..2026-05 (2025-05-27..2026-05-27)'),
    ('HP-08', 'example failing', {'hotfixes': [{'id': 'KB5087545', 'description': 'Security Update', 'installed_on': '2026-05-14'}]}, 'failed',
     '1 avoidable restart(s) in 8 hotpatch months (2025-05-27..2026-05-27): 2026-05: installed standard update KB5087545 (20348.5139) on 2026-05-14 instead of KB5087424; no restart recorded since (restart still pending?): the guest left the hotpatch track; check enrollment and the update source'),
    ('HP-08', 'example error', {'schema_version': 1}, 'error',
     'System log start (history.log_start) could not be read: not collected by this facts file (schema_version 1): collect the guest again with this version of the suite'),
    ('HP-09', 'example passing', {}, 'passed',
     "hotpatch support for Windows Server 2022 Datacenter: Azure Edition ends 2027-10-12 (date not confirmed by Microsoft; see the lifecycle data's source): ends in 503 days (as of 2026-05-27)"),
    ('HP-09', 'example failing', {'as_of': date(2027, 10, 13)}, 'failed',
     "hotpatch support for Windows Server 2022 Datacenter: Azure Edition ends 2027-10-12 (date not confirmed by Microsoft; see the lifecycle data's source): ended 1 days before 2027-10-13; every update now restarts the guest, plan the move to a supported release"),
    ('HP-09', 'example error', {'os__current_build': 17763}, 'error',
     'no hotpatch lifecycle data for OS build 17763: Hotpatch is known for 20348 and 26100'),
]
# fmt: on


def _verdict(control: str, changes: dict[str, Any]) -> tuple[str, str]:
    evaluate = RULES[control]
    changes = dict(changes)
    ctx = dataclasses.replace(CTX, as_of=changes.pop("as_of", CTX.as_of))
    guest = facts(**changes)
    try:
        finding = evaluate(guest, ctx) if len(inspect.signature(evaluate).parameters) == 2 else evaluate(guest)
    except NotEvaluatedError as err:
        return "error", str(err)
    # Strictly a bool: a compliant of None must not read as "failed".
    return {True: "passed", False: "failed"}[finding.compliant], finding.message


@pytest.mark.parametrize(
    ("control", "changes", "outcome", "message"),
    [pytest.param(c, ch, o, m, id=f"{c} {name}") for c, name, ch, o, m in CASES],
)
def test_verdict_and_message(control: str, changes: dict[str, Any], outcome: str, message: str) -> None:
    assert _verdict(control, changes) == (outcome, message)


def test_every_control_has_a_passing_a_failing_and_an_error_row() -> None:
    assert {(c, o) for c, _, _, o, _ in CASES} == {(c, o) for c in RULES for o in ("passed", "failed", "error")}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({"os__operating_system_sku": 407}, None),
        ({"os__operating_system_sku": 8, **PLAIN}, "not applicable: not an Azure Edition guest (OperatingSystemSKU 8)"),
        (
            {"os__operating_system_sku": None, **PLAIN},
            "not applicable: not an Azure Edition guest (OperatingSystemSKU not reported)",
        ),
        # An unknown id of the Azure Edition family (its EditionID says so) is judged, never skipped.
        ({"os__operating_system_sku": 8}, None),
        # Unreadable keeps the control applicable, so the guest gets an error rather than a silent skip.
        ({"unreadable": ("os.operating_system_sku",)}, None),
    ],
)
def test_not_azure_edition(changes: dict[str, Any], reason: str | None) -> None:
    assert not_azure_edition(facts(**changes)) == reason
