"""Collect a fleet's facts concurrently: bounded workers, a per-guest deadline, retries for transient faults.

Each guest is collected exactly once per run, whatever the number of controls. A transient fault (reset
connection, HTTP 5xx, WS-Management operation timeout) is retried with exponential backoff while the guest's
deadline allows; refused credentials and other permanent faults are never retried (retrying a bad password can
lock an account).

A collection costs milliseconds of CPU (NTLM, message encryption, SOAP, HTTP) in one Python interpreter, whose
lock lets one thread run at a time: a large fleet is therefore split over worker processes, one per core, each
collecting its share in threads and sending every guest's result back as it completes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import pickle
import queue
import signal
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Protocol, TypeAlias

from hotpatch_audit.errors import FactsError
from hotpatch_audit.inputs.connection import is_secret_name
from hotpatch_audit.inputs.inventory import Guest

# Collecting a guest is latency-bound: about two seconds waiting on the guest's PowerShell against 15-25 ms of
# CPU, and a waiting worker costs one thread and one socket. So the default runs every guest at once up to this
# bound, past which the audit's own CPU (NTLM, message encryption, SOAP) is the limit and more threads in flight
# only add switching.
MAX_DEFAULT_WORKERS = 256
# In worker processes the in-flight default is at most this many per process. Each interpreter runs one thread
# at a time, and its CPU per guest grows with the threads waiting for it: 1,000 guests at 1.5 s latency in two
# processes took 21-24 s and 19-23 s of CPU with 128 in flight over both, 27-34 s and 28-30 s with 256, and
# 28-29 s (waiting in waves) with 64; see the README's benchmark section.
THREADS_PER_PROCESS = 64
# Below this many guests worker processes cost more than they save: each is a fresh interpreter that imports
# pywinrm, requests and cryptography (0.4 s of CPU) before its first guest. On two cores at 1.5 s latency, 100
# guests took longer in two workers than in threads, 200 and 300 about as long, 500 less; see the README.
PROCESS_MIN_GUESTS = 500
_END_WAIT_SEC = 2.0  # how long an ended worker process gets to exit after SIGTERM before SIGKILL

Result: TypeAlias = dict[str, Any] | FactsError


def default_workers(guests: int, processes: int = 1) -> int:
    """Concurrent collections when ``--workers`` is not given: one per guest, at most MAX_DEFAULT_WORKERS.

    When `processes` worker processes collect, also at most THREADS_PER_PROCESS per process.
    """
    bound = MAX_DEFAULT_WORKERS if processes == 1 else min(MAX_DEFAULT_WORKERS, THREADS_PER_PROCESS * processes)
    return max(1, min(guests, bound))


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
) -> dict[str, Result]:
    """Collect every guest once; a failing guest gets its FactsError, the others are unaffected.

    `workers` bounds the concurrent collections; None sizes them to the fleet and the processes
    (:func:`default_workers`). They run in :func:`process_count` worker processes, or in threads of this process
    when that is 1.

    Workers are daemon threads fed from a queue, and worker processes are ended when this function is left:
    when the run is interrupted (Ctrl-C), no queued guest is contacted any more, no retry starts, and the
    process can end at once instead of waiting for guests in flight.
    """
    start = time.monotonic()
    processes = process_count(guests, collect)
    count = default_workers(len(guests), processes) if workers is None else max(1, min(workers, len(guests)))
    processes = min(processes, count)
    if processes > 1:
        stream = _in_processes(guests, collect, count, retry, processes)
    else:
        stream = _in_threads(guests, collect, count, retry)
    out: dict[str, Result] = {}
    errors = 0
    try:
        for name, result in stream:
            out[name] = result
            errors += isinstance(result, FactsError)
            if progress is not None:
                progress(Progress(len(out), len(guests), errors, time.monotonic() - start))
    finally:
        stream.close()
    return out


def process_count(guests: Sequence[Guest], collect: Collect) -> int:
    """How many worker processes collect `guests`: one per usable core, or 1 (threads of this process).

    Processes are used only when they can help and be handed the work: a fleet of PROCESS_MIN_GUESTS or more, a
    machine with more than one core, a collector another process can import by name, and no guest whose password
    is written in the inventory (a password never crosses to another process; one named by hotpatch_password_env
    is read from the environment the workers inherit).
    """
    if not _by_reference(collect) or any(g.connection.password is not None for g in guests):
        return 1
    return processes_for(len(guests))


def processes_for(guests: int) -> int:
    """Worker processes for `guests` guests that may be handed to other processes: one per usable core, or 1."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if cores >= 2 and guests >= PROCESS_MIN_GUESTS else 1


def _by_reference(collect: Collect) -> bool:
    # A module-level function pickles as its name and unpickles as itself; a closure does not pickle, and an
    # object (a fake, a partial) would arrive as a copy whose effects this process never sees.
    try:
        return pickle.loads(pickle.dumps(collect)) is collect  # noqa: S301 - our own bytes, just made
    except (pickle.PicklingError, TypeError, AttributeError):
        return False


def _in_threads(
    guests: Sequence[Guest], collect: Collect, workers: int, retry: RetryPolicy
) -> Generator[tuple[str, Result], None, None]:
    todo: queue.SimpleQueue[Guest] = queue.SimpleQueue()
    for guest in guests:
        todo.put(guest)
    done: queue.SimpleQueue[tuple[str, Result]] = queue.SimpleQueue()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            try:
                guest = todo.get_nowait()
            except queue.Empty:
                return
            done.put((guest.name, _with_retries(collect, guest, retry, stop)))

    for number in range(workers):
        threading.Thread(target=work, name=f"collect-{number}", daemon=True).start()
    received = 0
    try:
        while received < len(guests):
            try:
                item = done.get(timeout=0.2)  # a bounded wait keeps Ctrl-C prompt
            except queue.Empty:
                continue
            received += 1
            yield item
    finally:
        stop.set()


@dataclass
class _Worker:
    """One worker process, the guests it was handed and those it has not reported yet."""

    process: BaseProcess
    share: Sequence[Guest]
    pending: set[str]
    started: bool = False


def _in_processes(
    guests: Sequence[Guest], collect: Collect, workers: int, retry: RetryPolicy, processes: int
) -> Generator[tuple[str, Result], None, None]:
    # spawn: the audit already runs threads (pytest plugins, the terminal), which fork would copy mid-state.
    context = multiprocessing.get_context("spawn")
    running: dict[Connection, _Worker] = {}
    unstarted: list[Guest] = []
    try:
        for number in range(processes):
            share = guests[number::processes]
            threads = workers // processes + (number < workers % processes)
            receive, send = context.Pipe(duplex=False)
            process: BaseProcess = context.Process(
                target=_work_in_child,
                args=(send, [_sendable(g) for g in share], collect, threads, retry),
                name=f"collect-{number}",
                daemon=True,
            )
            with _ctrl_c_ignored():
                process.start()
            send.close()  # the child holds the only writer, so its exit ends the stream
            running[receive] = _Worker(process, share, {g.name for g in share})
        while running:
            ready = set(wait(list(running)))
            for receive in [c for c in running if c in ready]:
                worker = running[receive]
                try:
                    message = receive.recv()
                except EOFError:
                    del running[receive]
                    worker.process.join()
                    if not worker.started:
                        # It never came up (an unguarded main module that spawn re-imports, a broken import)
                        # and contacted no guest: collecting its share here is safe.
                        unstarted.extend(worker.share)
                        continue
                    yield from ((name, _lost(name, worker.process.exitcode)) for name in sorted(worker.pending))
                    continue
                if message is None:
                    worker.started = True
                    continue
                name, result = message
                worker.pending.discard(name)
                yield name, result
        if unstarted:
            yield from _in_threads(unstarted, collect, min(workers, len(unstarted)), retry)
    finally:
        _end(worker.process for worker in running.values())
        for receive in running:
            receive.close()


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    # A spawned child inherits an ignored SIGINT from its first instruction, so a Ctrl-C that reaches the whole
    # process group while it still imports prints no traceback; this process handles it, and ends the child.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _end(children: Iterable[BaseProcess]) -> None:
    alive = [c for c in children if c.is_alive()]
    for child in alive:
        child.terminate()
    deadline = time.monotonic() + _END_WAIT_SEC
    for child in alive:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            child.kill()
            child.join()


def _lost(name: str, exitcode: int | None) -> FactsError:
    how = f"was killed by signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exited ({exitcode})"
    return FactsError(
        f"{name}: not collected: its collection worker process {how} before reporting this guest: "
        "see the run's output for the worker's error, then audit this guest again (--limit)"
    )


def _sendable(guest: Guest) -> Guest:
    # Secret-named variables (a password, a become password, a token) stay in this process: the collector reads
    # the connection, whose password, if any, keeps the whole fleet here (see process_count).
    return dataclasses.replace(guest, vars={k: v for k, v in guest.vars.items() if not is_secret_name(k)})


def _work_in_child(
    results: Connection, guests: list[Guest], collect: Collect, workers: int, retry: RetryPolicy
) -> None:
    # Ctrl-C reaches the whole process group: the parent alone handles it, and ends this process (inherited as
    # ignored only when the parent started it from its main thread).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), name="parent-watch", daemon=True).start()
    results.send(None)  # up: from here on, guests are contacted
    for item in _in_threads(guests, collect, workers, retry):
        results.send(item)
    results.close()


def _exit_with(sentinel: int) -> None:
    # A parent that died without ending this process (SIGKILL) would leave it contacting guests for nobody.
    wait([sentinel])
    os._exit(1)


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
