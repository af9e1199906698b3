"""HP-07 No restart pending (sources: hotpatch-domain §2, §7)."""

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
        rationale="A pending restart means updates are not fully applied and the next window will restart anyway.",
        refs=("https://github.com/dsccommunity/ComputerManagementDsc/wiki/PendingReboot",),
        reads=(
            "reboot_pending.component_based_servicing",
            "reboot_pending.windows_update",
            "reboot_pending.pending_file_rename",
            "reboot_pending.computer_rename",
        ),
        readiness=True,
        applies=Applies.ANY_GUEST,
    )
)


def evaluate(facts: GuestFacts) -> Finding:
    """None of the four pending-restart markers is set."""
    rp = facts.reboot_pending
    markers = (
        ("reboot_pending.component_based_servicing", "CBS RebootPending", rp.component_based_servicing),
        ("reboot_pending.windows_update", "Windows Update RebootRequired", rp.windows_update),
        ("reboot_pending.pending_file_rename", "PendingFileRenameOperations", rp.pending_file_rename),
        ("reboot_pending.computer_rename", "pending computer rename", rp.computer_rename),
    )
    conditions = [unread(facts, key, label) for key, label, _ in markers if facts.unreadable(key)]
    pending = [label for key, label, value in markers if value and not facts.unreadable(key)]
    if pending:
        conditions.append(
            Condition(False, f"restart pending ({', '.join(pending)}): restart in the next maintenance window")
        )
    return combine(conditions, "no restart pending (CBS, Windows Update, file renames, computer rename)")
