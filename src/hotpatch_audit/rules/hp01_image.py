"""HP-01 Azure Edition image: the guest runs a Hotpatch-capable image (sources: hotpatch-domain §1.3, §3)."""

from __future__ import annotations

from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.outcomes import Severity
from hotpatch_audit.rules.findings import AZURE_EDITION_SKUS, HOTPATCH_BUILDS, Condition, Finding, combine, unread
from hotpatch_audit.rules.registry import Applies, ControlSpec, register

SPEC = register(
    ControlSpec(
        id="HP-01",
        title="Azure Edition image",
        severity=Severity.HIGH,
        rationale="Only Windows Server Datacenter: Azure Edition (SKU 407/408) on build 20348 or 26100 receives "
        "hotpatches.",
        refs=(
            "https://learn.microsoft.com/windows-server/get-started/hotpatch",
            "https://learn.microsoft.com/windows/win32/cimwin32prov/win32-operatingsystem",
        ),
        reads=("os.operating_system_sku", "os.caption", "os.current_build"),
        readiness=True,
        applies=Applies.ANY_GUEST,
    )
)


def evaluate(facts: GuestFacts) -> Finding:
    """SKU 407/408 and build 20348 or 26100."""
    sku, build = facts.os.operating_system_sku, facts.os.current_build
    conditions = []
    if facts.unreadable("os.operating_system_sku"):
        conditions.append(unread(facts, "os.operating_system_sku", "OperatingSystemSKU"))
    elif sku not in AZURE_EDITION_SKUS:
        caption = f" ({facts.os.caption})" if facts.os.caption else ""
        conditions.append(
            Condition(False, f"OperatingSystemSKU is {sku}{caption}, not 407/408: deploy an Azure Edition image")
        )
    if facts.unreadable("os.current_build"):
        conditions.append(unread(facts, "os.current_build", "CurrentBuild"))
    elif build not in HOTPATCH_BUILDS:
        conditions.append(
            Condition(False, f"CurrentBuild is {build}, not 20348 or 26100: Hotpatch needs WS2022 or WS2025")
        )
    edition = AZURE_EDITION_SKUS.get(sku or 0, "")
    return combine(conditions, f"OperatingSystemSKU {sku} ({edition}), {HOTPATCH_BUILDS.get(build or 0)} build {build}")
