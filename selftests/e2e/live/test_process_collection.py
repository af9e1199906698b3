"""A fleet large enough for worker processes, audited end to end: the same outcomes, messages and facts as when
every guest is collected in threads of the auditing process, and no password in anything the run leaves."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

from e2e.live.livesupport import PASSWORD, PASSWORD_ENV
from hotpatch_audit.testing.simulator import DEMO_FLEET, Faults, Fleet, load_fleet, serve_fleet
from support import Run, run_audit

pytestmark = pytest.mark.e2e

# Loaded by the child pytest with -p: worker processes for a fleet of any size on any machine, and a note of the
# processes the collection used.
PLUGIN = """
import os
from pathlib import Path
from hotpatch_audit.collect import pool

pool.PROCESS_MIN_GUESTS = 1
os.sched_getaffinity = lambda pid: {0, 1}
_count = pool.process_count


def _noted(guests, collect):
    count = _count(guests, collect)
    Path(os.environ["PROCESSES_NOTE"]).write_text(str(count))
    return count


pool.process_count = _noted
"""


def _fleet() -> Fleet:
    demo = load_fleet(DEMO_FLEET)
    base = demo.guest("hci-vm-01")
    guests = [dataclasses.replace(g, faults=dataclasses.replace(g.faults, latency_ms=0)) for g in demo.guests]
    guests += [dataclasses.replace(base, name=f"hci-vm-{n}", faults=Faults()) for n in range(30, 46)]
    return Fleet(user=demo.user, password_env=PASSWORD_ENV, guests=tuple(guests))


def _audit(inventory: Path, tmp: Path, *plugin: str) -> Run:
    (tmp / "plugin").mkdir(parents=True)
    (tmp / "plugin" / "processes_plugin.py").write_text(PLUGIN)
    path = os.pathsep.join([str(tmp / "plugin"), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, PASSWORD_ENV: PASSWORD, "PYTHONPATH": path, "PROCESSES_NOTE": str(tmp / "processes")}
    return run_audit(inventory, tmp / "reports", *plugin, "--as-of", "2026-05-27", "--deadline", "20", env=env)


def _facts(run: Run) -> dict[str, dict[str, Any]]:
    facts = {p.stem: json.loads(p.read_text()) for p in (run.run_dir / "facts").iterdir()}
    for document in facts.values():
        document.pop("collected_at")
    return facts


def test_worker_processes_audit_as_threads_do(tmp_path: Path) -> None:
    with serve_fleet(_fleet(), password=PASSWORD, password_env=PASSWORD_ENV) as running:
        inventory = running.write_inventory(tmp_path / "inventory.yml")
        threads = _audit(inventory, tmp_path / "threads")
        processes = _audit(inventory, tmp_path / "processes", "-p", "processes_plugin")
    assert (tmp_path / "processes" / "processes").read_text() == "2"
    assert not (tmp_path / "threads" / "processes").exists()  # without the plugin, the default path
    assert threads.code == processes.code == 1, processes.output  # the demo fleet has findings
    assert "collected 40/40, 5 errors" in processes.output
    assert len(processes.results["results"]) == 40 * 9

    def rows(run: Run) -> list[tuple[str, str, str, str]]:
        return sorted((r["guest"], r["control"], r["outcome"], r["message"]) for r in run.results["results"])

    assert rows(processes) == rows(threads)
    assert _facts(processes) == _facts(threads)
    assert PASSWORD not in processes.output
    for path in processes.run_dir.rglob("*"):
        assert not path.is_file() or PASSWORD.encode() not in path.read_bytes(), path
