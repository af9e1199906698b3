"""The seven Hotpatch controls as pure functions: facts in, a Finding out.

Each function returns a :class:`Finding` (compliant or not, with a one-line message naming the fact and its
value and what to do) or raises :class:`NotEvaluatedError` when the verdict depends on a fact that could not be
read, on an unknown build or on a stale catalog. Conditions are three-valued: a known failure wins over an
unreadable fact, so a control is ``error`` only when the missing fact could change the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hotpatch_audit.calendar import Build
from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.rules.updates import UpdateContext, UpdateStatus, assess

AZURE_EDITION_SKUS = {407: "Azure Edition", 408: "Azure Edition Core"}
HOTPATCH_BUILDS = {20348: "Windows Server 2022", 26100: "Windows Server 2025"}
ENROLLMENT_PACKAGE = "Hotpatch Enrollment Package"
WS2025_HOTPATCH_MIN = Build(26100, 1742)
VBS_STATUS = {0: "not enabled", 1: "enabled, not running", 2: "enabled and running"}


@dataclass(frozen=True)
class Finding:
    """A control's verdict on one guest."""

    compliant: bool
    message: str


@dataclass(frozen=True)
class _Check:
    ok: bool | None  # None: depends on a fact that could not be read
    message: str


def _unread(facts: GuestFacts, key: str, label: str) -> _Check:
    err = facts.unreadable(key)
    reason = err.message if err is not None else "no value"
    return _Check(None, f"{label} ({key}) could not be read: {reason}")


def _combine(checks: Sequence[_Check], passed: str) -> Finding:
    failures = [c.message for c in checks if c.ok is False]
    if failures:
        return Finding(False, "; ".join(failures))
    unknown = [c.message for c in checks if c.ok is None]
    if unknown:
        raise NotEvaluatedError("; ".join(unknown))
    return Finding(True, passed)


def is_not_azure_edition(facts: GuestFacts) -> str | None:
    """Why HP-02..HP-06 do not apply, when the SKU is known and is not Azure Edition."""
    sku = facts.os.operating_system_sku
    if facts.unreadable("os.operating_system_sku") or sku in AZURE_EDITION_SKUS:
        return None
    shown = "not reported" if sku is None else str(sku)
    return f"not applicable: not an Azure Edition guest (OperatingSystemSKU {shown})"


def azure_edition_image(facts: GuestFacts) -> Finding:
    """HP-01: SKU 407/408 and build 20348 or 26100."""
    sku, build = facts.os.operating_system_sku, facts.os.current_build
    checks = []
    if facts.unreadable("os.operating_system_sku"):
        checks.append(_unread(facts, "os.operating_system_sku", "OperatingSystemSKU"))
    elif sku not in AZURE_EDITION_SKUS:
        caption = f" ({facts.os.caption})" if facts.os.caption else ""
        checks.append(
            _Check(False, f"OperatingSystemSKU is {sku}{caption}, not 407/408: deploy an Azure Edition image")
        )
    if facts.unreadable("os.current_build"):
        checks.append(_unread(facts, "os.current_build", "CurrentBuild"))
    elif build not in HOTPATCH_BUILDS:
        checks.append(_Check(False, f"CurrentBuild is {build}, not 20348 or 26100: Hotpatch needs WS2022 or WS2025"))
    edition = AZURE_EDITION_SKUS.get(sku or 0, "")
    return _combine(checks, f"OperatingSystemSKU {sku} ({edition}), {HOTPATCH_BUILDS.get(build or 0)} build {build}")


def platform_prerequisites(facts: GuestFacts) -> Finding:
    """HP-02: Secure Boot on, VBS configured (registry 1, or runtime status >= 1)."""
    sec = facts.security
    checks = []
    if facts.unreadable("security.secure_boot_enabled"):
        checks.append(_unread(facts, "security.secure_boot_enabled", "UEFISecureBootEnabled"))
    elif sec.secure_boot_enabled is not True:
        shown = "not reported" if sec.secure_boot_enabled is None else "0"
        checks.append(_Check(False, f"UEFISecureBootEnabled is {shown}: enable Secure Boot on the Gen2 VM"))
    if sec.vbs_configured == 1 or (sec.vbs_status is not None and sec.vbs_status >= 1):
        checks.append(_Check(True, ""))
    elif facts.unreadable("security.vbs_configured") or facts.unreadable("security.vbs_status"):
        key = "security.vbs_configured" if facts.unreadable("security.vbs_configured") else "security.vbs_status"
        checks.append(_unread(facts, key, "VBS configuration"))
    else:
        checks.append(
            _Check(
                False,
                f"EnableVirtualizationBasedSecurity is {sec.vbs_configured} and VirtualizationBasedSecurityStatus "
                f"is {sec.vbs_status}: set EnableVirtualizationBasedSecurity=1 and restart",
            )
        )
    return _combine(
        checks, f"Secure Boot enabled; EnableVirtualizationBasedSecurity {sec.vbs_configured}, status {sec.vbs_status}"
    )


def hotpatch_enrolled(facts: GuestFacts) -> Finding:
    """HP-03: WS2022 enrollment markers, or WS2025 build >= 26100.1742."""
    os_ = facts.os
    if facts.unreadable("os.current_build"):
        raise NotEvaluatedError(_unread(facts, "os.current_build", "CurrentBuild").message)
    if os_.current_build == 26100:
        if os_.ubr is None:
            raise NotEvaluatedError(_unread(facts, "os.ubr", "UBR").message)
        build = Build(26100, os_.ubr)
        if build >= WS2025_HOTPATCH_MIN:
            return Finding(True, f"build {build} >= {WS2025_HOTPATCH_MIN}: Hotpatch is enabled by default")
        return Finding(False, f"build {build} is older than {WS2025_HOTPATCH_MIN}: update to enable Hotpatch")
    if os_.current_build != 20348:
        return Finding(False, f"CurrentBuild is {os_.current_build}: Hotpatch enrollment exists for 20348 and 26100")
    hp = facts.hotpatch
    checks = []
    if facts.unreadable("hotpatch.hotpatch_table_size"):
        checks.append(_unread(facts, "hotpatch.hotpatch_table_size", "HotPatchTableSize"))
    elif not hp.hotpatch_table_size:
        shown = "not set" if hp.hotpatch_table_size is None else "0"
        checks.append(_Check(False, f"HotPatchTableSize is {shown}: set it to 0x1000 as in the enablement steps"))
    if facts.unreadable("hotpatch.enrollment_package_name"):
        checks.append(_unread(facts, "hotpatch.enrollment_package_name", "Hotpatch.amd64 Name"))
    elif hp.enrollment_package_name != ENROLLMENT_PACKAGE:
        shown = "absent" if hp.enrollment_package_name is None else repr(hp.enrollment_package_name)
        checks.append(_Check(False, f"Hotpatch.amd64 Name is {shown}, not '{ENROLLMENT_PACKAGE}': enroll the guest"))
    return _combine(
        checks,
        f"HotPatchTableSize {hp.hotpatch_table_size}, enrollment package {hp.enrollment_package_version}",
    )


def restarted_after_enablement(facts: GuestFacts) -> Finding:
    """HP-04: VirtualizationBasedSecurityStatus = 2 (running, so the post-enable restart happened)."""
    status = facts.security.vbs_status
    if facts.unreadable("security.vbs_status"):
        raise NotEvaluatedError(_unread(facts, "security.vbs_status", "VirtualizationBasedSecurityStatus").message)
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


def no_restart_pending(facts: GuestFacts) -> Finding:
    """HP-07: none of the four pending-restart markers is set."""
    rp = facts.reboot_pending
    markers = (
        ("reboot_pending.component_based_servicing", "CBS RebootPending", rp.component_based_servicing),
        ("reboot_pending.windows_update", "Windows Update RebootRequired", rp.windows_update),
        ("reboot_pending.pending_file_rename", "PendingFileRenameOperations", rp.pending_file_rename),
        ("reboot_pending.computer_rename", "pending computer rename", rp.computer_rename),
    )
    unknown = [_unread(facts, key, label) for key, label, _ in markers if facts.unreadable(key)]
    pending = [label for key, label, value in markers if value and not facts.unreadable(key)]
    checks = list(unknown)
    if pending:
        checks.append(_Check(False, f"restart pending ({', '.join(pending)}): restart in the next maintenance window"))
    return _combine(checks, "no restart pending (CBS, Windows Update, file renames, computer rename)")


def _status(facts: GuestFacts, ctx: UpdateContext) -> UpdateStatus:
    major, ubr = facts.os.current_build, facts.os.ubr
    if major is None:
        raise NotEvaluatedError(_unread(facts, "os.current_build", "CurrentBuild").message)
    if ubr is None:
        raise NotEvaluatedError(_unread(facts, "os.ubr", "UBR").message)
    return assess(Build(major, ubr), ctx)


def latest_release_installed(facts: GuestFacts, ctx: UpdateContext) -> Finding:
    """HP-05: the installed release is the latest due release of the guest's OS, or newer."""
    st = _status(facts, ctx)
    expected = st.expected
    if st.behind and expected is not None:
        return Finding(
            False,
            f"build {st.build} is not in the catalog and older than every release since the expected "
            f"{expected.describe()}: install the latest release",
        )
    if st.problem is not None or st.installed is None or expected is None:
        raise NotEvaluatedError(st.problem or f"build {st.build} could not be placed in the catalog")
    note = f" ({st.accepted_note})" if st.accepted_note else ""
    if st.installed.released >= expected.released:
        return Finding(
            True, f"installed {st.installed.describe()}{note}; expected as of {st.as_of}: {expected.describe()}"
        )
    return Finding(
        False,
        f"installed {st.installed.describe()}{note} is behind: expected {expected.describe()} as of {st.as_of}; "
        "install it",
    )


def on_hotpatch_track(facts: GuestFacts, ctx: UpdateContext) -> Finding:
    """HP-06: the installed release is a baseline or a hotpatch, not a standard update."""
    st = _status(facts, ctx)
    if st.behind:
        raise NotEvaluatedError(f"build {st.build} is not in the catalog: its track cannot be told")
    if st.problem is not None or st.installed is None:
        raise NotEvaluatedError(st.problem or f"build {st.build} could not be placed in the catalog")
    note = f" ({st.accepted_note})" if st.accepted_note else ""
    if st.installed.on_hotpatch_track:
        return Finding(True, f"installed {st.installed.describe()}{note} is on the hotpatch track")
    return Finding(
        False,
        f"installed {st.installed.describe()}{note} is a standard update, not a hotpatch or baseline: the guest left "
        "the hotpatch track; check Hotpatch enrollment and install the next baseline",
    )
