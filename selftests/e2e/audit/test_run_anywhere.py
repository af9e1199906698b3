"""The audit runs with its inputs anywhere, from any directory, with options in either form; it stays out of the way
of unrelated pytest sessions in the same environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hotpatch_audit.rules.registry import builtin_ids
from support import REPO, facts_doc, write_facts

BIN = Path(sys.executable).parent
LAUNCHERS = {"pytest": [str(BIN / "pytest")], "python -m pytest": [sys.executable, "-m", "pytest"]}


def inputs_outside(tmp_path: Path) -> dict[str, Path]:
    """An inventory, facts, an extra catalog, a policy and waivers, all outside the repository."""
    inputs = tmp_path / "inputs with space"
    write_facts(inputs / "facts", facts_doc("vm-ok"))
    write_facts(inputs / "facts", facts_doc("vm-restart", security__vbs_status=1))
    paths = {
        "inventory": inputs / "prod.yml",
        "facts-dir": inputs / "facts",
        "catalog": inputs / "extra-catalog.yml",
        "policy": inputs / "policy.yml",
        "waivers": inputs / "waivers.yml",
    }
    paths["inventory"].write_text("all:\n  children:\n    fleet:\n      hosts:\n        vm-ok:\n        vm-restart:\n")
    paths["catalog"].write_text("releases: []\n")
    paths["policy"].write_text("grace_days: 14\n")
    paths["waivers"].write_text(
        "waivers:\n  - guests: [vm-restart]\n    control: HP-04\n    justification: restart planned\n"
        "    approved_by: change board\n    expires: 2026-12-31\n"
    )
    return paths


def options(paths: dict[str, Path], *, equals: bool) -> list[str]:
    out: list[str] = []
    for name, path in paths.items():
        out += [f"--{name}={path}"] if equals else [f"--{name}", str(path)]
    return [*out, "--as-of=2026-05-27" if equals else "--as-of", *([] if equals else ["2026-05-27"])]


def results(reports: Path) -> dict[str, str]:
    (run_dir,) = reports.iterdir()
    data = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    return {f"{r['guest']} {r['control']}": r["outcome"] for r in data["results"]}


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
@pytest.mark.parametrize("equals", [False, True], ids=["--opt value", "--opt=value"])
@pytest.mark.parametrize("where", ["repository root", "another directory"])
def test_audit_with_inputs_outside_the_repository(tmp_path: Path, launcher: str, equals: bool, where: str) -> None:
    paths = inputs_outside(tmp_path)
    cwd = REPO if where == "repository root" else tmp_path / "elsewhere"
    cwd.mkdir(exist_ok=True)
    reports = tmp_path / "reports"
    tests = [] if cwd == REPO else [str(REPO / "tests")]
    command = [*LAUNCHERS[launcher], *tests, *options(paths, equals=equals), "--report-dir", str(reports)]
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, timeout=300)
    output = proc.stdout + proc.stderr
    assert "unrecognized arguments" not in output
    outcomes = results(reports)
    assert proc.returncode == 0, output  # the only failure (HP-04 of vm-restart) is waived
    assert outcomes["vm-restart HP-04"] == "waived"
    assert outcomes["vm-ok HP-04"] == "passed"
    assert len(outcomes) == 2 * len(builtin_ids())


def test_plugin_is_inert_in_an_unrelated_pytest_session(tmp_path: Path) -> None:
    (tmp_path / "test_other.py").write_text("def test_other():\n    assert 1 + 1 == 2\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test_other.py"]  # no reports/, no run directory
    assert "compliance:" not in proc.stdout
