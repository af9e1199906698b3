"""Ctrl-C while a live fleet is being collected: queued guests are never contacted, the run ends within
seconds, and what it leaves is sealed as incomplete."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from e2e.live.livesupport import PASSWORD, PASSWORD_ENV
from hotpatch_audit.testing.simulator import DEMO_FLEET, Faults, Fleet, load_fleet, serve_fleet
from support import REPO

pytestmark = pytest.mark.e2e


def test_ctrl_c_during_collection_ends_fast_and_incomplete(tmp_path: Path) -> None:
    demo = load_fleet(DEMO_FLEET)
    base = demo.guest("hci-vm-01")
    guests = tuple(dataclasses.replace(base, name=f"slow-{i:02d}", faults=Faults(latency_ms=3000)) for i in range(30))
    fleet = Fleet(user=demo.user, password_env=PASSWORD_ENV, guests=guests)
    with serve_fleet(fleet, password=PASSWORD, password_env=PASSWORD_ENV) as running:
        inventory = running.write_inventory(tmp_path / "inventory.yml")
        reports = tmp_path / "reports"
        command = [sys.executable, "-m", "pytest", "tests", "--inventory", str(inventory)]
        command += ["--report-dir", str(reports), "--workers", "2"]
        child = subprocess.Popen(
            command,
            cwd=REPO,
            env={**os.environ, PASSWORD_ENV: PASSWORD},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not list(reports.glob("*/facts")) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # two guests are in flight, 28 wait in the queue
        interrupted = time.monotonic()
        child.send_signal(signal.SIGINT)
        output, _ = child.communicate(timeout=30)
        took = time.monotonic() - interrupted
    assert took < 6, output
    assert child.returncode == 2, output
    (run_dir,) = reports.iterdir()
    results = json.loads((run_dir / "results.json").read_text())
    assert results["run"]["complete"] is False
    assert results["run"]["incomplete_reason"].startswith("interrupted while collecting facts")
    assert {g["status"] for g in results["guests"]} == {"not evaluated"}
    assert "Traceback" not in output
    verify = [sys.executable, "-m", "hotpatch_audit", "verify", str(run_dir)]
    assert subprocess.run(verify, capture_output=True, check=False, cwd=REPO).returncode == 3
