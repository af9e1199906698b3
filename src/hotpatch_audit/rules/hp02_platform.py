"""HP-02 Platform prerequisites: Secure Boot and VBS configured (sources: hotpatch-domain §1.4, §2)."""

from __future__ import annotations

from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.outcomes import Severity
from hotpatch_audit.rules.findings import Condition, Finding, combine, unread
from hotpatch_audit.rules.registry import ControlSpec, register

SPEC = register(
    ControlSpec(
        id="HP-02",
        title="Platform prerequisites",
        severity=Severity.HIGH,
        rationale="Hotpatch needs a Gen2 VM with Secure Boot and virtualization-based security configured.",
        refs=(
            "https://learn.microsoft.com/windows-server/get-started/enable-hotpatch-azure-edition",
            "https://learn.microsoft.com/azure/azure-local/manage/windows-server-azure-edition",
        ),
        reads=("security.secure_boot_enabled", "security.vbs_configured", "security.vbs_status"),
    )
)


def evaluate(facts: GuestFacts) -> Finding:
    """Secure Boot on, VBS configured (registry 1, or runtime status >= 1)."""
    sec = facts.security
    conditions = []
    if facts.unreadable("security.secure_boot_enabled"):
        conditions.append(unread(facts, "security.secure_boot_enabled", "UEFISecureBootEnabled"))
    elif sec.secure_boot_enabled is not True:
        shown = "not reported" if sec.secure_boot_enabled is None else "0"
        conditions.append(Condition(False, f"UEFISecureBootEnabled is {shown}: enable Secure Boot on the Gen2 VM"))
    if sec.vbs_configured == 1 or (sec.vbs_status is not None and sec.vbs_status >= 1):
        conditions.append(Condition(True, ""))
    elif facts.unreadable("security.vbs_configured") or facts.unreadable("security.vbs_status"):
        key = "security.vbs_configured" if facts.unreadable("security.vbs_configured") else "security.vbs_status"
        conditions.append(unread(facts, key, "VBS configuration"))
    else:
        conditions.append(
            Condition(
                False,
                f"EnableVirtualizationBasedSecurity is {sec.vbs_configured} and VirtualizationBasedSecurityStatus "
                f"is {sec.vbs_status}: set EnableVirtualizationBasedSecurity=1 and restart",
            )
        )
    return combine(
        conditions,
        f"Secure Boot enabled; EnableVirtualizationBasedSecurity {sec.vbs_configured}, status {sec.vbs_status}",
    )
