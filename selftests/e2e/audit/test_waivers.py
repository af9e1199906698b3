"""Waivers in a run: what a waived result looks like, and a malformed file stops the run before any guest is
contacted. The file format, matching and expiry are unit self-tests (unit/inputs/test_waivers.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditrun import ERROR_HP04, FAIL_HP04, FAIL_HP07, Run, audit, result_rows, write_fleet
from support import REPO

ENTRY = "  - guests: [{guests}]\n    control: {control}\n    justification: {why}\n    approved_by: CAB\n"
ENTRY += "    expires: {expires}\n"


def waiver_file(path: Path, *entries: dict[str, str]) -> Path:
    defaults = {"why": "accepted risk", "expires": "2026-12-31"}
    path.write_text("waivers:\n" + "".join(ENTRY.format(**{**defaults, **e}) for e in entries))
    return path


# --- a waived run ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def waived_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("waived")
    write_fleet(
        tmp,
        {"active": FAIL_HP04, "expired": FAIL_HP07, "soon": ERROR_HP04, "nofacts": None, "fine": {}},
    )
    waivers = waiver_file(
        tmp / "waivers.yml",
        {"guests": "active", "control": "HP-04", "why": "restart planned", "expires": "2026-12-31"},
        {"guests": "expired", "control": "HP-07", "expires": "2026-05-01"},
        {"guests": "soon", "control": "HP-04", "why": "WMI repair pending", "expires": "2026-06-03"},
        {"guests": "nofacts", "control": "HP-01", "why": "guest being rebuilt"},
        {"guests": "decommissioned-*", "control": "HP-05"},
        {"guests": "fine", "control": "HP-02"},
    )
    return audit(tmp, "--waivers", str(waivers))


def test_an_active_waiver_turns_a_failure_into_waived_keeping_the_failure(waived_run: Run) -> None:
    result = waived_run.outcome("active", "HP-04")
    assert result["outcome"] == "waived"
    assert "VirtualizationBasedSecurityStatus is 1 (enabled, not running): restart required" in result["message"]
    assert result["waiver"] == {
        "entry": 1,
        "justification": "restart planned",
        "approved_by": "CAB",
        "expires": "2026-12-31",
        "ticket": None,
        "underlying_outcome": "failed",
    }
    assert "WAIVED  active  HP-04 (failed) VirtualizationBasedSecurityStatus is 1" in waived_run.output
    assert "waiver #1 until 2026-12-31" in waived_run.output


def test_a_waiver_on_an_error_outcome_keeps_the_error(waived_run: Run) -> None:
    soon = waived_run.outcome("soon", "HP-04")
    assert soon["outcome"] == "waived"
    assert soon["waiver"]["underlying_outcome"] == "error"
    assert "security.vbs_status" in soon["message"]
    missing = waived_run.outcome("nofacts", "HP-01")
    assert missing["outcome"] == "waived"
    assert missing["waiver"]["underlying_outcome"] == "error"
    assert "no facts file for guest 'nofacts'" in missing["message"]
    assert waived_run.outcome("nofacts", "HP-02")["outcome"] == "error"


def test_an_expired_waiver_is_ignored_with_a_note(waived_run: Run) -> None:
    result = waived_run.outcome("expired", "HP-07")
    assert result["outcome"] == "failed"
    assert result["waiver"] is None
    assert result["message"].endswith("(waiver #2 expired on 2026-05-01)")
    assert "waiver #2 HP-07 on expired" in waived_run.output
    assert "waiver expired on 2026-05-01: ignored" in waived_run.output


def test_expiring_and_unmatched_waivers_are_listed(waived_run: Run) -> None:
    section = waived_run.output.split(" waivers ", 1)[1]
    assert "waiver #3 HP-04 on soon" in section
    assert "expires in 7 days" in section
    assert "waiver #5 HP-05 on decommissioned-*" in section
    assert "matched nothing: no guest or group of the inventory matches its guests" in section
    assert "waiver #6 HP-02 on fine" in section
    assert "matched nothing: HP-02 did not fail or error on its 1 guest(s)" in section
    assert "waiver #1 " not in section
    entries = {e["entry"]: e for e in waived_run.results["waivers"]["entries"]}
    assert [entries[n]["state"] for n in range(1, 7)] == ["active", "expired", "expiring", "active", "active", "active"]
    assert [entries[n]["waived"] for n in range(1, 7)] == [1, 0, 1, 1, 0, 0]


def test_waived_guests_count_as_compliant(waived_run: Run) -> None:
    statuses = {g["guest"]: g["status"] for g in waived_run.results["guests"]}
    assert statuses == {
        "active": "compliant",
        "expired": "non-compliant",
        "soon": "compliant",
        "nofacts": "not evaluated",
        "fine": "compliant",
    }


def test_junit_keeps_control_severity_guest_and_waiver(waived_run: Run) -> None:
    junit = ET.parse(waived_run.run_dir / "junit.xml")  # noqa: S314 - the suite's own output
    cases = {c.get("name"): c for c in junit.iter("testcase")}
    case = cases["test_restarted_after_enablement[soon]"]
    props = {p.get("name"): p.get("value", "") for p in case.iter("property")}
    assert props["guest"] == "soon"
    assert props["control"] == "HP-04"
    assert props["severity"] == "high"
    assert props["outcome"] == "waived"
    assert props["waiver.approved_by"] == "CAB"
    assert props["waiver.expires"] == "2026-06-03"
    assert props["waiver.underlying_outcome"] == "error"
    assert "security.vbs_status" in props["message"]
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.get("type") == "pytest.xfail"
    assert skipped.get("message", "").startswith("waived: WMI repair pending (approved by CAB until 2026-06-03")


def test_the_html_report_shows_a_waived_result_with_its_waiver(waived_run: Run) -> None:
    rows = {(row["guest"], row["controls"]): row for row in result_rows(waived_run.run_dir / "report.html")}
    row = rows[("active", "HP-04")]
    assert row["outcome"] == "waived"
    assert "waiver #1: restart planned; approved by CAB until 2026-12-31" in row["message"]
    assert "underlying outcome failed" in row["message"]
    assert rows[("soon", "HP-04")]["outcome"] == "waived"


# --- a malformed file stops the run before any guest is contacted ---------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """A loopback port that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            seen.append("connection")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


def _live_audit(tmp_path: Path, port: int, waivers: Path) -> subprocess.CompletedProcess[str]:
    inventory = tmp_path / "live.yml"
    inventory.write_text(
        "all:\n  vars:\n    ansible_winrm_scheme: http\n    ansible_winrm_transport: basic\n"
        "    hotpatch_allow_plaintext_basic: true\n"
        "    ansible_user: auditor\n    hotpatch_password_env: HOTPATCH_SELFTEST_PASSWORD\n"
        "    ansible_winrm_read_timeout_sec: 3\n    ansible_winrm_operation_timeout_sec: 2\n"
        f"  hosts:\n    live-1:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n"
    )
    return subprocess.run(
        [
            sys.executable, "-m", "pytest", "tests", "--inventory", str(inventory), "--waivers", str(waivers),
            "--report-dir", str(tmp_path / "reports"), "--deadline", "3", "-p", "no:randomly",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "HOTPATCH_SELFTEST_PASSWORD": "not-a-real-password"},
    )  # fmt: skip


def test_a_malformed_waiver_file_stops_the_run_before_connecting(
    tmp_path: Path, listener: tuple[int, list[str]]
) -> None:
    port, seen = listener
    bad = tmp_path / "bad.yml"
    bad.write_text("waivers:\n  - guests: [live-1]\n    control: HP-04\n    expires: tomorrow\n")
    proc = _live_audit(tmp_path, port, bad)
    assert proc.returncode == 4
    assert f"{bad}:2: waivers.0: 'justification' is required" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert seen == []
    assert not (tmp_path / "reports").exists()
    # The same audit with a valid file does connect: the listener would have seen a premature connection.
    good = waiver_file(tmp_path / "good.yml", {"guests": "live-1", "control": "HP-04"})
    assert _live_audit(tmp_path, port, good).returncode == 6
    assert seen
