"""The real checks in tests/, run in a child pytest on recorded facts: the exact outcome of every control.

Every control has a passing and a failing example. The child process is the only bridge between the
self-tests and the compliance run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hotpatch_audit.run.results import results_schema
from support import REPO, Run, facts_doc, run_audit, write_facts

CONTROLS = ("HP-01", "HP-02", "HP-03", "HP-04", "HP-05", "HP-06", "HP-07", "HP-08", "HP-09")
NOT_AZURE = dict.fromkeys(("HP-02", "HP-03", "HP-04", "HP-05", "HP-06", "HP-08", "HP-09"), "skipped")
PLAIN_DATACENTER = {"os__operating_system_sku": 8, "os__edition_id": "ServerDatacenter", "os__caption": None}
BASELINE_ONLY = {"os__ubr": 5020, "hotfixes": [{"id": "KB5082142", "installed_on": "2026-04-15"}]}

GOLDEN: dict[str, tuple[dict[str, Any], tuple[str, ...], dict[str, str]]] = {
    "pass-ws2022": ({}, (), {}),
    "pass-ws2025": ({"os__current_build": 26100, "os__ubr": 32772, "hotpatch__hotpatch_table_size": None}, (), {}),
    "fail-hp01": (PLAIN_DATACENTER, (), {"HP-01": "failed", **NOT_AZURE}),
    "fail-hp02": ({"security__secure_boot_enabled": False}, (), {"HP-02": "failed"}),
    "fail-hp03": ({**BASELINE_ONLY, "hotpatch__hotpatch_table_size": 0}, (), {"HP-03": "failed", "HP-05": "failed"}),
    "fail-hp04": ({"security__vbs_status": 1}, (), {"HP-04": "failed"}),
    "fail-hp05": ({"os__ubr": 4830}, (), {"HP-05": "failed"}),
    "fail-hp06": ({"os__ubr": 5139}, (), {"HP-06": "failed"}),
    "fail-hp07": ({"reboot_pending__windows_update": True}, (), {"HP-07": "failed"}),
    "error-vbs-unread": ({}, ("security.vbs_status",), {"HP-04": "error"}),
    "error-unknown-build": ({"os__ubr": 5300}, (), {"HP-05": "error", "HP-06": "error"}),
    "error-sku-unread": ({}, ("os.operating_system_sku",), {"HP-01": "error"}),
}
ALL_ERROR = dict.fromkeys(CONTROLS, "error")


def run_checks(tmp: Path, guests: list[str], *extra: str) -> Run:
    inventory = tmp / "inventory.yml"
    hosts = "".join(f"        {g}:\n" for g in guests)
    inventory.write_text(
        "all:\n  vars:\n    hotpatch_password_env: HOTPATCH_CONTRACT_PASSWORD_UNSET\n"
        f"  children:\n    fleet:\n      hosts:\n{hosts}"
    )
    return run_audit(inventory, tmp / "reports", "--facts-dir", str(tmp / "facts"), "--as-of", "2026-05-27", *extra)


@pytest.fixture(scope="module")
def golden_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("contract")
    for guest, (changes, unreadable, _) in GOLDEN.items():
        write_facts(tmp / "facts", facts_doc(guest, unreadable=unreadable, **changes))
    (tmp / "facts" / "error-malformed.json").write_text('{"schema_version": 1, "guest": "error-malformed"')
    return run_checks(tmp, [*GOLDEN, "error-malformed", "error-missing"])


@pytest.mark.parametrize("guest", list(GOLDEN))
def test_golden_outcomes(golden_run: Run, guest: str) -> None:
    expected = {c: GOLDEN[guest][2].get(c, "passed") for c in CONTROLS}
    actual = {c: golden_run.outcomes().get((guest, c)) for c in CONTROLS}
    assert actual == expected


@pytest.mark.parametrize("guest", ["error-malformed", "error-missing"])
def test_a_guest_without_valid_facts_is_error_on_every_control_and_alone(golden_run: Run, guest: str) -> None:
    assert {c: golden_run.outcomes()[(guest, c)] for c in CONTROLS} == ALL_ERROR
    assert golden_run.outcomes()[("pass-ws2022", "HP-01")] == "passed"


def test_every_non_passed_outcome_has_a_one_line_message(golden_run: Run) -> None:
    for result in golden_run.results["results"]:
        if result["outcome"] != "passed":
            assert result["message"], result
            assert "\n" not in result["message"]
    messages = {(r["guest"], r["control"]): r["message"] for r in golden_run.results["results"]}
    assert (
        "VirtualizationBasedSecurityStatus is 1 (enabled, not running): restart required"
        in messages[("fail-hp04", "HP-04")]
    )
    assert "error-malformed.json:1: not valid JSON" in messages[("error-malformed", "HP-01")]


def test_results_json_validates_against_its_schema(golden_run: Run) -> None:
    jsonschema.validate(golden_run.results, results_schema())
    assert golden_run.results["run"]["as_of"] == "2026-05-27"
    assert golden_run.results["run"]["catalog_newest"] == {"20348": "2026-05", "26100": "2026-05"}


def test_run_directory_has_all_artifacts(golden_run: Run) -> None:
    for name in ("report.html", "results.json", "junit.xml"):
        assert (golden_run.run_dir / name).is_file(), name
    stored = sorted(p.name for p in (golden_run.run_dir / "facts").iterdir())
    assert stored == sorted(f"{g}.json" for g in GOLDEN)


def test_terminal_ends_with_the_compliance_line(golden_run: Run) -> None:
    last = golden_run.output.rstrip().splitlines()[-1]
    assert last.startswith("compliance: 14 guests, 2 compliant, 7 non-compliant, 5 not evaluated \u2014 ")
    assert last.endswith("report.html")


def test_test_ids_carry_only_the_guest_name(golden_run: Run) -> None:
    for result in golden_run.results["results"]:
        assert result["test"].endswith(f"[{result['guest']}]")


def test_readiness_gate_runs_only_readiness_controls(tmp_path: Path) -> None:
    write_facts(tmp_path / "facts", facts_doc("vm"))
    run = run_checks(tmp_path, ["vm"], "-m", "readiness")
    assert sorted(c for _, c in run.outcomes()) == ["HP-01", "HP-03", "HP-04", "HP-06", "HP-07"]


@pytest.mark.parametrize(
    ("inventory", "expected"),
    [
        ("all:\n  hosts: [a, b\n", "YAML syntax error"),
        ("all:\n  hosts:\n    - a\n", ":2: all.hosts: hosts of group 'all' must be a mapping"),
        ("all:\n  children:\n    web: some-string\n", ":3: all.children.web: group 'web' must be a mapping"),
    ],
)
def test_malformed_inventory_is_a_short_usage_error(tmp_path: Path, inventory: str, expected: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(inventory)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "--inventory", str(path), "--facts-dir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 4
    assert expected in proc.stderr
    assert str(path) in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_malformed_policy_is_a_short_usage_error(tmp_path: Path) -> None:
    write_facts(tmp_path / "facts", facts_doc("vm"))
    policy = tmp_path / "policy.yml"
    policy.write_text("grace_days: -3\n")
    run = run_checks(tmp_path, ["vm"], "--policy", str(policy))
    assert run.code == 4
    assert f"{policy}:1: grace_days: must be a whole number of days" in run.output
    assert "Traceback" not in run.output


def test_policy_disables_a_control_with_its_reason(tmp_path: Path) -> None:
    write_facts(tmp_path / "facts", facts_doc("vm", reboot_pending__windows_update=True))
    policy = tmp_path / "policy.yml"
    policy.write_text("disabled_controls:\n  - {control: HP-07, reason: handled by the patch pipeline}\n")
    run = run_checks(tmp_path, ["vm"], "--policy", str(policy))
    result = next(r for r in run.results["results"] if r["control"] == "HP-07")
    assert result["outcome"] == "skipped"
    assert "handled by the patch pipeline" in result["message"]


def test_xdist_gives_the_same_results_as_a_serial_run(tmp_path: Path, golden_run: Run) -> None:
    for guest, (changes, unreadable, _) in GOLDEN.items():
        write_facts(tmp_path / "facts", facts_doc(guest, unreadable=unreadable, **changes))
    (tmp_path / "facts" / "error-malformed.json").write_text('{"schema_version": 1, "guest": "error-malformed"')
    parallel = run_checks(tmp_path, [*GOLDEN, "error-malformed", "error-missing"], "-n", "2")

    def normalised(run: Run, facts_dir: Path) -> str:
        return json.dumps(run.results["results"]).replace(str(facts_dir), "FACTS")

    assert normalised(parallel, tmp_path / "facts") == normalised(
        golden_run, golden_run.run_dir.parent.parent / "facts"
    )
    assert parallel.results["controls"] == golden_run.results["controls"]
    assert sorted(p.name for p in (parallel.run_dir / "facts").iterdir()) == sorted(
        p.name for p in (golden_run.run_dir / "facts").iterdir()
    )
    assert (parallel.run_dir / "report.html").is_file()


def test_a_host_run_check_is_error_when_replaying(tmp_path: Path) -> None:
    write_facts(tmp_path / "facts", facts_doc("vm"))
    custom = tmp_path / "site" / "test_site.py"
    custom.parent.mkdir()
    custom.write_text(
        "from hotpatch_audit.checks import control\n\n\n"
        '@control("SITE-01", title="t", severity="low", azure_edition_only=False)\n'
        "def test_site(winrm_host) -> None:\n"
        '    """Needs the guest."""\n'
        '    assert winrm_host.run("hostname").rc == 0\n'
    )
    run = run_checks(tmp_path, ["vm"], str(custom))
    result = run.outcome("vm", "SITE-01")
    assert result["outcome"] == "error"
    assert "cannot run when replaying --facts-dir" in result["message"]
    assert run.outcome("vm", "HP-01")["outcome"] == "passed"
