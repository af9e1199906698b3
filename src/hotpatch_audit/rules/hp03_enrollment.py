"""HP-03 Hotpatch enrolled (sources: hotpatch-domain §1.5, §1.6, §2)."""

from __future__ import annotations

from hotpatch_audit.calendar import Build
from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.outcomes import Severity
from hotpatch_audit.rules.findings import Condition, Finding, combine, unread
from hotpatch_audit.rules.registry import ControlSpec, register

ENROLLMENT_PACKAGE = "Hotpatch Enrollment Package"
WS2025_HOTPATCH_MIN = Build(26100, 1742)

SPEC = register(
    ControlSpec(
        id="HP-03",
        title="Hotpatch enrolled",
        severity=Severity.HIGH,
        rationale="A WS2022 guest receives hotpatches only when enrolled; WS2025 Azure Edition from build 26100.1742.",
        refs=(
            "https://learn.microsoft.com/windows-server/get-started/enable-hotpatch-azure-edition",
            "https://learn.microsoft.com/windows-server/get-started/enable-hotpatch-azure-arc-enabled-servers",
        ),
        reads=(
            "os.current_build",
            "os.ubr",
            "hotpatch.hotpatch_table_size",
            "hotpatch.enrollment_package_name",
            "hotpatch.enrollment_package_version",
        ),
        readiness=True,
    )
)


def evaluate(facts: GuestFacts) -> Finding:
    """WS2022 enrollment markers, or WS2025 build >= 26100.1742."""
    os_ = facts.os
    if facts.unreadable("os.current_build"):
        raise NotEvaluatedError(unread(facts, "os.current_build", "CurrentBuild").message)
    if os_.current_build == 26100:
        if os_.ubr is None:
            raise NotEvaluatedError(unread(facts, "os.ubr", "UBR").message)
        build = Build(26100, os_.ubr)
        if build >= WS2025_HOTPATCH_MIN:
            return Finding(True, f"build {build} >= {WS2025_HOTPATCH_MIN}: Hotpatch is enabled by default")
        return Finding(False, f"build {build} is older than {WS2025_HOTPATCH_MIN}: update to enable Hotpatch")
    if os_.current_build != 20348:
        return Finding(False, f"CurrentBuild is {os_.current_build}: Hotpatch enrollment exists for 20348 and 26100")
    hp = facts.hotpatch
    conditions = []
    if facts.unreadable("hotpatch.hotpatch_table_size"):
        conditions.append(unread(facts, "hotpatch.hotpatch_table_size", "HotPatchTableSize"))
    elif not hp.hotpatch_table_size:
        shown = "not set" if hp.hotpatch_table_size is None else "0"
        conditions.append(
            Condition(False, f"HotPatchTableSize is {shown}: set it to 0x1000 as in the enablement steps")
        )
    if facts.unreadable("hotpatch.enrollment_package_name"):
        conditions.append(unread(facts, "hotpatch.enrollment_package_name", "Hotpatch.amd64 Name"))
    elif hp.enrollment_package_name != ENROLLMENT_PACKAGE:
        shown = "absent" if hp.enrollment_package_name is None else repr(hp.enrollment_package_name)
        conditions.append(
            Condition(False, f"Hotpatch.amd64 Name is {shown}, not '{ENROLLMENT_PACKAGE}': enroll the guest")
        )
    return combine(
        conditions,
        f"HotPatchTableSize {hp.hotpatch_table_size}, enrollment package {hp.enrollment_package_version}",
    )
