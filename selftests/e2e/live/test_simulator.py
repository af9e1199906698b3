"""The simulator on its own: fleet files, the PowerShell 5.1 output shape, cmd.exe answers, scale, the CLI."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from e2e.live.livesupport import PASSWORD
from hotpatch_audit.collect.collector import build_script, collect
from hotpatch_audit.collect.powershell import STDIN_LOADER, powershell_command, stdin_payload
from hotpatch_audit.inputs.inventory import load_inventory
from hotpatch_audit.testing.simulator import DEMO_FLEET, Fleet, FleetError, Hotfix, load_fleet, serve_fleet
from hotpatch_audit.testing.simulator.shell import run

pytestmark = pytest.mark.e2e
NOT_RECOGNIZED = b"'ver2' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"


def test_demo_fleet_models_every_scenario() -> None:
    fleet = load_fleet(DEMO_FLEET)
    assert len(fleet.guests) >= 12
    assert fleet.guest("hci-vm-01").sku == 408
    assert fleet.guest("hci-vm-04").edition_id == "ServerDatacenter"
    assert fleet.guest("hci-vm-05").enrollment_name is None
    assert fleet.guest("hci-vm-09").build == "20348.5139"
    faults = {f for g in fleet.guests for f, v in dataclasses.asdict(g.faults).items() if v}
    assert faults >= {"port_closed", "credentials_refused", "garbage_output", "latency_ms", "access_denied"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("guests:\n  vm1:\n    skuu: 8\n", "fleet.yml:5: guests.vm1.skuu: unknown key 'skuu'"),
        ("guests:\n  vm1:\n    template: nope\n", "fleet.yml:5: guests.vm1.template: unknown template 'nope'"),
        ("guests:\n  vm1:\n    build: '20348'\n", "guests.vm1.build: build must look like 20348.5074"),
        (
            "guests:\n  vm1:\n    build: '1.2'\n    faults: {latency_ms: slow}\n",
            "guests.vm1.faults.latency_ms: must be a whole",
        ),
        ("guests: []\n", "guests: must map guest names"),
        ("guests:\n  vm1: {sku: 8}\n", "fleet.yml:4: guests.vm1: guest 'vm1' has no build"),
    ],
)
def test_fleet_errors_name_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "fleet.yml"
    path.write_text("user: auditor\npassword_env: X\n" + text, encoding="utf-8")
    with pytest.raises(FleetError, match=re.escape(message)):
        load_fleet(path)


def test_collector_output_has_the_powershell_51_shape() -> None:
    state = load_fleet(DEMO_FLEET).guest("hci-vm-01")
    state = dataclasses.replace(state, hotfixes=(Hotfix("KB5087424", "Security Update", date(2026, 5, 13)),))
    outcome = run(state, powershell_command(STDIN_LOADER), stdin_payload(build_script()), 437)
    assert outcome.rc == 0
    text = base64.b64decode(outcome.stdout).decode("utf-8")
    assert '"os.last_boot_up_time":"\\/Date(1776219000000)\\/"' in text
    values = json.loads(text)["values"]
    assert values["os.current_build"] == "20348"  # REG_SZ
    assert values["hotfixes"] == {"HotFixID": "KB5087424", "Description": "Security Update", "InstalledOn": "5/13/2026"}
    assert values["reboot_pending.pending_file_rename"] is None


def test_cmd_exe_answers() -> None:
    state = load_fleet(DEMO_FLEET).guest("hci-vm-01")
    assert run(state, "ver2 /all", b"", 437).stderr == NOT_RECOGNIZED
    assert run(state, "x" * 8192, b"", 437).stderr == b"The command line is too long.\r\n"
    assert run(state, "hostname", b"", 65001).stdout == b"HCI-VM-01\r\n"


def test_a_thousand_idle_guests_cost_no_thread_each() -> None:
    base = load_fleet(DEMO_FLEET).guest("hci-vm-01")
    guests = tuple(dataclasses.replace(base, name=f"vm-{i:04d}") for i in range(1000))
    threads = threading.active_count()
    started = time.perf_counter()
    with serve_fleet(Fleet("auditor", "HOTPATCH_SELFTEST_PASSWORD", guests), password=PASSWORD) as running:
        assert time.perf_counter() - started < 5
        assert len(set(running.ports.values())) == 1000
        assert threading.active_count() <= threads + 2


def test_command_line_runs_until_sigterm(tmp_path: Path) -> None:
    inventory_path = tmp_path / "inventory.yml"
    env = {**os.environ, "HOTPATCH_SELFTEST_CLI": PASSWORD}
    process = subprocess.Popen(
        [sys.executable, "-m", "hotpatch_audit.testing.simulator", "--inventory-out", str(inventory_path),
         "--password-env", "HOTPATCH_SELFTEST_CLI"],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while not inventory_path.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        text = inventory_path.read_text(encoding="utf-8")
        assert PASSWORD not in text
        assert "hotpatch_password_env: HOTPATCH_SELFTEST_CLI" in text
        inventory = load_inventory(inventory_path)
        os.environ["HOTPATCH_SELFTEST_CLI"] = PASSWORD
        try:
            assert collect(inventory.guests["hci-vm-03"])["os"]["ubr"] == 32772
        finally:
            del os.environ["HOTPATCH_SELFTEST_CLI"]
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert not inventory_path.exists()
    assert PASSWORD not in stderr


def test_command_line_needs_a_password(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(
        "user: a\npassword_env: HOTPATCH_SELFTEST_NONE\nguests:\n  vm1: {build: '20348.1'}\n", encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-m", "hotpatch_audit.testing.simulator", "--fleet", str(fleet), "--inventory-out", "x.yml"],
        capture_output=True, text=True, timeout=30, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "set HOTPATCH_SELFTEST_NONE to the password" in result.stderr
