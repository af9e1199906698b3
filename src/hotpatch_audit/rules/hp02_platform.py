"""HP-02 Platform prerequisites: Secure Boot and VBS configured (sources: hotpatch-domain §1.2, §1.6, §2, §8)."""

from __future__ import annotations

from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.outcomes import Severity
from hotpatch_audit.rules.findings import Condition, Finding, combine, unread
from hotpatch_audit.rules.registry import ControlSpec, register

# LsaCfgFlags: 1 = Credential Guard on with UEFI lock, 2 = on without lock (Credential Guard configuration docs).
CREDENTIAL_GUARD_ON = {1, 2}

SPEC = register(
    ControlSpec(
        id="HP-02",
        title="Platform prerequisites",
        severity=Severity.HIGH,
        rationale="Hotpatch needs a Gen2 VM with Secure Boot and virtualization-based security (VSM) configured. VBS "
        "is configured by the DeviceGuard registry value, by Group Policy, or by a feature that switches VSM on: "
        "memory integrity (HVCI) or Credential Guard.",
        refs=(
            "https://learn.microsoft.com/windows-server/get-started/enable-hotpatch-azure-edition",
            "https://learn.microsoft.com/windows-server/get-started/enable-hotpatch-azure-arc-enabled-servers",
            "https://learn.microsoft.com/windows/security/hardware-security/enable-virtualization-based-protection-of-code-integrity",
            "https://learn.microsoft.com/windows/security/identity-protection/credential-guard/configure",
        ),
        reads=(
            "security.secure_boot_enabled",
            "security.vbs_configured",
            "security.vbs_policy",
            "security.hvci_enabled",
            "security.credential_guard",
            "security.vbs_status",
        ),
    )
)

# (fact, label, whether its value switches VBS on)
_SWITCHES = (
    ("security.vbs_configured", "EnableVirtualizationBasedSecurity", lambda v: v == 1),
    ("security.vbs_policy", "Group Policy EnableVirtualizationBasedSecurity", lambda v: v == 1),
    ("security.hvci_enabled", "HVCI Enabled", lambda v: v == 1),
    ("security.credential_guard", "Credential Guard LsaCfgFlags", lambda v: v in CREDENTIAL_GUARD_ON),
    ("security.vbs_status", "VirtualizationBasedSecurityStatus", lambda v: v is not None and v >= 1),
)


def evaluate(facts: GuestFacts) -> Finding:
    """Secure Boot on; VBS switched on by any of its settings, or running (status >= 1)."""
    sec = facts.security
    conditions = []
    if facts.unreadable("security.secure_boot_enabled"):
        conditions.append(unread(facts, "security.secure_boot_enabled", "UEFISecureBootEnabled"))
    elif sec.secure_boot_enabled is not True:
        shown = "not reported" if sec.secure_boot_enabled is None else "0"
        conditions.append(Condition(False, f"UEFISecureBootEnabled is {shown}: enable Secure Boot on the Gen2 VM"))
    values = {
        "security.vbs_configured": sec.vbs_configured,
        "security.vbs_policy": sec.vbs_policy,
        "security.hvci_enabled": sec.hvci_enabled,
        "security.credential_guard": sec.credential_guard,
        "security.vbs_status": sec.vbs_status,
    }
    on = [label for key, label, switches in _SWITCHES if switches(values[key]) and not facts.unreadable(key)]
    unknown = [key for key, _, _ in _SWITCHES if facts.unreadable(key)]
    if on:
        conditions.append(Condition(True, ""))
    elif unknown:
        conditions.extend(unread(facts, key, "VBS setting") for key in unknown)
    else:
        shown = ", ".join(f"{label} {values[key]}" for key, label, _ in _SWITCHES)
        conditions.append(
            Condition(False, f"VBS is not configured ({shown}): set EnableVirtualizationBasedSecurity=1 and restart")
        )
    return combine(conditions, f"Secure Boot enabled; VBS configured by {', '.join(on)}")
