"""HP-07 No restart pending (sources: hotpatch-domain §2, §7, §8)."""

from __future__ import annotations

from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.outcomes import Severity
from hotpatch_audit.rules.findings import Condition, Finding, combine, unread
from hotpatch_audit.rules.registry import Applies, ControlSpec, register

SPEC = register(
    ControlSpec(
        id="HP-07",
        title="No restart pending",
        severity=Severity.MEDIUM,
        rationale="A pending restart means updates are not fully applied and the next window will restart anyway. "
        "Markers: CBS RebootPending, Windows Update RebootRequired, PendingFileRenameOperations(2), a pending "
        "computer rename or host name change, UpdateExeVolatile, a pending domain join.",
        refs=(
            "https://github.com/dsccommunity/ComputerManagementDsc/wiki/PendingReboot",
            "https://learn.microsoft.com/windows/win32/api/winbase/nf-winbase-movefileexa",
        ),
        reads=(
            "reboot_pending.component_based_servicing",
            "reboot_pending.windows_update",
            "reboot_pending.pending_file_rename",
            "reboot_pending.computer_rename",
            "reboot_pending.update_exe_volatile",
            "reboot_pending.pending_file_rename_2",
            "reboot_pending.domain_join",
            "reboot_pending.hostname_change",
        ),
        readiness=True,
        applies=Applies.ANY_GUEST,
    )
)


def evaluate(facts: GuestFacts) -> Finding:
    """None of the pending-restart markers is set."""
    rp = facts.reboot_pending
    markers = (
        ("reboot_pending.component_based_servicing", "CBS RebootPending", rp.component_based_servicing),
        ("reboot_pending.windows_update", "Windows Update RebootRequired", rp.windows_update),
        ("reboot_pending.pending_file_rename", "PendingFileRenameOperations", rp.pending_file_rename),
        ("reboot_pending.computer_rename", "pending computer rename", rp.computer_rename),
        ("reboot_pending.update_exe_volatile", "UpdateExeVolatile", rp.update_exe_volatile),
        ("reboot_pending.pending_file_rename_2", "PendingFileRenameOperations2", rp.pending_file_rename_2),
        ("reboot_pending.domain_join", "pending domain join (Netlogon JoinDomain/AvoidSpnSet)", rp.domain_join),
        ("reboot_pending.hostname_change", "pending host name change (Tcpip Hostname != NV Hostname)",
         rp.hostname_change),
    )  # fmt: skip
    conditions = [unread(facts, key, label) for key, label, _ in markers if facts.unreadable(key)]
    pending = [label for key, label, value in markers if value and not facts.unreadable(key)]
    if pending:
        conditions.append(
            Condition(False, f"restart pending ({', '.join(pending)}): restart in the next maintenance window")
        )
    return combine(conditions, f"no restart pending (none of the {len(markers)} markers is set)")
