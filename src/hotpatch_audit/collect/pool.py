"""Collect a fleet's facts concurrently: bounded workers, a per-guest deadline, retries for transient faults.

Each guest is collected exactly once per run, whatever the number of controls. A transient fault (reset
connection, HTTP 5xx, WS-Management operation timeout) is retried with exponential backoff while the guest's
deadline allows; refused credentials and other permanent faults are never retried (retrying a bad password can
lock an account).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hotpatch_audit.errors import FactsError
from hotpatch_audit.inputs.inventory import Guest

# Collecting a guest is latency-bound: about two seconds waiting on the guest's PowerShell against milliseconds of
# this process's CPU, and a waiting worker costs one thread and one socket. So the default runs every guest at
# once up to this bound, past which the audit's own CPU (NTLM, message encryption, parsing) is the limit and
# more threads only contend for the interpreter; see the README's benchmark section for the measurements.
MAX_DEFAULT_WORKERS = 256


def default_workers(guests: int) -> int:
    """Concurrent collections when ``--workers`` is not given: one per guest, at most MAX_DEFAULT_WORKERS."""
    return max(1, min(guests, MAX_DEFAULT_WORKERS))


class Collect(Protocol):
    """Collects one guest's raw facts document within `deadline_sec`, or raises FactsError."""

    def __call__(self, guest: Guest, *, deadline_sec: float | None = None) -> dict[str, Any]:
        """Return the guest's facts document."""


@dataclass(frozen=True)
class Progress:
    """Where a fleet collection stands."""

    done: int
    total: int
    errors: int
    elapsed: float

    def line(self) -> str:
        """E.g. ``collected 412/1000, 3 errors, 38 s``."""
        return f"collected {self.done}/{self.total}, {self.errors} errors, {self.elapsed:.0f} s"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to try one guest."""

    deadline_sec: float = 120.0
    attempts: int = 3
    backoff_sec: float = 1.0


def collect_fleet(
    guests: Sequence[Guest],
    collect: Collect,
    *,
    workers: int | None = None,
    retry: RetryPolicy = RetryPolicy(),
    progress: Callable[[Progress], None] | None = None,
) -> dict[str, dict[str, Any] | FactsError]:
    """Collect every guest once; a failing guest gets its FactsError, the others are unaffected.

    `workers` bounds the concurrent collections; None sizes them to the fleet (:func:`default_workers`).

    Workers are daemon threads fed from a queue: when the run is interrupted (Ctrl-C), no queued guest is
    contacted any more, no retry starts, and the process can end at once instead of waiting for guests in flight.
    """
    start = time.monotonic()
    todo: queue.SimpleQueue[Guest] = queue.SimpleQueue()
    for guest in guests:
        todo.put(guest)
    done: queue.SimpleQueue[tuple[str, dict[str, Any] | FactsError]] = queue.SimpleQueue()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            try:
                guest = todo.get_nowait()
            except queue.Empty:
                return
            done.put((guest.name, _with_retries(collect, guest, retry, stop)))

    count = default_workers(len(guests)) if workers is None else max(1, min(workers, len(guests)))
    for number in range(count):
        threading.Thread(target=work, name=f"collect-{number}", daemon=True).start()
    out: dict[str, dict[str, Any] | FactsError] = {}
    errors = 0
    try:
        while len(out) < len(guests):
            try:
                name, result = done.get(timeout=0.2)  # a bounded wait keeps Ctrl-C prompt
            except queue.Empty:
                continue
            out[name] = result
            errors += isinstance(result, FactsError)
            if progress is not None:
                progress(Progress(len(out), len(guests), errors, time.monotonic() - start))
    finally:
        stop.set()
    return out


def _with_retries(
    collect: Collect, guest: Guest, retry: RetryPolicy, stop: threading.Event
) -> dict[str, Any] | FactsError:
    deadline = time.monotonic() + retry.deadline_sec
    delay, attempt = retry.backoff_sec, 1
    while True:
        try:
            return collect(guest, deadline_sec=deadline - time.monotonic())
        except FactsError as err:
            transient = bool(getattr(err, "transient", False))
            if not transient or attempt >= retry.attempts or time.monotonic() + delay >= deadline:
                return err if attempt == 1 else type(err)(f"{err} (after {attempt} attempts)")
        if stop.wait(delay):
            return FactsError(f"{guest.name}: collection cancelled: the run was interrupted")
        delay, attempt = delay * 2, attempt + 1
