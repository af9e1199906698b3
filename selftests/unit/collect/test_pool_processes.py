"""Large fleets are collected in worker processes: the same results as threads, streamed as they complete,
ended with the run; small fleets, fakes and passwords written in the inventory stay in this process."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hotpatch_audit.collect import pool
from hotpatch_audit.collect.pool import Progress, RetryPolicy, collect_fleet, process_count
from hotpatch_audit.collect.transport import CollectionFailure
from hotpatch_audit.errors import FactsError
from hotpatch_audit.inputs.inventory import Connection, Guest, Secret
from unit.collect.poolfakes import guest, report_ctrl_c, scripted

pytestmark = pytest.mark.slow  # every case starts Python interpreters

FAST = RetryPolicy(deadline_sec=10, attempts=3, backoff_sec=0.01)
SELFTESTS = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    # Worker processes for any fleet, on any machine (the decision reads the usable cores).
    monkeypatch.setattr(pool, "PROCESS_MIN_GUESTS", 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)


def _fleet(prefix: str, **special: dict[str, Any]) -> list[Guest]:
    names = [f"{prefix}-{i:02d}" for i in range(12)]
    return [guest(n, **special.get(n, {})) for n in names]


def _comparable(out: dict[str, Any]) -> dict[str, Any]:
    """Results without the collecting process's id, errors as (type, text, transient, cause)."""
    return {
        name: (
            (type(r).__name__, str(r), getattr(r, "transient", None), getattr(r, "cause", None))
            if isinstance(r, FactsError)
            else {k: v for k, v in r.items() if k != "pid"}
        )
        for name, r in out.items()
    }


def test_results_are_those_of_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    def fleet(prefix: str) -> list[Guest]:
        special = {
            f"{prefix}-01": {"answer": "refused"},
            f"{prefix}-02": {"answer": "flaky"},
            f"{prefix}-03": {"answer": "reset"},
        }
        return _fleet(prefix, **special)

    in_processes = collect_fleet(fleet("p"), scripted, retry=FAST)
    monkeypatch.setattr(pool, "PROCESS_MIN_GUESTS", 1000)
    in_threads = collect_fleet(fleet("t"), scripted, retry=FAST)
    assert {r["pid"] for r in in_threads.values() if isinstance(r, dict)} == {os.getpid()}
    assert len({r["pid"] for r in in_processes.values() if isinstance(r, dict)} - {os.getpid()}) == 2
    expected = {k.replace("t-", "p-"): v for k, v in _comparable(in_threads).items()}
    assert {k: str(v).replace("t-", "p-") for k, v in expected.items()} == {
        k: str(v) for k, v in _comparable(in_processes).items()
    }
    assert _comparable(in_processes)["p-01"] == (
        "CollectionFailure",
        "p-01: credentials refused (HTTP 401)",
        False,
        "auth",
    )
    assert _comparable(in_processes)["p-03"][1] == "p-03: connection reset (after 3 attempts)"
    assert in_processes["p-02"] == {"guest": "p-02", "attempt": 3, "pid": _doc(in_processes["p-02"])["pid"]}


def test_each_result_is_reported_as_it_completes() -> None:
    seen: list[tuple[float, Progress]] = []
    guests = _fleet("s", **{"s-00": {"sleep": 1.5}})
    collect_fleet(guests, scripted, retry=FAST, progress=lambda p: seen.append((time.monotonic(), p)))
    assert [p.done for _, p in seen] == list(range(1, 13))
    assert seen[-2][1].line().startswith("collected 11/12, 0 errors")
    assert seen[-1][0] - seen[-2][0] > 0.5  # eleven reported while the slow guest was still in flight


def test_a_worker_that_dies_fails_only_its_unreported_guests() -> None:
    guests = _fleet("d", **{"d-00": {"answer": "crash", "sleep": 0.5}})
    out = collect_fleet(guests, scripted, retry=FAST)
    lost = {name for name, r in out.items() if isinstance(r, FactsError)}
    assert "d-00" in lost
    assert lost <= {g.name for g in guests[0::2]}  # the other worker's share is complete
    assert all(isinstance(out[g.name], dict) for g in guests[1::2])
    assert str(out["d-00"]) == (
        "d-00: not collected: its collection worker process exited (3) before reporting this guest: see the "
        "run's output for the worker's error, then audit this guest again (--limit)"
    )


def test_an_interrupt_ends_the_workers_and_their_queued_guests(tmp_path: Path) -> None:
    guests = [guest(f"i-{n:02d}", sleep=5, marks=str(tmp_path)) for n in range(20)]

    def interrupt(progress: Progress) -> None:
        raise KeyboardInterrupt

    fast = guest("i-fast", marks=str(tmp_path))
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        collect_fleet([fast, *guests], scripted, workers=4, retry=FAST, progress=interrupt)
    assert time.monotonic() - started < 4.5  # not waiting for the guests in flight
    assert multiprocessing.active_children() == []
    time.sleep(1)
    assert len(list(tmp_path.iterdir())) <= 5  # the first four in flight, never the queue


AUDIT_SCRIPT = """
import multiprocessing, os, sys
from hotpatch_audit.collect import pool
from unit.collect.poolfakes import guest, report_ctrl_c, scripted
pool.PROCESS_MIN_GUESTS = 1
os.sched_getaffinity = lambda pid: {0, 1}

def started(progress):
    print(" ".join(str(c.pid) for c in multiprocessing.active_children()), flush=True)

if __name__ == "__main__":
    guests = [guest("fast"), *(guest(f"slow-{n}", sleep=60) for n in range(4))]
    try:
        pool.collect_fleet(guests, scripted, progress=started)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
"""


@pytest.mark.parametrize("how", ["Ctrl-C", "SIGKILL"])
def test_workers_end_with_the_auditing_process(tmp_path: Path, how: str) -> None:
    (tmp_path / "audit.py").write_text(AUDIT_SCRIPT)
    command = [sys.executable, "audit.py"]
    with subprocess.Popen(
        command, cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    ) as parent:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 2
        if how == "Ctrl-C":
            os.killpg(parent.pid, signal.SIGINT)  # as a terminal does: to the whole foreground group
            output, errors = parent.communicate(timeout=10)
            assert (output, errors) == (b"interrupted\n", b"")  # no traceback from the workers
        else:
            parent.send_signal(signal.SIGKILL)
            parent.communicate(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


def test_a_worker_leaves_ctrl_c_to_the_auditing_process() -> None:
    # Called from a thread other than the main one, which cannot change signal handling, so the worker ignores
    # SIGINT itself; a terminal's Ctrl-C reaches it as well as the auditing process.
    guests = [guest("q-fast"), *(guest(f"q-{n:02d}", sleep=1) for n in range(8))]
    signalled: list[int] = []

    def progress(progress: Progress) -> None:
        for child in multiprocessing.active_children() if not signalled else ():
            os.kill(child.pid or 0, signal.SIGINT)
            signalled.append(child.pid or 0)

    out: dict[str, Any] = {}
    collecting = threading.Thread(target=lambda: out.update(collect_fleet(guests, scripted, progress=progress)))
    collecting.start()
    collecting.join(30)
    assert len(signalled) == 2
    assert sorted(out) == sorted(g.name for g in guests)
    assert all(isinstance(r, dict) for r in out.values()), out


def test_workers_start_with_ctrl_c_ignored() -> None:
    # Spawning takes a fresh interpreter seconds of imports on a busy machine: a Ctrl-C meanwhile must not print
    # their tracebacks.
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    with pool._ctrl_c_ignored():
        child = context.Process(target=report_ctrl_c, args=(send,))
        child.start()
    send.close()
    assert receive.recv() == signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # this process still handles it
    child.join()


def _env() -> dict[str, str]:
    """The environment of a child auditing script: this package and the fakes importable from anywhere."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(SELFTESTS), str(Path(pool.__file__).parents[2])])}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # An orphan is reaped by init, a child of this process by nobody: a zombie counts as ended.
    return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"


def test_a_main_module_spawn_cannot_import_falls_back_to_threads(tmp_path: Path) -> None:
    # No `if __name__ == "__main__"` guard: every worker fails while re-importing it and contacts no guest.
    script = textwrap.dedent(
        """
        import os
        from hotpatch_audit.collect import pool
        from unit.collect.poolfakes import guest, report_ctrl_c, scripted
        pool.PROCESS_MIN_GUESTS = 1
        os.sched_getaffinity = lambda pid: {0, 1}
        out = pool.collect_fleet([guest(f"vm-{n}") for n in range(6)], scripted)
        print(sorted({r["pid"] == os.getpid() for r in out.values()}), len(out))
        """
    )
    (tmp_path / "audit.py").write_text(script)
    done = subprocess.run(
        [sys.executable, "audit.py"], cwd=tmp_path, env=_env(), capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Safe importing of main module" in done.stderr  # the workers were tried, and failed
    assert done.stdout.split("\n")[-2] == "[True] 6"  # every guest collected, by this process


def test_closures_fakes_and_small_fleets_stay_in_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    guests = _fleet("c")

    def closure(guest: Guest, *, deadline_sec: float | None = None) -> dict[str, Any]:
        return {}

    class Fake:
        def __call__(self, guest: Guest, *, deadline_sec: float | None = None) -> dict[str, Any]:
            return {}

    assert process_count(guests, scripted) == 2
    assert process_count(guests, closure) == 1
    assert process_count(guests, Fake()) == 1  # it would run as a copy whose effects this process never sees
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert process_count(guests, scripted) == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    assert process_count(guests, scripted) == 8
    monkeypatch.setattr(pool, "PROCESS_MIN_GUESTS", 13)
    assert process_count(guests, scripted) == 1


def test_workers_are_never_more_than_the_concurrency() -> None:
    out = collect_fleet(_fleet("w"), scripted, workers=1, retry=FAST)
    assert {_doc(r)["pid"] for r in out.values()} == {os.getpid()}


def test_a_password_written_in_the_inventory_never_leaves_the_process() -> None:
    connection = Connection(host="127.0.0.1", port=5985, scheme="http", password=Secret("Inline-s3cret"))
    written = Guest("vm", ("fleet",), {"ansible_password": "Inline-s3cret"}, connection)
    assert process_count([written, *_fleet("x")], scripted) == 1
    with pytest.raises(TypeError, match="never pickled: name an environment variable"):
        pickle.dumps(written)


def test_secret_named_variables_stay_in_this_process() -> None:
    variables = {"ansible_become_password": "B3come-s3cret", "api_token": "T0ken", "ansible_winrm_kinit_mode": "manual"}
    connection = Connection(host="127.0.0.1", port=5985, scheme="http", password_env="AUDIT_PASSWORD")
    sent = pickle.dumps(pool._sendable(Guest("vm", ("fleet",), variables, connection)))
    assert b"B3come-s3cret" not in sent
    assert b"T0ken" not in sent
    received = pickle.loads(sent)  # noqa: S301 - bytes this test made
    assert received.vars == {"ansible_winrm_kinit_mode": "manual"}
    assert received.connection.password_env == "AUDIT_PASSWORD"


def test_a_collection_failure_keeps_its_cause_across_processes() -> None:
    sent = pickle.dumps(CollectionFailure("vm: HTTP 503", transient=True, cause="http"))
    err = pickle.loads(sent)  # noqa: S301 - bytes this test made
    assert (type(err), str(err), err.transient, err.cause) == (CollectionFailure, "vm: HTTP 503", True, "http")


@pytest.mark.parametrize(
    ("guests", "processes", "expected"), [(1000, 1, 256), (1000, 2, 128), (1000, 8, 256), (90, 2, 90)]
)
def test_worker_processes_default_to_fewer_threads_each(guests: int, processes: int, expected: int) -> None:
    assert pool.default_workers(guests, processes) == expected


def test_the_default_concurrency_is_split_over_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "THREADS_PER_PROCESS", 2)
    seen: list[float] = []
    guests = [guest(f"b-{n}", sleep=0.4) for n in range(12)]
    out = collect_fleet(guests, scripted, retry=FAST, progress=lambda p: seen.append(time.monotonic()))
    assert sorted(Counter(_doc(r)["pid"] for r in out.values()).values()) == [6, 6]
    assert seen[-1] - seen[0] > 0.7  # two at a time in each process: three waves of 0.4 s, not one


def _doc(result: dict[str, Any] | FactsError) -> dict[str, Any]:
    """A guest's collected document (the scripted collector's echo), failing the test on an error instead."""
    assert isinstance(result, dict), result
    return result
