"""``trend`` over three weekly audits of recorded facts: a guest newly failing, then fixed; a guest failing every
week; runs that are incomplete or no longer match their manifest left out and listed; restarts per month from
the guests' history facts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from e2e.evidence.evidence import cli, make_key, weekly_runs
from hotpatch_audit.run.integrity import write_manifest
from support import Run, run_audit

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Run]]:
    tmp = tmp_path_factory.mktemp("weeks")
    runs = weekly_runs(tmp, tmp / "reports")
    assert [r.code for r in runs] == [1, 1, 1], runs[-1].output
    return tmp / "reports", runs


def trend_json(*args: str) -> tuple[int, dict[str, Any], str]:
    done = cli("trend", *args, "--json")
    return done.returncode, json.loads(done.stdout) if done.stdout else {}, done.stderr


def test_a_guest_newly_failing_then_fixed(weeks: tuple[Path, list[Run]]) -> None:
    reports, runs = weeks
    code, trend, err = trend_json(str(reports))
    assert code == 0, err
    assert [r["day"] for r in trend["runs"]] == ["2026-05-27", "2026-06-03", "2026-06-10"]
    assert [r["id"] for r in trend["runs"]] == [r.results["run"]["id"] for r in runs]
    first, second = trend["changes"]
    assert first["newly_failing"] == {"hci-vm-02": ["HP-04"]}
    assert first["newly_fixed"] == []
    assert second["newly_failing"] == {}
    assert second["newly_fixed"] == ["hci-vm-02"]
    assert trend["failing_in_every_run"] == ["hci-vm-03"]
    assert [r["controls"]["HP-04"]["compliance"] for r in trend["runs"]] == [0.6667, 0.3333, 0.6667]
    assert trend["restarts_per_month"] == {"2026-01": 3, "2026-04": 3}  # each guest's starts, counted once
    assert trend["skipped"] == []


def test_since_keeps_the_later_runs(weeks: tuple[Path, list[Run]]) -> None:
    reports, _ = weeks
    code, trend, _ = trend_json(str(reports), "--since", "2026-06-03")
    assert code == 0
    assert [r["day"] for r in trend["runs"]] == ["2026-06-03", "2026-06-10"]
    assert trend["failing_in_every_run"] == ["hci-vm-03"]  # hci-vm-02 was fixed on 06-10
    assert cli("trend", str(reports), "--since", "June").returncode == 2


def test_page_is_written_inert_and_names_the_changes(weeks: tuple[Path, list[Run]], tmp_path: Path) -> None:
    reports, _ = weeks
    out = tmp_path / "trend.html"
    done = cli("trend", str(reports), "--out", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert "Content-Security-Policy" in page
    assert "script-src 'none'" in page
    assert "<svg" in page
    assert "hci-vm-02 (HP-04)" in page
    assert 'id="restarts"' in page  # the recorded guests' facts carry a restart history
    inside = cli("trend", str(reports), "--out", str(next(reports.iterdir()) / "trend.html"))
    assert inside.returncode == 2  # would break that run's seal
    assert "inside a sealed run directory" in inside.stderr


def test_incomplete_and_tampered_runs_are_left_out_and_listed(weeks: tuple[Path, list[Run]], tmp_path: Path) -> None:
    source, runs = weeks
    reports = tmp_path / "reports"
    shutil.copytree(source, reports)
    tampered = reports / runs[1].run_dir.name
    (tampered / "facts" / "hci-vm-02.json").write_text("{}")
    fleet = runs[0].run_dir.parent.parent / "week-0"
    narrowed = run_audit(
        fleet / "inventory.yml", reports, "--facts-dir", str(fleet / "facts"), "-k", "HP-01 or enrolled"
    )
    assert narrowed.results["run"]["complete"] is False, narrowed.output
    code, trend, err = trend_json(str(reports))
    assert code == 1  # a run that no longer matches its manifest is reported, not silently dropped
    kinds = {Path(s["path"]).name: s["kind"] for s in trend["skipped"]}
    assert kinds == {tampered.name: "unverified", narrowed.run_dir.name: "incomplete"}
    assert f"left out {tampered}" in err
    assert [r["day"] for r in trend["runs"]] == ["2026-05-27", "2026-06-10"]
    assert trend["changes"][0]["newly_failing"] == {}


def test_only_runs_signed_with_the_key(weeks: tuple[Path, list[Run]], tmp_path: Path) -> None:
    private, public = make_key(tmp_path / "keys")
    reports = tmp_path / "reports"
    weekly_runs(tmp_path, reports, "--sign-key", str(private))
    code, trend, _ = trend_json(str(reports), "--key", str(public))
    assert code == 0
    assert len(trend["runs"]) == 3
    source, _ = weeks
    code, trend, _ = trend_json(str(source), "--key", str(public))
    assert code == 2  # unsigned runs cannot be shown as signed evidence: nothing is left to show
    assert [s["kind"] for s in trend["skipped"]] == ["unverified"] * 3
    assert all("not signed" in s["reason"] for s in trend["skipped"])
    assert trend["runs"] == []


def test_restarts_per_month_from_history_facts(weeks: tuple[Path, list[Run]], tmp_path: Path) -> None:
    source, runs = weeks
    reports = tmp_path / "reports"
    shutil.copytree(source, reports)
    boots = {
        runs[0].run_dir.name: ["2026-04-15T02:10:00Z", "2026-05-13T03:00:00Z"],
        runs[2].run_dir.name: ["2026-05-13T03:00:00Z", "2026-06-10T03:00:00Z"],  # one seen by both runs
    }
    for facts_file in reports.glob("*/facts/*.json"):  # only the history written below counts
        stripped = json.loads(facts_file.read_text())
        stripped.pop("history", None)
        stripped["schema_version"] = 1
        facts_file.write_text(json.dumps(stripped))
    for run_dir in reports.iterdir():
        if run_dir.is_dir():
            write_manifest(run_dir)
    for name, times in boots.items():
        path = reports / name / "facts" / "hci-vm-01.json"
        facts = json.loads(path.read_text())
        events = [{"time": t, "id": 12, "source": "Microsoft-Windows-Kernel-General"} for t in times]
        events.append({"time": "2026-05-20T00:00:00Z", "id": 6006, "source": "EventLog"})  # a shutdown, not a start
        facts["history"] = {"log_start": "2026-01-01T00:00:00Z", "events": events}
        facts["schema_version"] = 2
        path.write_text(json.dumps(facts))
        write_manifest(reports / name)
    code, trend, err = trend_json(str(reports))
    assert code == 0, err
    assert trend["restarts_per_month"] == {"2026-04": 1, "2026-05": 1, "2026-06": 1}
    assert 'id="restarts"' in cli("trend", str(reports)).stdout + (reports / "trend.html").read_text()
