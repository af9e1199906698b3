"""The simulator on its own: fleet files, the PowerShell 5.1 output shape, cmd.exe answers, scale, the CLI."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import queue
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
from hotpatch_audit.testing.simulator import DEMO_FLEET, Faults, Fleet, FleetError, Hotfix, load_fleet, serve_fleet
from hotpatch_audit.testing.simulator.shell import run
from support import REPO

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
        ("allow_unencrypted: yes please\nguests: {}\n", "fleet.yml:3: allow_unencrypted: must be true or false"),
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


class _Lines:
    """What a child prints on stdout, line by line, read in a thread (readline cannot time out)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        stdout = process.stdout

        def pump() -> None:
            for line in stdout:
                self._queue.put(line.rstrip("\n"))
            self._queue.put(None)

        self._thread = threading.Thread(target=pump, daemon=True)
        self._thread.start()

    def through(self, last: str, seconds: float = 15) -> list[str]:
        """Every line up to and including `last`."""
        deadline = time.monotonic() + seconds
        while last not in self.seen:
            line = self._queue.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, f"stdout ended before {last!r}: {self.seen}"
            self.seen.append(line)
        return self.seen

    def rest(self) -> list[str]:
        """Every line, once the child has exited."""
        self._thread.join(timeout=10)
        while (line := self._queue.get_nowait()) is not None:
            self.seen.append(line)
        return self.seen


def test_simulate_command_serves_until_sigterm_and_says_what_the_audit_needs() -> None:
    env = {**os.environ, "HOTPATCH_SELFTEST_CLI": PASSWORD}
    with subprocess.Popen(
        [sys.executable, "-m", "hotpatch_audit", "simulate", "--password-env", "HOTPATCH_SELFTEST_CLI"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as process:  # fmt: skip
        output = _Lines(process)
        try:
            lines = output.through("stop with Ctrl-C")
            inventory_path = Path(next(line for line in lines if line.startswith("inventory: ")).split(": ", 1)[1])
            guests = len(load_fleet(DEMO_FLEET).guests)
            assert (
                lines[0] == f"serving {guests} simulated guests on 127.0.0.1 over http (NTLM with message encryption)"
            )
            password_line = "password variable: HOTPATCH_SELFTEST_CLI (set it to the same value in the shell that runs"
            assert f"{password_line} the audit)" in lines
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
            process.wait(timeout=10)
        assert process.stderr is not None
        stderr, stdout = process.stderr.read(), "\n".join(output.rest())
    assert process.returncode == 0, stderr
    assert stdout.endswith("simulated fleet stopped")
    assert not inventory_path.exists()
    assert not inventory_path.parent.exists()  # the private directory it made is gone too
    assert PASSWORD not in stdout + stderr


def test_simulate_prints_the_password_variable_and_the_demo_as_of_date() -> None:
    env = {k: v for k, v in os.environ.items() if k != "HOTPATCH_SIM_PASSWORD"}
    with subprocess.Popen(
        [sys.executable, "-m", "hotpatch_audit.testing.simulator"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as process:  # fmt: skip
        output = _Lines(process)
        try:
            output.through("stop with Ctrl-C")
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)
        lines = output.rest()
    assert process.returncode == 0
    password = next(line for line in lines if line.startswith("password variable: "))
    assert password.startswith("password variable: HOTPATCH_SIM_PASSWORD is not set, so the guests accept the fleet")
    assert "loopback-demo-only" not in "\n".join(lines)
    inventory = next(line for line in lines if line.startswith("inventory: ")).split(": ", 1)[1]
    assert f"audit it: pytest tests --inventory {inventory} --as-of 2026-05-27" in lines


@pytest.mark.parametrize(
    ("fleet_text", "args", "message"),
    [
        (
            "user: a\npassword_env: HOTPATCH_SELFTEST_NONE\nguests:\n  vm1: {build: '20348.1'}\n",
            [],
            "simulate: set HOTPATCH_SELFTEST_NONE to the password the simulated guests should accept",
        ),
        (
            "user: a\npassword_env: HOTPATCH_SELFTEST_NONE\ndemo_password: x\nguests:\n  vm1: {build: '20348.1'}\n",
            ["--transport", "basic"],
            "simulate: --transport basic over http needs 'allow_unencrypted: true' in the fleet file",
        ),
        ("user: a\npassword_env: X\nguests:\n  vm1: {bild: 1}\n", [], "fleet.yml:4: guests.vm1.bild: unknown key"),
    ],
)
def test_simulate_refuses_what_it_cannot_serve(tmp_path: Path, fleet_text: str, args: list[str], message: str) -> None:
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(fleet_text, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "hotpatch_audit", "simulate", "--fleet", str(fleet), *args],
        capture_output=True, text=True, timeout=30, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 4
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.yml.partial"))


def _readme_section(title: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_readme_fleet_file_and_fault_examples_load(tmp_path: Path) -> None:
    section = _readme_section("Rehearsal fleet (simulator)")
    fleet_yaml = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "fleet.yml"
    path.write_text(fleet_yaml, encoding="utf-8")
    fleet = load_fleet(path)
    assert fleet.guest("hci-vm-02").vbs_status == 1
    assert fleet.guest("hci-vm-02").reboot_pending.component_based_servicing
    examples = re.findall(r"^\| [^|]+ \| `(faults: \{[^`]+\})` ", section, flags=re.MULTILINE)
    assert len(examples) == 8
    for example in examples:
        path.write_text(f"{fleet_yaml}  vm-fault:\n    template: ws2022-core\n    {example}\n", encoding="utf-8")
        assert load_fleet(path).guest("vm-fault").faults != Faults(), example
