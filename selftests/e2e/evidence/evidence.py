"""Shared by the evidence self-tests: Ed25519 keys as an operator makes them, and a fleet audited three times."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from auditrun import FAIL_HP04, write_fleet
from support import REPO, Run, run_audit

# hci-vm-02 is compliant, then fails HP-04 (VBS stopped running), then is fixed; hci-vm-03 fails every week.
WEEKS: tuple[tuple[str, dict[str, Any]], ...] = (("2026-05-27", {}), ("2026-06-03", FAIL_HP04), ("2026-06-10", {}))


def make_key(directory: Path, name: str = "audit") -> tuple[Path, Path]:
    """An OpenSSH Ed25519 key pair (private key mode 600), as ``ssh-keygen -t ed25519`` writes it."""
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private = directory / name
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    )
    private.chmod(0o600)
    public = directory / f"{name}.pub"
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH) + b"\n"
    )
    return private, public


def weekly_runs(tmp: Path, reports: Path, *extra: str) -> list[Run]:
    """Three recorded-facts audits a week apart into `reports`, one guest changing state."""
    runs = []
    for week, (day, changing) in enumerate(WEEKS):
        fleet = tmp / f"week-{week}"
        inventory = write_fleet(fleet, {"hci-vm-01": {}, "hci-vm-02": changing, "hci-vm-03": FAIL_HP04})
        runs.append(run_audit(inventory, reports, "--facts-dir", str(fleet / "facts"), "--as-of", day, *extra))
    return runs


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """``python -m hotpatch_audit ARGS`` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "hotpatch_audit", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
