"""Fleet collection retries per cause: transient faults are retried with backoff, refused credentials never."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from hotpatch_audit.collect.pool import MAX_DEFAULT_WORKERS, RetryPolicy, _with_retries, collect_fleet, default_workers
from hotpatch_audit.collect.transport import CollectionFailure
from hotpatch_audit.errors import FactsError
from hotpatch_audit.inputs.inventory import Connection, Guest

FAST = RetryPolicy(deadline_sec=5, attempts=3, backoff_sec=0.01)


def _guest(name: str) -> Guest:
    return Guest(name, ("fleet",), {}, Connection(host="127.0.0.1", port=5985, scheme="http"))


class Script:
    """A collector that answers from a list per guest: an exception to raise or a document to return."""

    def __init__(self, answers: dict[str, list[Any]]) -> None:
        self.answers = answers
        self.calls: dict[str, int] = dict.fromkeys(answers, 0)

    def __call__(self, guest: Guest, *, deadline_sec: float | None = None) -> dict[str, Any]:
        self.calls[guest.name] += 1
        answer = self.answers[guest.name].pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return dict(answer)


@pytest.mark.parametrize(
    "cause", [("auth", "credentials refused (HTTP 401)"), ("refused", "connection refused"), ("tls", "TLS error")]
)
def test_a_permanent_fault_is_tried_once(cause: tuple[str, str]) -> None:
    slug, text = cause
    collect = Script({"vm": [CollectionFailure(f"vm: {text}", transient=False, cause=slug)] * 3})
    out = collect_fleet([_guest("vm")], collect, workers=1, retry=FAST)
    assert collect.calls["vm"] == 1  # retrying a refused password can lock the account
    assert isinstance(out["vm"], FactsError)
    assert str(out["vm"]) == f"vm: {text}"


def test_a_transient_fault_is_retried_up_to_the_attempts() -> None:
    collect = Script({"vm": [CollectionFailure("vm: connection reset", transient=True, cause="reset")] * 3})
    out = collect_fleet([_guest("vm")], collect, workers=1, retry=FAST)
    assert collect.calls["vm"] == 3
    assert str(out["vm"]) == "vm: connection reset (after 3 attempts)"


def test_a_transient_fault_then_success_gives_the_facts() -> None:
    collect = Script({"vm": [CollectionFailure("vm: HTTP 503", transient=True, cause="http"), {"guest": "vm"}]})
    out = collect_fleet([_guest("vm")], collect, workers=1, retry=FAST)
    assert out["vm"] == {"guest": "vm"}
    assert collect.calls["vm"] == 2


def test_retries_stop_at_the_deadline() -> None:
    slow = RetryPolicy(deadline_sec=0.5, attempts=10, backoff_sec=0.4)
    collect = Script({"vm": [CollectionFailure("vm: timed out", transient=True, cause="read-timeout")] * 10})
    out = collect_fleet([_guest("vm")], collect, workers=1, retry=slow)
    assert collect.calls["vm"] == 2  # 0.4 s of backoff fits once in 0.5 s, the next 0.8 s does not
    assert isinstance(out["vm"], FactsError)


def test_one_failing_guest_leaves_the_others_alone() -> None:
    collect = Script(
        {"bad": [CollectionFailure("bad: refused", cause="refused")], "good": [{"guest": "good"}]},
    )
    progress: list[str] = []
    out = collect_fleet(
        [_guest("bad"), _guest("good")], collect, workers=2, retry=FAST, progress=lambda p: progress.append(p.line())
    )
    assert out["good"] == {"guest": "good"}
    assert isinstance(out["bad"], FactsError)
    assert progress[-1].startswith("collected 2/2, 1 errors")


def test_an_interrupt_stops_queued_guests_at_once() -> None:
    started: list[str] = []

    def slow(guest: Guest, *, deadline_sec: float | None = None) -> dict[str, Any]:
        started.append(guest.name)
        time.sleep(0.3)
        return {"guest": guest.name}

    def interrupt(progress: object) -> None:
        raise KeyboardInterrupt

    guests = [_guest(f"vm-{i}") for i in range(20)]
    with pytest.raises(KeyboardInterrupt):
        collect_fleet(guests, slow, workers=2, retry=FAST, progress=interrupt)
    time.sleep(0.8)
    assert len(started) <= 4  # the two in flight and at most the two picked up as they finished, never the rest


def test_an_interrupt_cancels_a_pending_retry() -> None:
    collect = Script({"vm": [CollectionFailure("vm: HTTP 503", transient=True, cause="http")] * 3})
    stop = threading.Event()
    stop.set()
    out = _with_retries(collect, _guest("vm"), RetryPolicy(deadline_sec=30, attempts=3, backoff_sec=5), stop)
    assert collect.calls["vm"] == 1
    assert "cancelled" in str(out)


@pytest.mark.parametrize(("guests", "expected"), [(1, 1), (40, 40), (256, 256), (10_000, MAX_DEFAULT_WORKERS)])
def test_default_workers_one_per_guest_up_to_the_bound(guests: int, expected: int) -> None:
    assert default_workers(guests) == expected


def test_without_workers_every_guest_of_a_small_fleet_is_collected_at_once() -> None:
    # 20 guests that each wait until all 20 are in flight: only one worker per guest lets them finish.
    barrier = threading.Barrier(20, timeout=5)

    def collect(guest: Guest, *, deadline_sec: float | None = None) -> dict[str, Any]:
        barrier.wait()
        return {"name": guest.name}

    out = collect_fleet([_guest(f"vm{i}") for i in range(20)], collect, retry=FAST)
    assert all(isinstance(v, dict) for v in out.values()), out
    assert len(out) == 20
