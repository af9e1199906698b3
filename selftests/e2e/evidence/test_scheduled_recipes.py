"""The deploy/scheduled/ recipes, checked and played on recorded facts as their scheduler would run them.

systemd's units pass ``systemd-analyze verify``; the pipelines parse and have the structure their engines
need (a schedule, the artifact published even when the audit fails); every command in the scripts exists on
the command line; and each recipe's steps run unchanged in the engine's shell from a checkout of the
compliance checks, with the engine's own work (secrets, secure files, artifact upload) done by file copies.
The job fails on exit 1 (non-compliant) and 6 (could not check), the runs kept are the newest N, the trend is
drawn over them, and the published run verifies with the signing key.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditrun import ERROR_HP04, FAIL_HP04, write_fleet
from e2e.evidence.evidence import cli, make_key
from hotpatch_audit.__main__ import COMMANDS
from support import REPO

pytestmark = pytest.mark.e2e

SCHEDULED = REPO / "deploy" / "scheduled"
SCRIPTS = ("weekly-audit.sh", "readiness-gate.sh")


def checkout(tmp: Path) -> Path:
    """What a recipe runs from: the compliance checks and the scheduled scripts (the package is installed)."""
    root = tmp / "checkout"
    shutil.copytree(REPO / "tests", root / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(SCHEDULED, root / "deploy" / "scheduled")
    for name in ("conftest.py", "pyproject.toml"):
        shutil.copyfile(REPO / name, root / name)
    return root


def fleet(tmp: Path, name: str, changes: dict[str, Any]) -> dict[str, str]:
    """A recorded fleet of two guests, the second with `changes`; the variables that point a recipe at it."""
    inventory = write_fleet(tmp / name, {"hci-vm-01": {}, "hci-vm-02": changes})
    args = f"--facts-dir {tmp / name / 'facts'} --as-of 2026-05-27"
    return {"HOTPATCH_INVENTORY": str(inventory), "HOTPATCH_AUDIT_ARGS": args}


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPATCH_") or k == "HOTPATCH_AUDIT_DATA_DIR"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def sh(shell: list[str], script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*shell, script], cwd=cwd, env={**base_env(), **env}, capture_output=True, text=True, timeout=300, check=False
    )


def run_dirs(reports: Path) -> list[Path]:
    return sorted(p for p in reports.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def audit_help() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"], cwd=REPO, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_commands_exist_on_the_command_line(script: str, audit_help: str) -> None:
    text = (SCHEDULED / script).read_text(encoding="utf-8")
    assert subprocess.run(["bash", "-n", str(SCHEDULED / script)], check=False).returncode == 0
    found = re.findall(r"python -m (pytest|hotpatch_audit)\b(.*?)(?=\s*(?:\|\||&&|;|$))", text, flags=re.MULTILINE)
    assert found
    signing = re.search(r"sign=\((--[a-z-]+)", text)
    assert signing is not None
    assert signing.group(1) == "--sign-key"
    for program, rest in found:
        words = shlex.split(rest.replace("$HOTPATCH_AUDIT_ARGS", "").replace('"${sign[@]}"', ""))
        if program == "pytest":
            for option in [w for w in words if w.startswith("-") and w != "-m"] + ["--sign-key"]:
                assert re.search(rf"^\s+{re.escape(option)}[ =,]", audit_help, flags=re.MULTILINE), option
        else:
            parser = argparse.ArgumentParser(exit_on_error=False)
            importlib.import_module(COMMANDS[words[0]][0]).add_arguments(parser)
            parser.parse_args(words[1:])  # raises on an option or argument the command does not have


def test_systemd_units_verify_and_the_service_plays(tmp_path: Path) -> None:
    units = SCHEDULED / "systemd"
    analyze = shutil.which("systemd-analyze")
    if analyze is not None:
        checked = subprocess.run(
            [analyze, "verify", str(units / "hotpatch-audit.service"), str(units / "hotpatch-audit.timer")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stderr
        assert "hotpatch-audit" not in checked.stderr, checked.stderr  # no unknown keys or bad values in ours
        calendar = subprocess.run([analyze, "calendar", "Mon *-*-* 05:00:00"], capture_output=True, check=False)
        assert calendar.returncode == 0
    service = _unit(units / "hotpatch-audit.service")["Service"]
    timer = _unit(units / "hotpatch-audit.timer")
    assert timer["Timer"]["OnCalendar"] == ["Mon *-*-* 05:00:00"]
    assert timer["Install"]["WantedBy"] == ["timers.target"]
    assert service["Type"] == ["oneshot"]
    assert "SuccessExitStatus" not in service  # exit 1 and 6 must fail the unit
    (credential,) = service["LoadCredential"]
    assert credential.startswith("sign-key:")
    example = dict(
        line.split("=", 1) for line in (units / "audit.env.example").read_text().splitlines() if "=" in line[:40]
    )
    assert {"HOTPATCH_INVENTORY", "HOTPATCH_AUDIT_PASSWORD"} <= example.keys()
    (exec_start,) = service["ExecStart"]
    words = shlex.split(exec_start)
    assert words[1] == "/opt/hotpatch-audit/deploy/scheduled/weekly-audit.sh"
    assert service["WorkingDirectory"] == ["/opt/hotpatch-audit"]

    # Played: WorkingDirectory is the checkout, the credential directory holds the key as systemd hands it over.
    root = checkout(tmp_path)
    private, public = make_key(tmp_path / "etc")
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    shutil.copyfile(private, credentials / "sign-key")
    (credentials / "sign-key").chmod(0o400)
    env = dict(e.split("=", 1) for e in service["Environment"] if not e.startswith("PATH="))
    reports = tmp_path / "state" / "reports"
    env.update(HOTPATCH_REPORTS=str(reports), HOTPATCH_KEEP="2", CREDENTIALS_DIRECTORY=str(credentials))
    command = [words[0], str(root / "deploy" / "scheduled" / "weekly-audit.sh")]
    codes = []
    weeks: tuple[dict[str, Any], ...] = ({}, FAIL_HP04, ERROR_HP04)
    for week, changes in enumerate(weeks):
        week_env = {**env, **fleet(tmp_path, f"week-{week}", changes)}
        done = subprocess.run(
            command, cwd=root, env={**base_env(), **week_env}, capture_output=True, text=True, check=False
        )
        codes.append(done.returncode)
    assert codes == [0, 1, 6], done.stdout + done.stderr  # the unit fails when the fleet is not proven compliant
    kept = run_dirs(reports)
    assert len(kept) == 2  # HOTPATCH_KEEP: the oldest run was removed
    assert (reports / "trend.html").is_file()
    assert "hci-vm-02 (HP-04)" not in (reports / "trend.html").read_text()  # vm-02 errs in week 3: not a change
    for run_dir in kept:
        assert cli("verify", str(run_dir), "--key", str(public), "--allow-incomplete").returncode == 0
        assert not (run_dir / "sign-key").exists()


def test_tampered_stored_run_fails_a_compliant_week(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    reports = tmp_path / "reports"
    env = {"HOTPATCH_REPORTS": str(reports)}
    script = str(root / "deploy" / "scheduled" / "weekly-audit.sh")
    assert sh(["bash"], script, {**env, **fleet(tmp_path, "w1", {})}, root).returncode == 0
    (run_dirs(reports)[0] / "results.json").write_text("{}")
    done = sh(["bash"], script, {**env, **fleet(tmp_path, "w2", {})}, root)
    assert done.returncode == 10, done.stdout + done.stderr
    assert "a stored run was changed" in done.stderr
    bad_keep = sh(["bash"], script, {**env, "HOTPATCH_KEEP": "0", **fleet(tmp_path, "w3", {})}, root)
    assert bad_keep.returncode == 2
    assert "HOTPATCH_KEEP" in bad_keep.stderr


def test_azure_pipelines_weekly_and_the_readiness_gate(tmp_path: Path) -> None:
    doc = yaml.safe_load((SCHEDULED / "azure-pipelines" / "weekly-audit.yml").read_text(encoding="utf-8"))
    assert doc["trigger"] == "none"
    (schedule,) = doc["schedules"]
    assert schedule["cron"] == "0 5 * * 1"
    assert schedule["always"] is True  # weekly even when nothing was committed
    steps = doc["steps"]
    (publish,) = [s for s in steps if "publish" in s]
    assert publish["condition"] == "always()"  # the evidence is published when the audit fails too
    secure = next(s for s in steps if s.get("task") == "DownloadSecureFile@1")
    root = checkout(tmp_path)
    private, public = make_key(tmp_path / "agent-temp")
    private.chmod(0o644)  # as a downloaded secure file may be
    staging = tmp_path / "staging"
    macros = {
        f"$({secure['name']}.secureFilePath)": str(private),
        "$(Build.ArtifactStagingDirectory)": str(staging),
        "$(HOTPATCH_AUDIT_PASSWORD)": "not-used-in-replay",
    }

    def expand(text: str) -> str:
        for macro, value in macros.items():
            text = text.replace(macro, value)
        return text

    variables = {k: str(v) for k, v in doc["variables"].items()}
    reports = tmp_path / "srv" / "reports"
    variables.update(fleet(tmp_path, "fleet", FAIL_HP04), HOTPATCH_REPORTS=str(reports))
    variables["AGENT_TEMPDIRECTORY"] = str(tmp_path / "agent-temp")
    shell = ["bash", "--noprofile", "--norc", "-c"]
    results = {}
    for step in steps:
        if "bash" not in step or step.get("displayName") == "install hotpatch-audit":
            continue
        env = {**variables, **{k: expand(str(v)) for k, v in step.get("env", {}).items()}}
        results[step["displayName"]] = sh(shell, expand(step["bash"]), env, root)
    assert results["make the signing key private"].returncode == 0
    weekly = results["weekly audit"]
    assert weekly.returncode == 1, weekly.stdout + weekly.stderr  # non-compliant: the job fails
    published = staging / "hotpatch-audit"
    (run_dir,) = [p for p in published.iterdir() if p.is_dir()]
    assert (published / "trend.html").is_file()
    assert cli("verify", str(run_dir), "--key", str(public)).returncode == 0

    gate = yaml.safe_load((SCHEDULED / "azure-pipelines" / "readiness-gate.yml").read_text(encoding="utf-8"))
    assert [p["name"] for p in gate["parameters"]] == ["inventory", "auditArgs"]
    step = next(s for s in gate["steps"] if s.get("displayName") == "readiness gate")
    assert any(s.get("condition") == "always()" for s in gate["steps"] if "publish" in s)
    cases: tuple[tuple[dict[str, Any], int, str], ...] = (
        ({}, 0, "READY"),
        (FAIL_HP04, 1, "NOT READY"),
        (ERROR_HP04, 6, "COULD NOT CHECK"),
    )
    for number, (changes, code, says) in enumerate(cases):
        target = fleet(tmp_path, f"gate-{number}", changes)
        params = {"${{ parameters.inventory }}": target["HOTPATCH_INVENTORY"]}
        params["${{ parameters.auditArgs }}"] = target["HOTPATCH_AUDIT_ARGS"]
        env = {}
        for k, v in step["env"].items():
            value = expand(str(v))
            for macro, text in params.items():
                value = value.replace(macro, text)
            env[k] = value
        assert "${{" not in "".join(env.values())
        done = sh(shell, step["bash"], {**env, "AGENT_TEMPDIRECTORY": str(tmp_path)}, root)
        assert done.returncode == code, done.stdout + done.stderr  # 1 and 6 fail the job: the window stays shut
        assert f"readiness gate: {says}" in done.stdout + done.stderr
        (gate_run,) = run_dirs(staging / "readiness")[number:]
        assert sorted({r["control"] for r in _results(gate_run)}) == ["HP-01", "HP-03", "HP-04", "HP-06", "HP-07"]


def test_github_actions_weekly(tmp_path: Path) -> None:
    doc = yaml.safe_load((SCHEDULED / "github-actions" / "hotpatch-audit-weekly.yml").read_text(encoding="utf-8"))
    triggers = doc[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"] == [{"cron": "0 5 * * 1"}]
    assert doc["permissions"] == {"contents": "read"}
    job = doc["jobs"]["audit"]
    upload = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"
    root = checkout(tmp_path)
    private, public = make_key(tmp_path / "secrets")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    expressions = {
        "${{ secrets.HOTPATCH_SIGN_KEY }}": private.read_text(),
        "${{ secrets.HOTPATCH_AUDIT_PASSWORD }}": "not-used-in-replay",
        "${{ runner.temp }}": str(runner_temp),
    }

    def expand(text: str) -> str:
        for expression, value in expressions.items():
            text = text.replace(expression, value)
        assert "${{" not in text, text
        return text

    reports = tmp_path / "srv" / "reports"
    job_env = {k: str(v) for k, v in job["env"].items()}
    job_env.update(fleet(tmp_path, "fleet", FAIL_HP04), HOTPATCH_REPORTS=str(reports), RUNNER_TEMP=str(runner_temp))
    shell = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]  # GitHub's bash shell
    codes = {}
    for step in job["steps"]:
        if "run" not in step or step["name"] == "install hotpatch-audit":
            continue
        env = {**job_env, **{k: expand(str(v)) for k, v in step.get("env", {}).items()}}
        done = sh(shell, expand(step["run"]), env, root)
        codes[step["name"]] = done.returncode
        if step["name"] == "weekly audit":
            assert not (runner_temp / "sign-key").stat().st_mode & 0o077  # the key step made it private
            published = Path(expand(upload["with"]["path"]))
            (run_dir,) = [p for p in published.iterdir() if p.is_dir()]
            assert (published / "trend.html").is_file()
            assert cli("verify", str(run_dir), "--key", str(public)).returncode == 0
    assert codes == {"signing key": 0, "weekly audit": 1, "remove the signing key": 0}
    assert not (runner_temp / "sign-key").exists()


def _results(run_dir: Path) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))["results"]
    return results


def _unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file as sections of keys, each with every value it was given."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        else:
            key, _, value = line.partition("=")
            current.setdefault(key, []).append(value)
    return sections
