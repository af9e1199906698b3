"""HP-03 Hotpatch enrolled: the strongest proof the facts hold, per OS (sources: hotpatch-domain §1.5, §1.6, §2, §8).

Proof, strongest first:
1. the guest installed a hotpatch: its current build, or a KB in its installed updates, is a hotpatch-track
   release that is a hotpatch in the catalog (a baseline serves both tracks and proves nothing);
2. Windows Server 2022 enabled from an ISO: the enrollment package KB5003508 is installed (Microsoft's own
   verification step);
3. Windows Server 2022: the configuration an administrator writes (HotPatchTableSize and the Hotpatch.amd64
   targeting values), which Marketplace images may not carry.
Against enrollment: the current release is a standard update of a hotpatch month, which an enrolled guest would
have received as a hotpatch. Build 26100.1742 is the Windows Server 2025 GA build and only a prerequisite: it
proves nothing. A guest with no proof either way (e.g. only baselines since it was deployed) is ``error``.
"""

from __future__ import annotations

from hotpatch_audit.calendar import Build
from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.outcomes import Severity
from hotpatch_audit.rules.findings import Condition, Finding, combine, unread
from hotpatch_audit.rules.registry import ControlSpec, register
from hotpatch_audit.rules.track import hotpatch_months, is_hotpatch
from hotpatch_audit.rules.updates import UpdateContext

ENROLLMENT_PACKAGE = "Hotpatch Enrollment Package"
ENROLLMENT_KB = "KB5003508"
WS2022, WS2025 = 20348, 26100

SPEC = register(
    ControlSpec(
        id="HP-03",
        title="Hotpatch enrolled",
        severity=Severity.HIGH,
        rationale="A guest receives hotpatches only when enrolled. Strongest proof first: it installed a hotpatch "
        "(current build or an installed KB that the catalog lists as a hotpatch); on Windows Server 2022 enabled "
        "from an ISO, the enrollment package KB5003508 (Microsoft's verification step); on Windows Server 2022, "
        "HotPatchTableSize and the Hotpatch.amd64 enrollment values. Build 26100.1742 is only a prerequisite of "
        "Windows Server 2025, not proof; a guest without proof yet is an error, never a pass.",
        refs=(
            "https://learn.microsoft.com/windows-server/get-started/enable-hotpatch-azure-edition",
            "https://learn.microsoft.com/windows-server/get-started/enable-hotpatch-azure-arc-enabled-servers",
            "https://learn.microsoft.com/windows-server/get-started/hotpatch",
        ),
        reads=(
            "os.current_build",
            "os.ubr",
            "hotfixes",
            "hotpatch.hotpatch_table_size",
            "hotpatch.enrollment_package_name",
            "hotpatch.enrollment_package_version",
        ),
        readiness=True,
    )
)


def evaluate(facts: GuestFacts, ctx: UpdateContext) -> Finding:
    """The strongest proof of enrollment the facts hold (see the module documentation)."""
    os_ = facts.os
    if facts.unreadable("os.current_build"):
        raise NotEvaluatedError(unread(facts, "os.current_build", "CurrentBuild").message)
    major = os_.current_build
    if major not in (WS2022, WS2025):
        return Finding(False, f"CurrentBuild is {major}: Hotpatch enrollment exists for 20348 and 26100 only")
    current = ctx.catalog.find_all(Build(major, os_.ubr)) if os_.ubr is not None else []
    kbs = {h.id.upper(): h for h in facts.hotfixes or ()}
    if any(is_hotpatch(r) for r in current) and len(current) == 1:
        return Finding(True, f"the installed release {current[0].describe()} is a hotpatch: the guest is enrolled")
    installed = sorted(
        (r for r in ctx.catalog.for_os(major) if r.kb in kbs and is_hotpatch(r)), key=lambda r: r.released
    )
    if installed:
        return Finding(True, f"installed hotpatch {installed[-1].describe()}: the guest is enrolled")
    months = set(hotpatch_months(ctx.catalog, major))
    standard = [r for r in current if not r.on_hotpatch_track and r.month in months]
    if standard and len(current) == 1:
        return Finding(
            False,
            f"the installed release {standard[0].describe()} is the standard update of a hotpatch month and no "
            "hotpatch is installed: the guest is not receiving hotpatches; enroll it (Azure Edition image, VBS, "
            "Hotpatch enabled) and install the next baseline",
        )
    if major == WS2022 and ENROLLMENT_KB in kbs:
        day = kbs[ENROLLMENT_KB].installed_on
        when = f" on {day}" if day else ""
        return Finding(True, f"the Hotpatch enrollment package {ENROLLMENT_KB} is installed{when}")
    missing = _proof_missing(facts, os_.ubr)
    if facts.hotfixes is None:
        missing.append(unread(facts, "hotfixes", "installed updates"))
    if major == WS2022:
        return combine(_ws2022_configuration(facts) + missing, _configured(facts))
    raise NotEvaluatedError(
        "; ".join(c.message for c in missing)
        or f"no hotpatch is installed yet (current build {major}.{os_.ubr}, installed updates "
        f"{', '.join(sorted(kbs)) or 'none'}): Windows Server 2025 Azure Edition is enrolled by default, but the "
        "GA build 26100.1742 is only a prerequisite; enrollment is shown once the guest installs a hotpatch, in the "
        "next hotpatch month"
    )


def _proof_missing(facts: GuestFacts, ubr: int | None) -> list[Condition]:
    if ubr is None:
        return [unread(facts, "os.ubr", "UBR")]
    return []


def _ws2022_configuration(facts: GuestFacts) -> list[Condition]:
    hp = facts.hotpatch
    conditions = []
    if facts.unreadable("hotpatch.hotpatch_table_size"):
        conditions.append(unread(facts, "hotpatch.hotpatch_table_size", "HotPatchTableSize"))
    elif not hp.hotpatch_table_size:
        shown = "not set" if hp.hotpatch_table_size is None else "0"
        conditions.append(
            Condition(
                False,
                f"HotPatchTableSize is {shown} and no hotpatch is installed: set it to 0x1000 as in the "
                "enablement steps",
            )
        )
    if facts.unreadable("hotpatch.enrollment_package_name"):
        conditions.append(unread(facts, "hotpatch.enrollment_package_name", "Hotpatch.amd64 Name"))
    elif hp.enrollment_package_name != ENROLLMENT_PACKAGE:
        shown = "absent" if hp.enrollment_package_name is None else repr(hp.enrollment_package_name)
        conditions.append(
            Condition(
                False,
                f"Hotpatch.amd64 Name is {shown}, not '{ENROLLMENT_PACKAGE}', no hotpatch and no "
                f"{ENROLLMENT_KB} are installed: enroll the guest",
            )
        )
    return conditions


def _configured(facts: GuestFacts) -> str:
    hp = facts.hotpatch
    return (
        f"configured for Hotpatch (HotPatchTableSize {hp.hotpatch_table_size}, enrollment package "
        f"{hp.enrollment_package_version}); no hotpatch installed yet, so this is the administrator's "
        "configuration, not proof that hotpatches arrive"
    )
