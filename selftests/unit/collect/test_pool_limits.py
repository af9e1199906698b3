"""Fleet collection keeps its limits: as many workers as asked (never more than guests), the guest's remaining
deadline handed to the collector, backoff that doubles, and only errors that say they are transient retried."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from hotpatch_audit.collect.pool import Progress, RetryPolicy, collect_fleet
from hotpatch_audit.collect.transport import CollectionFailure
from hotpatch_audit.errors import FactsError
from hotpatch_audit.inputs.inventory import Connection, Guest


def _record_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the backoff waits (an interruptible Event.wait in the pool) instead of waiting."""
    waits: list[float] = []
    original = threading.Event.wait

    def wait(self: threading.Event, timeout: float | None = None) -> bool:
        if timeout is None:
            return original(self)
        waits.append(timeout)
        return False

    monkeypatch.setattr(threading.Event, "wait", wait)
    return waits


def _guests(n: int) -> list[Guest]:
    return [Guest(f"vm{i}", ("fleet",), {}, Connection(host="127.0.0.1", port=5985, scheme="http")) for i in range(n)]


class Overlap:
    """A collector that holds each guest briefly and notes how many ran at once, on which threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = self.peak = 0
        self.threads: set[str] = set()

    def __call__(self, guest: Guest, *, deadline_sec: float | None = None) -> dict[str, Any]:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.threads.add(threading.current_thread().name)
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
        return {"guest": guest.name}


@pytest.mark.parametrize(("workers", "guests", "peak"), [(1, 3, 1), (3, 3, 3), (8, 2, 2), (0, 2, 1)])
def test_workers_bound_the_guests_collected_at_once(workers: int, guests: int, peak: int) -> None:
    collect = Overlap()
    out = collect_fleet(_guests(guests), collect, workers=workers)
    assert sorted(out) == [f"vm{i}" for i in range(guests)]
    assert collect.peak == peak
    assert len(collect.threads) == peak
    assert all(name.startswith("collect-") for name in collect.threads)  # named in thread dumps and logs


def test_no_guests_collects_nothing() -> None:
    assert collect_fleet([], Overlap(), workers=4) == {}


def test_the_collector_gets_the_guests_remaining_deadline() -> None:
    seen: list[float | None] = []

    def collect(guest: Guest, *, deadline_sec: float | None = None) -> dict[str, Any]:
        seen.append(deadline_sec)
        return {}

    collect_fleet(_guests(1), collect, workers=1, retry=RetryPolicy(deadline_sec=30))
    assert len(seen) == 1
    assert seen[0] is not None
    assert 29 < seen[0] <= 30


def test_progress_counts_done_errors_and_elapsed_seconds() -> None:
    def collect(guest: Guest, *, deadline_sec: float | None = None) -> dict[str, Any]:
        if guest.name == "vm0":
            raise FactsError("vm0: bad output")
        return {}

    seen: list[Progress] = []
    collect_fleet(_guests(3), collect, workers=1, progress=seen.append)
    assert [(p.done, p.total) for p in seen] == [(1, 3), (2, 3), (3, 3)]
    assert seen[-1].errors == 1
    assert all(0 <= p.elapsed < 60 for p in seen)
    assert Progress(412, 1000, 3, 37.6).line() == "collected 412/1000, 3 errors, 38 s"


@pytest.mark.parametrize(
    ("error", "calls"),
    [
        (FactsError("vm0: bad output"), 1),  # an error that does not say it is transient is permanent
        (CollectionFailure("vm0: HTTP 401", transient=False, cause="auth"), 1),
        (CollectionFailure("vm0: HTTP 503", transient=True, cause="http"), 4),
    ],
)
def test_only_transient_errors_are_retried_with_doubling_backoff(
    monkeypatch: pytest.MonkeyPatch, error: FactsError, calls: int
) -> None:
    # Backoff is recorded, not waited, so the test takes no time and sees every delay.
    slept = _record_backoff(monkeypatch)
    tried: list[str] = []

    def collect(guest: Guest, *, deadline_sec: float | None = None) -> dict[str, Any]:
        tried.append(guest.name)
        raise error

    out = collect_fleet(_guests(1), collect, workers=1, retry=RetryPolicy(deadline_sec=60, attempts=4, backoff_sec=1))
    assert len(tried) == calls
    assert slept == [1, 2, 4][: calls - 1]
    assert type(out["vm0"]) is type(error)
    suffix = f" (after {calls} attempts)" if calls > 1 else ""
    assert str(out["vm0"]) == f"{error}{suffix}"


def test_a_retry_that_would_end_past_the_deadline_is_not_made(monkeypatch: pytest.MonkeyPatch) -> None:
    slept = _record_backoff(monkeypatch)

    def collect(guest: Guest, *, deadline_sec: float | None = None) -> dict[str, Any]:
        raise CollectionFailure("vm0: reset", transient=True, cause="reset")

    out = collect_fleet(_guests(1), collect, workers=1, retry=RetryPolicy(deadline_sec=10, attempts=9, backoff_sec=6))
    assert slept == [6]  # waits are recorded, not waited: 6 s fits in the 10 s, the next 12 s does not
    assert str(out["vm0"]) == "vm0: reset (after 2 attempts)"
