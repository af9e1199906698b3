"""HP-04 Restarted after enablement (sources: hotpatch-domain §2, §7)."""

from __future__ import annotations

from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.outcomes import Severity
from hotpatch_audit.rules.findings import Finding, unread
from hotpatch_audit.rules.registry import ControlSpec, register

VBS_STATUS = {0: "not enabled", 1: "enabled, not running", 2: "enabled and running"}

SPEC = register(
    ControlSpec(
        id="HP-04",
        title="Restarted after enablement",
        severity=Severity.HIGH,
        rationale="VBS only runs after the restart that follows enablement; until then hotpatches cannot be applied.",
        refs=(
            "https://learn.microsoft.com/windows/security/hardware-security/enable-virtualization-based-protection-of-code-integrity",
            "https://learn.microsoft.com/windows-server/get-started/enable-hotpatch-azure-arc-enabled-servers",
        ),
        reads=("security.vbs_status", "os.last_boot_up_time"),
        readiness=True,
    )
)


def evaluate(facts: GuestFacts) -> Finding:
    """VirtualizationBasedSecurityStatus = 2 (running, so the post-enable restart happened)."""
    if facts.unreadable("security.vbs_status"):
        raise NotEvaluatedError(unread(facts, "security.vbs_status", "VirtualizationBasedSecurityStatus").message)
    status = facts.security.vbs_status
    boot = facts.os.last_boot_up_time
    since = f", last boot {boot:%Y-%m-%dT%H:%M:%SZ}" if boot else ""
    if status == 2:
        return Finding(True, f"VirtualizationBasedSecurityStatus is 2 (running){since}")
    if status == 1:
        return Finding(False, f"VirtualizationBasedSecurityStatus is 1 (enabled, not running): restart required{since}")
    if status is None:
        return Finding(False, "Win32_DeviceGuard is not available: VBS is not running; enable VBS and restart")
    meaning = VBS_STATUS.get(status, "unknown value")
    return Finding(False, f"VirtualizationBasedSecurityStatus is {status} ({meaning}): enable VBS and restart")
