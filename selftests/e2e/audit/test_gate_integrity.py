"""The gate cannot be fooled: nothing unproven passes, and every way of narrowing or breaking a run shows.

Each attack ends in exit 4 (usage), a per-guest ``error``, or an incomplete run (never exit 0), without a
traceback, and ``verify`` refuses an incomplete or unsealed run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from auditrun import audit, write_fleet
from hotpatch_audit.rules.registry import builtin_ids
from support import REPO, Run, run_audit

TWO: dict[str, dict[str, Any] | None] = {"vm-1": {}, "vm-2": {}}


def verify(run_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hotpatch_audit", "verify", str(run_dir), *extra]
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.output
    assert "INTERNALERROR" not in run.output


@pytest.mark.parametrize(
    ("inventory", "expected"),
    [
        ("all:\n  children:\n    cluster_a:\n", "there is nothing to audit"),
        ("all:\n  hosts: {}\n", "there is nothing to audit"),
    ],
    ids=["empty-child-group", "empty-hosts"],
)
def test_an_inventory_without_guests_is_a_usage_error(tmp_path: Path, inventory: str, expected: str) -> None:
    path = tmp_path / "inventory.yml"
    path.write_text(inventory)
    (tmp_path / "facts").mkdir()
    run = run_audit(path, tmp_path / "reports", "--facts-dir", str(tmp_path / "facts"))
    assert run.code == 4, run.output
    assert expected in run.output
    assert not (tmp_path / "reports").exists()
    assert_no_traceback(run)


def test_a_shard_without_guests_is_a_usage_error(tmp_path: Path) -> None:
    write_fleet(tmp_path, {"vm-1": {}})
    run = audit(tmp_path, "--shard", "2/2")
    assert run.code == 4, run.output
    assert "none of the 1 selected guests falls in this shard" in run.output


@pytest.mark.parametrize(
    ("narrowing", "filter_text"),
    [
        (("-k", "vm-1"), "-k 'vm-1'"),
        (("-k", "not latest_release"), "-k 'not latest_release'"),
        (("-m", "not readiness"), "-m 'not readiness'"),
        (("--checks", "tests/test_image.py"), "checks given: tests/test_image.py"),
    ],
    ids=["k-guest", "k-control", "m-other", "one-file"],
)
def test_a_narrowed_run_is_incomplete_and_never_exits_0(
    tmp_path: Path, narrowing: tuple[str, ...], filter_text: str
) -> None:
    write_fleet(tmp_path, TWO)
    given = narrowing[0] == "--checks"
    run = audit(tmp_path, checks=narrowing[1:]) if given else audit(tmp_path, *narrowing)
    assert run.code == 6, run.output
    meta = run.results["run"]
    assert meta["complete"] is False
    assert filter_text in meta["incomplete_reason"]
    assert filter_text in meta["selection"]["filters"]
    assert meta["selection"]["missing"] > 0
    missing = [r for r in run.results["results"] if r["message"].startswith("not evaluated: this run did not run")]
    assert missing
    assert all(r["outcome"] == "error" for r in missing)
    statuses = {g["guest"]: g["status"] for g in run.results["guests"]}
    assert all(statuses[r["guest"]] == "not evaluated" for r in missing)
    assert "INCOMPLETE" in run.output.rstrip().splitlines()[-1]
    assert verify(run.run_dir).returncode == 3
    assert verify(run.run_dir, "--allow-incomplete").returncode == 0


def test_the_readiness_gate_is_a_declared_set_and_complete(tmp_path: Path) -> None:
    write_fleet(tmp_path, TWO)
    run = audit(tmp_path, "-m", "readiness")
    assert run.code == 0, run.output
    meta = run.results["run"]
    assert meta["complete"] is True
    assert meta["selection"]["control_set"] == "readiness"
    assert meta["selection"]["controls"] == ["HP-01", "HP-03", "HP-04", "HP-06", "HP-07"]
    assert verify(run.run_dir).returncode == 0


@pytest.mark.parametrize("option", ["--setup-plan", "--setup-only", "--collect-only"])
def test_listing_or_planning_writes_no_evidence(tmp_path: Path, option: str) -> None:
    write_fleet(tmp_path, TWO)
    run = audit(tmp_path, option)
    assert not list((tmp_path / "reports").glob("*/results.json"))
    assert run.code == (0 if option == "--collect-only" else 6), run.output


def test_a_policy_disabling_every_control_proves_nothing(tmp_path: Path) -> None:
    write_fleet(tmp_path, {"vm-1": {}, "no-facts": None})
    policy = tmp_path / "policy.yml"
    controls = "".join(f"  - {{control: {c}, reason: switched off}}\n" for c in builtin_ids())
    policy.write_text(f"disabled_controls:\n{controls}")
    run = audit(tmp_path, "--policy", str(policy))
    assert run.code == 6, run.output
    assert {g["guest"]: g["status"] for g in run.results["guests"]} == {
        "vm-1": "not evaluated",
        "no-facts": "not evaluated",
    }
    assert {r["outcome"] for r in run.results["results"]} == {"skipped"}
    assert all("disabled by policy" in r["message"] for r in run.results["results"])


INTERRUPTING_CHECK = '''
from hotpatch_audit.checks import GuestFacts, control


@control("SITE-01", title="Interrupts", severity="low", azure_edition_only=False)
def test_interrupt(facts: GuestFacts) -> None:
    """Stands in for Ctrl-C pressed while the controls are evaluated."""
    raise KeyboardInterrupt
'''


def test_an_interrupted_run_is_sealed_as_incomplete(tmp_path: Path) -> None:
    write_fleet(tmp_path, TWO)
    check = tmp_path / "site" / "test_site.py"
    check.parent.mkdir()
    check.write_text(INTERRUPTING_CHECK)
    run = audit(tmp_path, str(check))
    assert run.code == 2, run.output  # pytest's own code for an interrupted run
    meta = run.results["run"]
    assert meta["complete"] is False
    assert meta["incomplete_reason"].startswith("interrupted")
    assert "compliant" not in {g["status"] for g in run.results["guests"]}
    assert verify(run.run_dir).returncode == 3


def test_verify_requires_the_results_in_the_manifest(tmp_path: Path) -> None:
    write_fleet(tmp_path, TWO)
    run = audit(tmp_path)
    assert run.code == 0, run.output
    manifest = run.run_dir / "manifest.sha256"
    for name in ("results.json", "report.html", "junit.xml"):
        lines = manifest.read_text().splitlines()
        stripped = run.run_dir.parent / f"stripped-{name}"
        subprocess.run(["cp", "-r", str(run.run_dir), str(stripped)], check=True)
        (stripped / name).unlink()
        (stripped / "manifest.sha256").write_text("".join(f"{x}\n" for x in lines if not x.endswith(f"  {name}")))
        proc = verify(stripped)
        assert proc.returncode == 1, proc.stdout
        assert f"not in the manifest: {name}" in proc.stdout


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_verify_rejects_links_and_special_files(tmp_path: Path, kind: str) -> None:
    write_fleet(tmp_path, TWO)
    run = audit(tmp_path)
    target = run.run_dir / "facts" / "extra.json"
    if kind == "symlink":
        target.symlink_to("/etc/hostname")
    else:
        os.mkfifo(target)
    proc = verify(run.run_dir)
    assert proc.returncode == 2, proc.stdout
    assert "facts/extra.json is" in proc.stdout


def test_a_crafted_results_file_cannot_pull_files_from_outside_the_run(tmp_path: Path) -> None:
    write_fleet(tmp_path, TWO)
    run = audit(tmp_path)
    secret = tmp_path / "outside.json"
    secret.write_text('{"secret": "do-not-embed"}')
    doc = json.loads((run.run_dir / "results.json").read_text())
    doc["guests"][0]["facts"] = "../../outside.json"
    doc["guests"][0]["guest"] = "../../outside"
    (run.run_dir / "results.json").write_text(json.dumps(doc))
    out = tmp_path / "rerendered.html"
    proc = subprocess.run(
        [sys.executable, "-m", "hotpatch_audit", "report", str(run.run_dir), "--no-verify", "--output", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert "do-not-embed" not in (out.read_text() if out.exists() else "")
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_report_dir_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    write_fleet(tmp_path, TWO)
    blocker = tmp_path / "reports"
    blocker.write_text("not a directory")
    run = audit(tmp_path)
    assert run.code == 4, run.output
    assert "--report-dir" in run.output
    assert_no_traceback(run)


def test_guest_text_reaches_the_terminal_without_escapes(tmp_path: Path) -> None:
    caption = "\x1b[2J\x1b[31mRED\x07 box\x1b[0m"
    write_fleet(
        tmp_path,
        {"vm-1": {"os__operating_system_sku": 8, "os__edition_id": "ServerDatacenter", "os__caption": caption}},
    )
    run = audit(tmp_path)
    assert run.code == 1, run.output
    assert "\x1b" not in run.output
    assert "\x07" not in run.output
    assert "(RED box)" in run.outcome("vm-1", "HP-01")["message"]


def test_deeply_nested_facts_are_a_guest_error_not_a_crash(tmp_path: Path) -> None:
    write_fleet(tmp_path, {"vm-1": {}, "deep": None})
    (tmp_path / "facts" / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    run = audit(tmp_path)
    assert run.code == 6, run.output
    assert_no_traceback(run)
    assert "nested too deeply" in run.outcome("deep", "HP-01")["message"]
    assert run.outcome("vm-1", "HP-01")["outcome"] == "passed"
