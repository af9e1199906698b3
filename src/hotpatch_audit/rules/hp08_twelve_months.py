"""HP-08 On the hotpatch track for twelve months: no avoidable restart in the window the System log covers.

In a hotpatch month an enrolled guest installs the hotpatch and keeps running; a guest that installed that
month's standard update (monthly cumulative or standard out-of-band) restarted for nothing. The window is the
last 365 days before the as-of date, cut to the oldest event of the System log; a shorter window is stated.
Installed updates come from Win32_QuickFixEngineering (Get-HotFix), the restarts from the System log.
"""

from __future__ import annotations

from datetime import date, timedelta

from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import GuestFacts, Hotfix, SystemEvent
from hotpatch_audit.outcomes import Severity
from hotpatch_audit.rules.catalog import Release
from hotpatch_audit.rules.findings import Finding, unread
from hotpatch_audit.rules.registry import ControlSpec, register
from hotpatch_audit.rules.track import is_standard
from hotpatch_audit.rules.updates import UpdateContext

WINDOW_DAYS = 365
BOOT = 12  # Microsoft-Windows-Kernel-General 12: the operating system started
RESTART_REQUEST = 1074  # User32 1074: a process asked for the restart

SPEC = register(
    ControlSpec(
        id="HP-08",
        title="On the hotpatch track for twelve months",
        severity=Severity.MEDIUM,
        rationale="Hotpatch promises a restart in baseline months only. Over the last twelve months (or the part "
        "the System log covers) every hotpatch month in which the guest installed the standard update instead of "
        "the hotpatch is an avoidable restart, named with its KB and the restart it caused.",
        refs=(
            "https://learn.microsoft.com/windows-server/get-started/hotpatch",
            "https://learn.microsoft.com/windows/release-health/windows-server-release-info",
            "https://learn.microsoft.com/windows/win32/cimwin32prov/win32-quickfixengineering",
        ),
        reads=("os.current_build", "hotfixes", "history.log_start", "history.events"),
    )
)


def evaluate(facts: GuestFacts, ctx: UpdateContext) -> Finding:
    """Failed for every hotpatch month of the window in which a standard update was installed."""
    major = facts.os.current_build
    if facts.unreadable("os.current_build") or major is None:
        raise NotEvaluatedError(unread(facts, "os.current_build", "CurrentBuild").message)
    for key, label in (("history.log_start", "System log start"), ("history.events", "restart events")):
        if facts.unreadable(key):
            raise NotEvaluatedError(unread(facts, key, label).message)
    if facts.unreadable("hotfixes") or facts.hotfixes is None:
        raise NotEvaluatedError(unread(facts, "hotfixes", "installed updates").message)
    log_start = facts.history.log_start
    if log_start is None:
        raise NotEvaluatedError("the System log reports no oldest event: the window it covers is unknown")
    start = max(ctx.as_of - timedelta(days=WINDOW_DAYS), log_start.date())
    rows = ctx.catalog.for_os(major)
    months = sorted({r.month for r in rows if r.type == "hotpatch" and start <= r.released <= ctx.as_of})
    short = _short_window(start, ctx.as_of, log_start.date())
    if not months:
        raise NotEvaluatedError(f"the window {start}..{ctx.as_of} holds no hotpatch month of the catalog{short}")
    installed = {h.id.upper(): h for h in facts.hotfixes}
    events = facts.history.events or ()
    avoidable = [
        _describe(row, installed[row.kb], events, rows)
        for row in rows
        if row.month in months and is_standard(row) and row.kb in installed
    ]
    if avoidable:
        return Finding(
            False,
            f"{len(avoidable)} avoidable restart(s) in {len(months)} hotpatch months ({start}..{ctx.as_of}{short}): "
            + "; ".join(avoidable)
            + ": the guest left the hotpatch track; check enrollment and the update source",
        )
    return Finding(
        True,
        f"no standard update in the {len(months)} hotpatch months {months[0]}..{months[-1]} "
        f"({start}..{ctx.as_of}{short})",
    )


def _short_window(start: date, end: date, log_start: date) -> str:
    days = (end - start).days
    if days >= WINDOW_DAYS or start != log_start:
        return ""
    return f"; the System log covers only {days} days, from {log_start}: less than 12 months"


def _describe(row: Release, hotfix: Hotfix, events: tuple[SystemEvent, ...], rows: list[Release]) -> str:
    hotpatch = next((r.kb for r in rows if r.month == row.month and r.type == "hotpatch"), "the hotpatch")
    when = f" on {hotfix.installed_on}" if hotfix.installed_on else ""
    return f"{row.month}: installed standard update {row.kb} ({row.build}){when} instead of {hotpatch}; " + _restart(
        hotfix.installed_on, events
    )


def _restart(installed_on: date | None, events: tuple[SystemEvent, ...]) -> str:
    if installed_on is None:
        return "its restart cannot be dated (InstalledOn not reported)"
    boots = sorted((e for e in events if e.id == BOOT and e.time.date() >= installed_on), key=lambda e: e.time)
    if not boots:
        return "no restart recorded since (restart still pending?)"
    boot = boots[0]
    earlier = [e.time for e in events if e.id == BOOT and e.time < boot.time]
    requests = [
        e for e in events if e.id == RESTART_REQUEST and e.time <= boot.time and (not earlier or e.time > max(earlier))
    ]
    by = ""
    if requests:
        request = max(requests, key=lambda e: e.time)
        by = f" (requested by {request.process or 'an unnamed process'}, reason {request.reason_code or 'not given'})"
    return f"restarted {boot.time:%Y-%m-%dT%H:%M:%SZ}{by}"
