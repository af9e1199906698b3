"""The hotpatch promise measured: each restart in the window is counted once, by its cause."""

from __future__ import annotations

from datetime import date

from hotpatch_audit.inputs.policy import Policy
from hotpatch_audit.rules.catalog import load_catalog
from hotpatch_audit.rules.restarts import restarts
from hotpatch_audit.rules.updates import UpdateContext
from support import facts

CTX = UpdateContext(load_catalog(user=False), Policy(), date(2026, 5, 27))


def boot(when: str) -> dict[str, object]:
    return {"time": when, "id": 12, "source": "Microsoft-Windows-Kernel-General"}


def test_each_restart_is_counted_by_its_cause() -> None:
    events = [
        boot("2025-11-02T03:00:00Z"),  # nothing installed since the window began: other
        {"time": "2025-12-01T10:00:00Z", "id": 6008, "source": "EventLog"},
        boot("2025-12-01T10:01:00Z"),  # the previous shutdown was unexpected: unplanned
        boot("2026-01-14T02:00:00Z"),  # the January baseline: promised
        boot("2026-03-11T02:00:00Z"),  # the March standard update in a hotpatch month: avoidable
        boot("2026-04-15T02:10:00Z"),  # the April baseline: promised
        boot("2026-06-01T00:00:00Z"),  # after the as-of date: outside the window
    ]
    hotfixes = [
        {"id": "KB5073457", "description": "Update", "installed_on": "2026-01-14"},
        {"id": "KB5078766", "description": "Update", "installed_on": "2026-03-11"},
        {"id": "KB5082142", "description": "Update", "installed_on": "2026-04-15"},
    ]
    counted = restarts(facts(history={"log_start": "2025-04-02T08:00:00Z", "events": events}, hotfixes=hotfixes), CTX)
    assert counted is not None
    assert (counted.update_baseline, counted.update_other, counted.unplanned, counted.other) == (2, 1, 1, 1)
    assert counted.window_start == date(2025, 5, 27)
    assert counted.as_json()["months"] == 12.0


def test_the_window_starts_where_the_log_does() -> None:
    history = {"log_start": "2026-02-01T00:00:00Z", "events": [boot("2026-01-14T02:00:00Z")]}
    counted = restarts(facts(history=history), CTX)
    assert counted is not None
    assert counted.window_start == date(2026, 2, 1)
    assert (counted.update_baseline, counted.update_other, counted.unplanned, counted.other) == (0, 0, 0, 0)
    assert counted.months < 4


def test_no_history_counts_nothing() -> None:
    assert restarts(facts(unreadable=("history.events",)), CTX) is None
