"""Shard runs merge into the same results as one unsharded run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hotpatch_audit.report.merge import MergeError, merge_runs
from hotpatch_audit.run.integrity import verify, write_manifest
from support import REPO, run_audit

INVENTORY = REPO / "inventories" / "example.yml"


def audit(report_dir: Path, *extra: str, as_of: str = "2026-05-27") -> Path:
    return run_audit(
        INVENTORY, report_dir, "--facts-dir", "inventories/example-facts", "--as-of", as_of, *extra
    ).run_dir


def by_key(doc: dict) -> list[dict]:
    return sorted(doc["results"], key=lambda r: (r["guest"], r["control"]))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("shards")
    return {
        "full": audit(tmp / "full"),
        "one": audit(tmp / "one", "--shard", "1/2"),
        "two": audit(tmp / "two", "--shard", "2/2"),
    }


def test_merge_of_shards_equals_the_unsharded_run(runs: dict[str, Path], tmp_path: Path) -> None:
    merged = merge_runs([runs["one"], runs["two"]], tmp_path / "merged")
    full = json.loads((runs["full"] / "results.json").read_text())
    assert by_key(merged) == by_key(full)
    assert sorted(g["guest"] for g in merged["guests"]) == sorted(g["guest"] for g in full["guests"])
    assert sorted(p.name for p in (tmp_path / "merged" / "facts").iterdir()) == sorted(
        p.name for p in (runs["full"] / "facts").iterdir()
    )
    assert merged["run"]["merged_from"] == [
        json.loads((runs[k] / "results.json").read_text())["run"]["id"] for k in ("one", "two")
    ]
    assert (tmp_path / "merged" / "junit.xml").read_text().count("<testcase") == len(full["results"])
    assert (tmp_path / "merged" / "report.html").is_file()
    assert verify(tmp_path / "merged").ok


def test_a_tampered_shard_is_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "tampered"
    shutil.copytree(runs["two"], copy)
    results = copy / "results.json"
    results.write_text(results.read_text() + " ")
    with pytest.raises(MergeError, match=r"differs from its manifest\.sha256"):
        merge_runs([runs["one"], copy], tmp_path / "merged")


def test_overlapping_runs_are_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(MergeError, match="shards overlap"):
        merge_runs([runs["one"], runs["full"]], tmp_path / "merged")


def test_runs_with_another_as_of_are_refused_unless_allowed(runs: dict[str, Path], tmp_path: Path) -> None:
    other = audit(tmp_path / "other", "--shard", "2/2", as_of="2026-05-28")
    with pytest.raises(MergeError, match="different as_of"):
        merge_runs([runs["one"], other], tmp_path / "merged")
    mixed = merge_runs([runs["one"], other], tmp_path / "mixed", allow_mixed=True)
    assert mixed["results"]
    assert mixed["run"]["as_of"] is None  # never just the first input's
    assert [i["as_of"] for i in mixed["run"]["inputs"]] == ["2026-05-27", "2026-05-28"]
    page = (tmp_path / "mixed" / "report.html").read_text()
    assert "differs per input" in page
    assert page.count("2026-05-28") >= 1


def test_an_unsealed_input_is_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "unsealed"
    shutil.copytree(runs["two"], copy)
    (copy / "manifest.sha256").unlink()
    with pytest.raises(MergeError, match="merge takes sealed run directories only"):
        merge_runs([runs["one"], copy], tmp_path / "merged")


def test_an_input_with_evidence_removed_from_its_manifest_is_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "stripped"
    shutil.copytree(runs["two"], copy)
    lines = [x for x in (copy / "manifest.sha256").read_text().splitlines() if not x.endswith("  report.html")]
    (copy / "report.html").unlink()
    (copy / "manifest.sha256").write_text("".join(f"{x}\n" for x in lines))
    with pytest.raises(MergeError, match=r"not in the manifest: report\.html"):
        merge_runs([runs["one"], copy], tmp_path / "merged")


def test_a_missing_shard_makes_the_merge_incomplete(runs: dict[str, Path], tmp_path: Path) -> None:
    three = [audit(tmp_path / f"s{k}", "--shard", f"{k}/3") for k in (1, 3)]
    merged = merge_runs(three, tmp_path / "merged")
    assert merged["run"]["complete"] is False
    assert "shard(s) 2/3 missing" in merged["run"]["incomplete_reason"]
    assert [i["shard"] for i in merged["run"]["inputs"]] == ["1/3", "3/3"]
    assert all(len(i["manifest_sha256"]) == 64 for i in merged["run"]["inputs"])
    verify_cli = [sys.executable, "-m", "hotpatch_audit", "verify", str(tmp_path / "merged")]
    assert subprocess.run(verify_cli, capture_output=True, check=False, cwd=REPO).returncode == 3
    cli = [sys.executable, "-m", "hotpatch_audit", "merge", *map(str, three), "--out", str(tmp_path / "cli")]
    proc = subprocess.run(cli, capture_output=True, text=True, check=False, cwd=REPO)
    assert proc.returncode == 3, proc.stdout
    assert "INCOMPLETE" in proc.stdout


def test_a_replay_and_a_live_run_do_not_merge_silently(runs: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "live"
    shutil.copytree(runs["two"], copy)
    doc = json.loads((copy / "results.json").read_text())
    doc["run"]["mode"] = "live"
    (copy / "results.json").write_text(json.dumps(doc))
    write_manifest(copy)
    with pytest.raises(MergeError, match="different mode"):
        merge_runs([runs["one"], copy], tmp_path / "merged")


def test_merge_command_line(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cli"
    proc = subprocess.run(
        [sys.executable, "-m", "hotpatch_audit", "merge", str(runs["one"]), str(runs["two"]), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / "results.json").is_file()


def test_waivers_merge_across_shards(tmp_path: Path) -> None:
    waivers = ("--waivers", "inventories/example-waivers.yml")
    full = audit(tmp_path / "full", *waivers)
    one, two = audit(tmp_path / "one", "--shard", "1/2", *waivers), audit(tmp_path / "two", "--shard", "2/2", *waivers)
    merged = merge_runs([one, two], tmp_path / "merged")
    expected = json.loads((full / "results.json").read_text())["waivers"]
    assert merged["waivers"]["entries"] == expected["entries"]
    assert by_key(merged) == by_key(json.loads((full / "results.json").read_text()))
    with pytest.raises(MergeError, match="other waivers"):
        merge_runs([one, runs_without_waivers(tmp_path)], tmp_path / "refused")


def runs_without_waivers(tmp_path: Path) -> Path:
    return audit(tmp_path / "plain", "--shard", "2/2")
