"""HP-01 Azure Edition image: the guest runs a Hotpatch-capable image (sources: hotpatch-domain §1.3, §3)."""

from __future__ import annotations

from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.outcomes import Severity
from hotpatch_audit.rules.findings import (
    AZURE_EDITION_SKUS,
    HOST_OS_SKUS,
    HOTPATCH_BUILDS,
    UNCONFIRMED_AZURE_EDITION_SKUS,
    Condition,
    Finding,
    azure_edition_family,
    combine,
    unread,
)
from hotpatch_audit.rules.registry import Applies, ControlSpec, register

SPEC = register(
    ControlSpec(
        id="HP-01",
        title="Azure Edition image",
        severity=Severity.HIGH,
        rationale="Only Windows Server Datacenter: Azure Edition (SKU 407/408) on build 20348 or 26100 receives "
        "hotpatches. SKU 409 (an Azure Edition id of the Windows SDK that Microsoft does not list as a hotpatch "
        "image) and an unknown SKU whose EditionID or caption says Azure Edition cannot be judged: error, and the "
        "other controls still run.",
        refs=(
            "https://learn.microsoft.com/windows-server/get-started/hotpatch",
            "https://learn.microsoft.com/windows/win32/cimwin32prov/win32-operatingsystem",
        ),
        reads=("os.operating_system_sku", "os.caption", "os.edition_id", "os.current_build"),
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
    elif sku in UNCONFIRMED_AZURE_EDITION_SKUS:
        conditions.append(
            Condition(
                None,
                f"OperatingSystemSKU is {sku} ({UNCONFIRMED_AZURE_EDITION_SKUS[sku]}), an Azure Edition id that "
                "Microsoft does not list as hotpatch-capable: confirm the image is one of the supported Azure "
                "Edition images, then waive HP-01 for this guest",
            )
        )
    elif sku not in AZURE_EDITION_SKUS and azure_edition_family(facts):
        conditions.append(
            Condition(
                None,
                f"OperatingSystemSKU is {sku}, not a known Azure Edition id, but EditionID is "
                f"{facts.os.edition_id!r} and the caption {facts.os.caption!r}: an Azure Edition variant this "
                "suite does not know; confirm the image before relying on Hotpatch",
            )
        )
    elif sku not in AZURE_EDITION_SKUS:
        caption = f" ({facts.os.caption})" if facts.os.caption else ""
        host = f", {HOST_OS_SKUS[sku]}" if sku in HOST_OS_SKUS else ""
        conditions.append(
            Condition(False, f"OperatingSystemSKU is {sku}{caption}{host}, not 407/408: deploy an Azure Edition image")
        )
    if facts.unreadable("os.current_build"):
        conditions.append(unread(facts, "os.current_build", "CurrentBuild"))
    elif build not in HOTPATCH_BUILDS:
        conditions.append(
            Condition(False, f"CurrentBuild is {build}, not 20348 or 26100: Hotpatch needs WS2022 or WS2025")
        )
    edition = AZURE_EDITION_SKUS.get(sku or 0, "")
    return combine(conditions, f"OperatingSystemSKU {sku} ({edition}), {HOTPATCH_BUILDS.get(build or 0)} build {build}")
