"""Signed runs end to end: an audit with ``--sign-key``, ``verify --key`` on it, a forged run, a signed merge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditrun import FAIL_HP04, audit, write_fleet
from e2e.evidence.evidence import cli, make_key
from hotpatch_audit.run.integrity import write_manifest
from hotpatch_audit.run.signing import SIGNATURE, fingerprint, load_public_key

pytestmark = pytest.mark.e2e


def test_signed_run_verifies_and_a_forged_one_does_not(tmp_path: Path) -> None:
    private, public = make_key(tmp_path / "keys")
    write_fleet(tmp_path, {"hci-vm-01": {}, "hci-vm-02": FAIL_HP04})
    done = audit(tmp_path, "--sign-key", str(private))
    assert done.code == 1, done.output
    run_dir = done.run_dir
    assert (run_dir / SIGNATURE).is_file()
    assert not any(p.name.startswith("audit") for p in run_dir.rglob("*"))  # keys never enter the run directory
    assert "PRIVATE KEY" not in "".join(p.read_text(errors="replace") for p in run_dir.rglob("*") if p.is_file())
    signed_by = json.loads((run_dir / SIGNATURE).read_text())["key_fingerprint"]
    assert signed_by == fingerprint(load_public_key(public))
    assert done.results["run"]["signer"] == signed_by  # sealed with the data it signs
    assert signed_by in (run_dir / "report.html").read_text()

    ok = cli("verify", str(run_dir), "--key", str(public))
    assert ok.returncode == 0, ok.stdout
    assert f"signature by {signed_by} checked" in ok.stdout

    # The forger's move: make the failing guest pass in results.json, then regenerate the manifest.
    results = json.loads((run_dir / "results.json").read_text())
    for result in results["results"]:
        if result["outcome"] == "failed":
            result["outcome"], result["message"] = "passed", ""
    (run_dir / "results.json").write_text(json.dumps(results))
    write_manifest(run_dir)
    assert cli("verify", str(run_dir)).returncode == 0  # hashes alone cannot tell
    forged = cli("verify", str(run_dir), "--key", str(public))
    assert forged.returncode == 4, forged.stdout
    assert "BAD SIGNATURE" in forged.stdout


def test_key_readable_by_others_is_refused_before_any_guest_is_read(tmp_path: Path) -> None:
    private, _ = make_key(tmp_path / "keys")
    private.chmod(0o644)
    write_fleet(tmp_path, {"hci-vm-01": {}})
    done = audit(tmp_path, "--sign-key", str(private))
    assert done.code == 4, done.output  # pytest's usage error
    assert "let other users read the private key" in done.output
    assert f"chmod 600 {private}" in done.output
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_merge_signs_its_output(tmp_path: Path) -> None:
    private, public = make_key(tmp_path / "keys")
    write_fleet(tmp_path, {f"hci-vm-{i:02d}": {} for i in range(1, 7)})
    shards = [audit(tmp_path, "--shard", f"{k}/2", "--sign-key", str(private)).run_dir for k in (1, 2)]
    merged = tmp_path / "merged"
    done = cli("merge", *map(str, shards), "--out", str(merged), "--sign-key", str(private))
    assert done.returncode == 0, done.stdout + done.stderr
    ok = cli("verify", str(merged), "--key", str(public))
    assert ok.returncode == 0, ok.stdout
    _, other = make_key(tmp_path / "keys", "other")
    wrong = cli("verify", str(merged), "--key", str(other))
    assert wrong.returncode == 4
    assert "not by the given key" in wrong.stdout
