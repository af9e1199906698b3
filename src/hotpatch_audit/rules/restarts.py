"""The hotpatch promise, measured: what caused each restart of a guest over the last twelve months.

Hotpatch promises a restart in the four baseline months only, instead of one with every monthly cumulative
update. From the System log (Kernel-General 12: the OS started; EventLog 6008: the previous shutdown was
unexpected) and the installed updates with their dates, each start in the window is one of:

- ``update_baseline``: an update installed since the previous start is a baseline (the promised restarts);
- ``update_other``: an update installed since the previous start is anything else (an avoidable restart);
- ``unplanned``: the previous shutdown was unexpected (6008);
- ``other``: anything else (maintenance, a manual restart).

``restarts avoided`` compares the update-caused restarts with what monthly cumulative updates would have cost:
one per month of the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.rules.updates import UpdateContext

WINDOW_DAYS = 365
BOOT = 12
UNEXPECTED_SHUTDOWN = 6008
PROMISED_AVOIDED = 2 / 3  # restarts in 4 months of 12 instead of 12


@dataclass(frozen=True)
class Restarts:
    """One guest's restarts in the window, by cause."""

    window_start: date
    window_end: date
    update_baseline: int = 0
    update_other: int = 0
    unplanned: int = 0
    other: int = 0

    @property
    def months(self) -> float:
        """The window's length in months."""
        return (self.window_end - self.window_start).days / (WINDOW_DAYS / 12)

    def as_json(self) -> dict[str, Any]:
        """Plain data for results.json ``guests[].restarts``."""
        return {
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "months": round(self.months, 1),
            "update_baseline": self.update_baseline,
            "update_other": self.update_other,
            "unplanned": self.unplanned,
            "other": self.other,
        }


def restarts(facts: GuestFacts, ctx: UpdateContext) -> Restarts | None:
    """The guest's restarts by cause, or None when its facts hold no readable restart history."""
    history = facts.history
    if facts.unreadable("history.events") or facts.unreadable("history.log_start") or history.events is None:
        return None
    if history.log_start is None or facts.hotfixes is None or facts.unreadable("hotfixes"):
        return None
    start = max(ctx.as_of - timedelta(days=WINDOW_DAYS), history.log_start.date())
    boots = sorted(e.time for e in history.events if e.id == BOOT and start <= e.time.date() <= ctx.as_of)
    unexpected = [e.time for e in history.events if e.id == UNEXPECTED_SHUTDOWN]
    kinds = {r.kb: r.type for r in ctx.catalog.releases}
    installed = [
        (h.installed_on, kinds.get(h.id.upper())) for h in facts.hotfixes if h.installed_on and h.installed_on >= start
    ]
    counts = {"update_baseline": 0, "update_other": 0, "unplanned": 0, "other": 0}
    previous: datetime | None = None
    for boot in boots:
        # An update counts for the first start on or after the day it was installed (QFE dates have no time).
        updates = [
            kind for day, kind in installed if (previous is None or day > previous.date()) and day <= boot.date()
        ]
        if any((previous is None or previous < t) and t <= boot for t in unexpected) and not updates:
            counts["unplanned"] += 1
        elif updates:
            counts["update_baseline" if "baseline" in updates else "update_other"] += 1
        else:
            counts["other"] += 1
        previous = boot
    return Restarts(start, ctx.as_of, **counts)
