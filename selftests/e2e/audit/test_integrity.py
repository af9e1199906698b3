"""manifest.sha256 seals every file of a run directory; verify finds any changed, missing or extra file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from auditrun import FAIL_HP04, Run, audit, write_fleet
from hotpatch_audit.run.integrity import MANIFEST, IntegrityError, read_manifest, verify, write_manifest


@pytest.fixture(scope="module")
def sealed_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("sealed")
    write_fleet(tmp, {"a": {}, "b": FAIL_HP04, "c": None})
    return audit(tmp)


@pytest.fixture
def run_copy(sealed_run: Run, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(sealed_run.run_dir, copy)
    return copy


def verify_cli(run_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotpatch_audit", "verify", str(run_dir)], capture_output=True, text=True, check=False
    )


def test_the_run_seals_every_file_in_its_final_state(sealed_run: Run) -> None:
    names = set(read_manifest(sealed_run.run_dir))
    assert {"report.html", "results.json", "junit.xml", "facts/a.json", "facts/b.json"} <= names
    assert MANIFEST not in names
    assert verify(sealed_run.run_dir).ok
    digest = verify_cli(sealed_run.run_dir).stdout.split("manifest sha256 ")[1].strip(" )\n")
    assert f"integrity: {MANIFEST} sha256 {digest}" in sealed_run.output
    assert sealed_run.output.rstrip().splitlines()[-1].startswith("compliance: 3 guests")


def test_the_manifest_is_sha256sum_compatible(sealed_run: Run) -> None:
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum is not installed")
    proc = subprocess.run(["sha256sum", "--check", "--strict", MANIFEST], cwd=sealed_run.run_dir, check=False)
    assert proc.returncode == 0


def test_verify_detects_a_one_byte_change_in_any_file(run_copy: Path) -> None:
    names = sorted(read_manifest(run_copy))
    assert len(names) >= 5
    for name in names:
        path = run_copy / name
        original = path.read_bytes()
        for offset in (0, len(original) // 2, len(original) - 1):
            changed = bytearray(original)
            changed[offset] ^= 0x01
            path.write_bytes(bytes(changed))
            result = verify(run_copy)
            assert (result.changed, result.missing, result.extra) == ((name,), (), ()), (name, offset)
        path.write_bytes(original)
    assert verify(run_copy).ok


def test_verify_reports_missing_and_extra_files(run_copy: Path) -> None:
    (run_copy / "facts" / "a.json").unlink()
    (run_copy / "notes.txt").write_text("added later\n")
    (run_copy / "facts" / "z.json").write_text("{}")
    result = verify(run_copy)
    assert result.missing == ("facts/a.json",)
    assert result.extra == ("facts/z.json", "notes.txt")
    assert result.problems() == ["missing: facts/a.json", "extra: facts/z.json", "extra: notes.txt"]


def test_verify_command_exit_codes(run_copy: Path, tmp_path: Path) -> None:
    ok = verify_cli(run_copy)
    assert ok.returncode == 0
    assert "OK" in ok.stdout
    (run_copy / "results.json").write_text((run_copy / "results.json").read_text().replace("failed", "passed"))
    changed = verify_cli(run_copy)
    assert changed.returncode == 1
    assert "changed: results.json" in changed.stdout
    (run_copy / MANIFEST).unlink()
    unverifiable = verify_cli(run_copy)
    assert unverifiable.returncode == 2
    assert "no manifest" in unverifiable.stdout
    assert verify_cli(tmp_path / "nowhere").returncode == 2


def test_a_malformed_manifest_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x")
    (tmp_path / MANIFEST).write_text(f"{'0' * 64}  a\nnot a line\n")
    with pytest.raises(IntegrityError, match=rf"{MANIFEST}:2: not a sha256sum line"):
        verify(tmp_path)


def test_names_with_backslashes_and_newlines_round_trip(tmp_path: Path) -> None:
    for name in ("back\\slash.txt", "new\nline.txt", "plain.txt", "results.json"):
        (tmp_path / name).write_text(name)
    write_manifest(tmp_path)
    assert set(read_manifest(tmp_path)) == {"back\\slash.txt", "new\nline.txt", "plain.txt", "results.json"}
    assert verify(tmp_path).ok
