"""``python -m hotpatch_audit report RUN_DIR`` rebuilds report.html from results.json and facts/ alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from auditrun import ERROR_HP04, FAIL_HP04, FAIL_HP07, Run, audit, report_data, result_rows, without_note, write_fleet
from hotpatch_audit.run.integrity import MANIFEST, read_manifest, verify

WAIVERS = (
    "waivers:\n"
    "  - {guests: [waived-fail], control: HP-07, justification: vendor fix, approved_by: CAB, expires: 2026-12-31,"
    " ticket: CHG-1}\n"
    "  - {guests: ['waived-*'], control: HP-04, justification: WMI repair, approved_by: CISO, expires: 2026-06-01}\n"
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("rerender")
    write_fleet(
        tmp,
        {
            "ok": {},
            "wrong-image": {"os__operating_system_sku": 8, "os__edition_id": "ServerDatacenter", "os__caption": None},
            "failing": FAIL_HP04,
            "erroring": ERROR_HP04,
            "waived-fail": FAIL_HP07,
            "waived-error": ERROR_HP04,
            "missing": None,
        },
    )
    (tmp / "waivers.yml").write_text(WAIVERS)
    return audit(tmp, "--waivers", str(tmp / "waivers.yml"))


def report_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotpatch_audit", "report", *args], capture_output=True, text=True, check=False
    )


def test_the_fixture_covers_every_outcome(run: Run) -> None:
    assert {r["outcome"] for r in run.results["results"]} == {"passed", "failed", "error", "skipped", "waived"}


def test_rerendered_results_table_equals_the_original(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "again.html"
    proc = report_cli(str(run.run_dir), "--output", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    original, again = result_rows(run.run_dir / "report.html"), result_rows(out)
    assert sum(len(r["controls"].split()) for r in original) == len(run.results["results"])
    assert again == original
    assert without_note(out) == without_note(run.run_dir / "report.html")
    assert "Re-rendered from results.json and facts/" in out.read_text()
    assert verify(run.run_dir).ok


def test_in_place_rerender_leaves_the_seal_alone(run: Run, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run.run_dir, copy)
    manifest = (copy / MANIFEST).read_bytes()
    proc = report_cli(str(copy))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{MANIFEST} still seals the run's original report.html" in proc.stdout
    assert result_rows(copy / "report.html") == result_rows(run.run_dir / "report.html")
    assert (copy / MANIFEST).read_bytes() == manifest
    assert verify(copy).changed == ("report.html",)


def test_changed_data_is_not_rendered_unless_asked(run: Run, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run.run_dir, copy)
    results = copy / "results.json"
    doc = json.loads(results.read_text())
    failing = next(r for r in doc["results"] if r["guest"] == "failing" and r["outcome"] == "failed")
    failing["outcome"], failing["message"] = "passed", ""
    results.write_text(json.dumps(doc))
    refused = report_cli(str(copy), "--output", str(tmp_path / "x.html"))
    assert refused.returncode == 1
    assert "changed: results.json" in refused.stdout
    assert not (tmp_path / "x.html").exists()
    forced = report_cli(str(copy), "--output", str(tmp_path / "x.html"), "--no-verify")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    rows = {(row["guest"], row["controls"]): row["outcome"] for row in result_rows(tmp_path / "x.html")}
    assert rows[("failing", failing["control"])] == "passed"


def test_a_run_without_manifest_or_results_is_handled(run: Run, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run.run_dir, copy)
    (copy / MANIFEST).unlink()
    assert report_cli(str(copy)).returncode == 0
    (copy / "results.json").unlink()
    missing = report_cli(str(copy))
    assert missing.returncode == 2
    assert "results.json: not a readable results file" in missing.stdout


def test_the_facts_each_row_shows_come_from_the_stored_facts(run: Run) -> None:
    data = report_data(run.run_dir / "report.html")
    erroring = json.loads(data["facts"]["erroring"])
    assert erroring["security"]["vbs_status"] is None
    assert {"probe": "security.vbs_status", "message": "Access is denied."} in erroring["errors"]
    assert "security.vbs_status" in data["reads"]["HP-04"]
    assert "missing" not in data["facts"]
    assert "no facts file" in data["errors"]["missing"]
    assert "facts/missing.json" not in read_manifest(run.run_dir)
