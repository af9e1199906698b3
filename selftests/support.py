"""Helpers shared by the self-tests: the repository root and a facts builder (a compliant WS2022 Core guest)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from hotpatch_audit.facts import GuestFacts, parse_facts
from hotpatch_audit.run.results import results_schema

REPO = Path(__file__).resolve().parent.parent

# The run header of a results document the self-tests build by hand (to render a report without an audit).
SYNTHETIC_RUN: dict[str, Any] = {
    "id": "r",
    "started": "2026-05-27T06:00:00Z",
    "finished": "2026-05-27T06:01:00Z",
    "as_of": "2026-05-27",
    "suite_version": "0",
    "inventory_sha256": "0" * 64,
    "catalog_newest": {"20348": "2026-05"},
}

COMPLIANT: dict[str, Any] = {
    "schema_version": 2,
    "guest": "vm",
    "collected_at": "2026-05-27T06:00:00Z",
    "collector_version": "1.0.0",
    "os": {
        "caption": "Microsoft Windows Server 2022 Datacenter Azure Edition",
        "operating_system_sku": 408,
        "edition_id": "ServerTurbineCor",
        "installation_type": "Server Core",
        "current_build": 20348,
        "ubr": 5074,
        "display_version": "21H2",
        "last_boot_up_time": "2026-04-15T02:10:00Z",
    },
    "security": {
        "secure_boot_enabled": True,
        "vbs_configured": 1,
        "vbs_status": 2,
        "vbs_policy": None,
        "hvci_enabled": None,
        "credential_guard": None,
    },
    "hotpatch": {
        "hotpatch_table_size": 4096,
        "enrollment_package_name": "Hotpatch Enrollment Package",
        "enrollment_package_version": "10.0.20348.1129",
    },
    "reboot_pending": {
        "component_based_servicing": False,
        "windows_update": False,
        "pending_file_rename": False,
        "computer_rename": False,
        "update_exe_volatile": False,
        "pending_file_rename_2": False,
        "domain_join": False,
        "hostname_change": False,
    },
    "hotfixes": [{"id": "KB5087424", "description": "Security Update", "installed_on": "2026-05-13"}],
    "history": {
        "log_start": "2025-04-02T08:00:00Z",
        "events": [
            {"time": "2026-01-14T02:00:00Z", "id": 12, "source": "Microsoft-Windows-Kernel-General"},
            {"time": "2026-04-15T02:08:00Z", "id": 1074, "source": "User32",
             "process": "C:\\Windows\\servicing\\TrustedInstaller.exe (VM)", "reason_code": "0x80020010",
             "shutdown_type": "restart"},
            {"time": "2026-04-15T02:09:00Z", "id": 13, "source": "Microsoft-Windows-Kernel-General"},
            {"time": "2026-04-15T02:10:00Z", "id": 12, "source": "Microsoft-Windows-Kernel-General"},
        ],
    },
    "errors": [],
}  # fmt: skip


def facts_doc(guest: str = "vm", *, unreadable: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    """A facts document; `changes` use ``__`` for dots (``os__ubr=4830``); `unreadable` nulls and names facts."""
    doc = copy.deepcopy(COMPLIANT)
    doc["guest"] = guest
    for key, value in changes.items():
        *path, last = key.split("__")
        target = doc
        for part in path:
            target = target[part]
        target[last] = value
    for key in unreadable:
        section, _, name = key.partition(".")
        doc[section][name] = None
        doc["errors"].append({"probe": key, "message": "Access is denied."})
    return doc


def facts(**changes: Any) -> GuestFacts:
    """Typed facts built like :func:`facts_doc` (``guest`` and ``unreadable`` may be among the changes)."""
    guest = str(changes.pop("guest", "vm"))
    unreadable = tuple(changes.pop("unreadable", ()))
    return parse_facts(facts_doc(guest, unreadable=unreadable, **changes), "selftest")


def write_facts(directory: Path, doc: dict[str, Any]) -> Path:
    """Write ``<directory>/<guest>.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{doc['guest']}.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Run:
    """What a child audit run left: exit code, terminal output, run directory and results.json."""

    code: int
    output: str
    run_dir: Path
    results: dict[str, Any]

    def outcome(self, guest: str, control: str) -> dict[str, Any]:
        return next(r for r in self.results["results"] if r["guest"] == guest and r["control"] == control)

    def outcomes(self) -> dict[tuple[str, str], str]:
        return {(r["guest"], r["control"]): r["outcome"] for r in self.results["results"]}


def run_audit(
    inventory: Path,
    reports: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    checks: tuple[str, ...] = ("tests",),
) -> Run:
    """Run the real checks of tests/ in a child pytest from the repository root, as a user would."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        *checks,
        "--inventory",
        str(inventory),
        "--report-dir",
        str(reports),
        *extra,
    ]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False, env=env, timeout=timeout)
    run_dirs = sorted(p for p in reports.glob("*") if p.is_dir()) if reports.exists() else []
    run_dir = run_dirs[-1] if run_dirs else reports
    path = run_dir / "results.json"
    results = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if results:
        # The audit does not validate what it writes (its results are built from typed values, and validating
        # 90,000 of them costs seconds): every run a self-test makes checks it against the schema instead.
        jsonschema.validate(results, results_schema())
    return Run(proc.returncode, proc.stdout + proc.stderr, run_dir, results)
