"""End to end: the real plugin audits the demo fleet through real pywinrm and testinfra over loopback HTTP.

The simulator runs in this process; the audit is a child pytest, exactly as a user runs it. Nothing in the
transport is mocked.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.live.livesupport import PASSWORD, PASSWORD_ENV  # one password per user for all fleets of this process
from hotpatch_audit.testing.simulator import DEMO_FLEET, RunningFleet, load_fleet, serve_fleet
from support import Run, run_audit

pytestmark = pytest.mark.e2e

CONTROLS = ("HP-01", "HP-02", "HP-03", "HP-04", "HP-05", "HP-06", "HP-07", "HP-08", "HP-09")
ALL_PASS: dict[str, str] = {}
ALL_ERROR = dict.fromkeys(CONTROLS, "error")
EXPECTED: dict[str, dict[str, str]] = {
    "hci-vm-01": ALL_PASS,
    "hci-vm-02": ALL_PASS,
    "hci-vm-03": ALL_PASS,
    "hci-vm-04": {"HP-01": "failed", **dict.fromkeys(set(CONTROLS) - {"HP-01", "HP-07"}, "skipped")},
    "hci-vm-05": {"HP-03": "failed", "HP-05": "failed"},
    "hci-vm-06": {"HP-04": "failed"},
    "hci-vm-07": {"HP-07": "failed"},
    "hci-vm-08": {"HP-05": "failed"},
    "hci-vm-09": {"HP-03": "failed", "HP-06": "failed", "HP-08": "failed"},
    "hci-vm-10": ALL_ERROR,
    "hci-vm-11": ALL_ERROR,
    "hci-vm-12": ALL_ERROR,
    "hci-vm-13": ALL_PASS,
    "hci-vm-14": {"HP-04": "error"},
    "hci-vm-15": ALL_PASS,
    "hci-vm-16": {"HP-07": "failed"},
    "hci-vm-17": ALL_ERROR,
    "hci-vm-18": ALL_ERROR,
    "hci-vm-19": {"HP-01": "error"},
    "hci-vm-20": {"HP-03": "error", "HP-05": "failed"},
    "hci-vm-21": {"HP-04": "error"},
    "hci-vm-22": {"HP-07": "failed"},
    "hci-vm-23": {"HP-08": "failed"},
    "hci-vm-24": {"HP-08": "error"},
}
CAUSES = {
    "hci-vm-10": "connection refused",
    "hci-vm-11": "credentials refused (HTTP 401)",
    "hci-vm-12": "not valid base64 JSON",
    "hci-vm-14": "(security.vbs_status) could not be read: Access denied",
    "hci-vm-17": "not ASCII",
    "hci-vm-18": "The command line is too long.",
    "hci-vm-19": "OperatingSystemSKU is 409 (PRODUCT_DATACENTER_WS_SERVER_CORE_AZURE_EDITION)",
    "hci-vm-20": "no hotpatch is installed yet (current build 26100.32690",
    "hci-vm-21": "(security.vbs_status) could not be read: Not found",
    "hci-vm-22": "pending domain join",
    "hci-vm-23": "2026-03: installed standard update KB5078766 (20348.4893) on 2026-03-11 instead of KB5078737; "
    "restarted 2026-03-12T02:01:00Z (requested by C:\\Windows\\system32\\svchost.exe (HCI-VM-23), reason 0x80020010)",
    "hci-vm-24": "(history.log_start) could not be read: Attempted to perform an unauthorized operation.",
}


def messages(run: Run, guest: str) -> str:
    return " | ".join(r["message"] for r in run.results["results"] if r["guest"] == guest)


def outcomes(run: Run, guest: str) -> dict[str, str]:
    return {c: o for (g, c), o in run.outcomes().items() if g == guest}


@pytest.fixture(scope="module")
def fleet() -> Iterator[RunningFleet]:
    # The demo fleet as is, except that the basic run talks plain http: opt in, as AllowUnencrypted would.
    demo = dataclasses.replace(load_fleet(DEMO_FLEET), allow_unencrypted=True)
    with serve_fleet(demo, password=PASSWORD, password_env=PASSWORD_ENV) as running:
        yield running


def audit(fleet: RunningFleet, tmp: Path, transport: str, *extra: str) -> Run:
    tmp.mkdir(parents=True, exist_ok=True)
    plaintext = {"hotpatch_allow_plaintext_basic": True} if transport == "basic" else {}
    inventory = fleet.write_inventory(tmp / f"inventory-{transport}.yml", transport=transport, **plaintext)
    env = {**os.environ, PASSWORD_ENV: PASSWORD}
    extra = ("--as-of", "2026-05-27", "--deadline", "20", "-rA", *extra)
    return run_audit(inventory, tmp / f"reports-{transport}", *extra, env=env)


@pytest.fixture(scope="module", params=["ntlm", "basic"])
def live(request: pytest.FixtureRequest, fleet: RunningFleet, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return audit(fleet, tmp_path_factory.mktemp(request.param), request.param)


@pytest.mark.parametrize("guest", list(EXPECTED))
def test_every_demo_guest_has_its_expected_outcomes(live: Run, guest: str) -> None:
    expected = {c: EXPECTED[guest].get(c, "passed") for c in CONTROLS}
    assert outcomes(live, guest) == expected, messages(live, guest)


@pytest.mark.parametrize("guest", list(CAUSES))
def test_fault_modes_name_their_cause(live: Run, guest: str) -> None:
    assert CAUSES[guest] in messages(live, guest)


def test_collected_facts_are_stored_and_valid(live: Run) -> None:
    stored = sorted(p.stem for p in (live.run_dir / "facts").iterdir())
    failed = {"hci-vm-10", "hci-vm-11", "hci-vm-12", "hci-vm-17", "hci-vm-18"}
    assert stored == sorted(set(EXPECTED) - failed)
    facts = json.loads((live.run_dir / "facts" / "hci-vm-01.json").read_text())
    assert facts["os"]["operating_system_sku"] == 408
    assert (facts["os"]["current_build"], facts["os"]["ubr"]) == (20348, 5074)


def test_every_outcome_kind_is_shown(live: Run) -> None:
    kinds = {r["outcome"] for r in live.results["results"]}
    assert {"passed", "failed", "error", "skipped"} <= kinds
    assert live.output.rstrip().splitlines()[-1].startswith("compliance: 24 guests, 5 compliant, 10 non-compliant")


def test_password_leaks_nowhere(fleet: RunningFleet, tmp_path: Path) -> None:
    runs = [audit(fleet, tmp_path / "serial", "ntlm"), audit(fleet, tmp_path / "xdist", "ntlm", "-n", "2")]
    for run in runs:
        assert PASSWORD not in run.output
        for path in run.run_dir.rglob("*"):
            if path.is_file():
                assert PASSWORD.encode() not in path.read_bytes(), path
        for result in run.results["results"]:
            assert PASSWORD not in result["test"]
            assert PASSWORD not in result["message"]
        assert outcomes(run, "hci-vm-01") == dict.fromkeys(CONTROLS, "passed")


CUSTOM_CHECK = '''
from hotpatch_audit.checks import control


@control("SITE-01", title="cmd.exe answers", severity="low", azure_edition_only=False)
def test_hostname_answers(winrm_host) -> None:
    """A site's own check, written with testinfra's host API on the guest's audit connection."""
    result = winrm_host.run("hostname")
    assert result.rc == 0, result.stderr
'''


def test_users_add_their_own_host_run_checks(fleet: RunningFleet, tmp_path: Path) -> None:
    custom = tmp_path / "site" / "test_site.py"
    custom.parent.mkdir()
    custom.write_text(CUSTOM_CHECK)
    run = audit(fleet, tmp_path, "ntlm", "--limit", "hci-vm-01,hci-vm-10", str(custom))
    assert run.outcomes()[("hci-vm-01", "SITE-01")] == "passed"
    assert run.outcomes()[("hci-vm-10", "SITE-01")] == "error"
    assert "connection refused" in run.outcome("hci-vm-10", "SITE-01")["message"]
    assert run.outcomes()[("hci-vm-01", "HP-01")] == "passed"


def test_basic_over_http_is_refused_unless_the_inventory_allows_it(fleet: RunningFleet, tmp_path: Path) -> None:
    inventory = fleet.write_inventory(tmp_path / "basic.yml", transport="basic")
    env = {**os.environ, PASSWORD_ENV: PASSWORD}
    run = run_audit(inventory, tmp_path / "reports", "--as-of", "2026-05-27", env=env)
    assert run.code == 4, run.output
    assert "transport basic over http would send the password in clear" in run.output
    assert not (tmp_path / "reports").exists()


def test_allowed_plaintext_basic_is_named_in_the_evidence(live: Run) -> None:
    allowed = live.results["run"]["plaintext_basic"]
    if "inventory-basic" in live.results["run"]["inventory"]:
        assert "hci-vm-01" in allowed
        assert "Basic authentication over plain http" in (live.run_dir / "report.html").read_text()
    else:
        assert allowed == []
