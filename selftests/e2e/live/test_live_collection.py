"""Live collection end to end: real pywinrm and testinfra against the loopback simulator, no transport mocks."""

from __future__ import annotations

import base64
import json
import logging
import re
import traceback
from typing import Any
from urllib.parse import quote

import pytest

from e2e.live.livesupport import PASSWORD, build_fleet, expected_facts, guest_with
from hotpatch_audit.collect.collector import build_script, collect, collect_with
from hotpatch_audit.collect.powershell import CMD_LINE_LIMIT, powershell_command
from hotpatch_audit.collect.transport import CollectionFailure, TransportPool, WinRMTransport, open_transport
from hotpatch_audit.errors import CollectionError
from hotpatch_audit.facts import parse_facts
from hotpatch_audit.inputs.inventory import Inventory, Secret
from hotpatch_audit.testing.simulator import Fleet, RunningFleet

pytestmark = pytest.mark.e2e

_BROKEN = ("port_closed", "credentials_refused", "garbage_output", "non_ascii_output", "command_line_too_long",
           "access_denied", "provider_not_found")  # fmt: skip
HEALTHY = [
    g.name
    for g in build_fleet().guests
    if not g.faults.operation_timeout and not any(getattr(g.faults, f) for f in _BROKEN)
]
NOT_RECOGNIZED = "'uname' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"


def _without_time(facts: dict[str, Any]) -> dict[str, Any]:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", facts.pop("collected_at"))
    return facts


@pytest.mark.parametrize("name", HEALTHY)
@pytest.mark.parametrize("transport", ["ntlm", "basic"])
def test_collect_returns_the_modeled_state(
    name: str, transport: str, fleet: Fleet, ntlm_inventory: Inventory, basic_inventory: Inventory
) -> None:
    inventory = ntlm_inventory if transport == "ntlm" else basic_inventory
    facts = collect(inventory.guests[name])
    parse_facts(json.loads(json.dumps(facts)), name)  # valid against the facts schema
    assert _without_time(facts) == expected_facts(fleet.guest(name))


FAULTS = [
    ("hci-vm-10", r"connection refused at http://127\.0\.0\.1:\d+/wsman \(port closed\?\): "
     r"check the guest is up and WinRM listens", False),
    ("hci-vm-11", r"credentials refused \(HTTP 401\) for user 'auditor' over ntlm", False),
    ("hci-vm-12", r"collector output is not valid base64 JSON: .*; output starts 'Get-CimInstance : Provider.*", False),
    ("hci-vm-17", r"collector output is not valid base64 JSON: byte 0xc3 at offset \d+ is not ASCII; "
     r"output starts 'Zugriff verweigert: Überprüfung.*", False),
    ("hci-vm-18", r"collector exited with code 1: The command line is too long\.", False),
    ("hci-vm-91", r"WS-Management operation timed out after [34] s", True),  # deadline 3 x 1 s
]  # fmt: skip


@pytest.mark.parametrize(("name", "message", "transient"), FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_is_one_line_collection_error(
    name: str, message: str, transient: bool, ntlm_inventory: Inventory
) -> None:
    with pytest.raises(CollectionError) as caught:
        collect(ntlm_inventory.guests[name])
    assert re.fullmatch(f"{name}: {message}", str(caught.value)), str(caught.value)
    assert isinstance(caught.value, CollectionFailure)
    assert caught.value.transient is transient


def test_basic_credentials_refused(basic_inventory: Inventory) -> None:
    with pytest.raises(CollectionFailure, match=r"^hci-vm-11: credentials refused \(HTTP 401\) .* over basic$"):
        collect(basic_inventory.guests["hci-vm-11"])


def test_wrong_password_is_refused_like_a_fault(ntlm_inventory: Inventory) -> None:
    guest = guest_with(ntlm_inventory.guests["hci-vm-01"], password=Secret("not-the-password"), password_env=None)
    with pytest.raises(CollectionFailure, match="credentials refused") as caught:
        collect(guest)
    assert caught.value.transient is False


@pytest.mark.parametrize(
    ("name", "probes", "message"),
    [
        ("hci-vm-14", ("security.vbs_status",), "Access denied"),
        ("hci-vm-92", ("security.vbs_configured",), "Requested registry access is not allowed."),
        ("hci-vm-21", ("security.vbs_status",), "Not found"),  # a broken provider, not an absent class
        ("hci-vm-24", ("history.log_start", "history.events"), "Attempted to perform an unauthorized operation."),
    ],
)
def test_unreadable_probe_is_null_with_an_errors_entry(
    name: str, probes: tuple[str, ...], message: str, fleet: Fleet, ntlm_inventory: Inventory
) -> None:
    facts = _without_time(collect(ntlm_inventory.guests[name]))
    expected = expected_facts(fleet.guest(name))
    for probe in probes:
        section, key = probe.split(".")
        expected[section][key] = None
    expected["errors"] = [{"probe": probe, "message": message} for probe in probes]
    assert facts == expected


def test_a_guest_in_constrained_language_mode_yields_the_same_facts(fleet: Fleet, ntlm_inventory: Inventory) -> None:
    state = fleet.guest("hci-vm-22")
    assert state.language_mode == "ConstrainedLanguage"
    facts = _without_time(collect(ntlm_inventory.guests["hci-vm-22"]))
    assert facts == expected_facts(state)
    assert facts["reboot_pending"]["domain_join"] is True
    assert facts["hotfixes"][0]["description"] == "Mise à jour de sécurité"  # escaped as \\u00e0 on the wire


def test_script_beyond_the_command_line_limit_is_delivered_and_run(ntlm_inventory: Inventory) -> None:
    script = build_script() + "\n# padding\n" * 2000  # about 30,000 characters of script
    assert len(powershell_command(build_script())) > CMD_LINE_LIMIT
    with open_transport(ntlm_inventory.guests["hci-vm-01"]) as transport:
        refused = transport.run_cmd(powershell_command(script))
        assert (refused.rc, refused.error_text()) == (1, "The command line is too long.")
        output = transport.run_powershell(script)
    assert output.rc == 0
    assert json.loads(base64.b64decode(output.stdout))["values"]["os.ubr"] == 5074


def test_non_ascii_output_decodes(fleet: Fleet, ntlm_inventory: Inventory) -> None:
    with open_transport(ntlm_inventory.guests["hci-vm-15"]) as transport:
        facts = collect_with(transport, "hci-vm-15")
        assert transport.host.check_output("hostname") == "SRV-COMPTABILITÉ"
        assert transport.host.check_output("echo Größe über") == "Größe über"
    assert facts["hotfixes"][0]["description"] == "Mise à jour de sécurité"


def test_testinfra_host_shares_the_guest_connection(running: RunningFleet, basic_inventory: Inventory) -> None:
    before = running.counts("hci-vm-02").get("Create", 0)
    with open_transport(basic_inventory.guests["hci-vm-02"]) as transport:
        host = transport.host
        collect_with(transport, "hci-vm-02")
        unknown = host.run("uname")
        assert host.check_output("hostname") == "HCI-VM-02"
        assert host.backend.get_pytest_id() == "winrm://hci-vm-02"
        assert host.backend.conn_args["transport"] == "basic"
        assert PASSWORD not in repr(host.backend.conn_args)
    assert (unknown.rc, unknown.stdout, unknown.stderr) == (1, "", NOT_RECOGNIZED)
    assert running.counts("hci-vm-02")["Create"] == before + 1  # one shell for the collector and both host.run


def test_pool_keeps_one_connection_per_guest_for_the_run(running: RunningFleet, ntlm_inventory: Inventory) -> None:
    guest = ntlm_inventory.guests["hci-vm-06"]
    before = running.counts("hci-vm-06").get("Create", 0)
    with TransportPool() as pool:
        facts = collect_with(pool.get(guest), guest.name)
        assert pool.get(guest) is pool.get(guest)
        assert pool.get(guest).host.check_output("hostname") == "HCI-VM-06"
    assert facts["security"]["vbs_status"] == 1
    counts = running.counts("hci-vm-06")
    assert (counts["Create"] - before, counts["Delete"]) == (1, counts["Create"])  # closed at the end of the run


def test_ntlm_handshakes_once_per_guest_connection(running: RunningFleet, ntlm_inventory: Inventory) -> None:
    before = running.counts("hci-vm-03").get("ntlm-handshake", 0)
    with open_transport(ntlm_inventory.guests["hci-vm-03"]) as transport:
        for _ in range(3):
            transport.run_cmd("hostname")
    assert running.counts("hci-vm-03")["ntlm-handshake"] == before + 1


def test_other_powershell_fails_like_powershell(ntlm_inventory: Inventory) -> None:
    with open_transport(ntlm_inventory.guests["hci-vm-01"]) as transport:
        output = transport.run_powershell("Get-Service WinRM")
    assert output.rc == 1
    assert "runs only the hotpatch-audit collector" in output.error_text()


def _failures(ntlm: Inventory, basic: Inventory) -> list[BaseException]:
    guests = [
        *(ntlm.guests[n] for n in ("hci-vm-10", "hci-vm-11", "hci-vm-12", "hci-vm-17", "hci-vm-18")),
        basic.guests["hci-vm-11"],
        guest_with(basic.guests["hci-vm-01"], password=Secret(PASSWORD + "x"), password_env=None),
        guest_with(ntlm.guests["hci-vm-01"], password=Secret(PASSWORD + "x"), password_env=None),
        guest_with(ntlm.guests["hci-vm-01"], password_env="HOTPATCH_SELFTEST_UNSET"),
        guest_with(ntlm.guests["hci-vm-01"], password=Secret("{{ vault_" + PASSWORD + " }}"), password_env=None),
    ]
    failures: list[BaseException] = []
    for guest in guests:
        with pytest.raises(CollectionError) as caught:
            collect(guest)
        failures.append(caught.value)
    return failures


def test_password_never_appears_in_errors_or_logs(
    caplog: pytest.LogCaptureFixture, ntlm_inventory: Inventory, basic_inventory: Inventory
) -> None:
    caplog.set_level(logging.DEBUG)
    failures = _failures(ntlm_inventory, basic_inventory)
    with open_transport(ntlm_inventory.guests["hci-vm-01"]) as transport:
        collect_with(transport, "hci-vm-01")
        shown = [repr(transport), repr(transport.host), repr(transport.host.backend.conn_args)]
    forms = (PASSWORD, quote(PASSWORD, safe=""), base64.b64encode(f"auditor:{PASSWORD}".encode()).decode())
    texts = [*shown, caplog.text, *("".join(traceback.format_exception(f)) + repr(f) for f in failures)]
    for text in texts:
        for form in forms:
            assert form not in text
    assert len(failures) == 10
    assert all("\n" not in str(f) for f in failures)


def test_settings_errors_name_the_cause_without_connecting(ntlm_inventory: Inventory) -> None:
    guest = ntlm_inventory.guests["hci-vm-01"]
    cases = [
        (guest_with(guest, password_env="HOTPATCH_SELFTEST_UNSET"), "environment variable HOTPATCH_SELFTEST_UNSET"),
        (guest_with(guest, password=Secret("{{ pw }}"), password_env=None), "set hotpatch_password_env"),
        (guest_with(guest, password_env=None), "needs a password"),
        (guest_with(guest, transport="certificate"), "transport certificate needs https"),
        (guest_with(guest, connection_plugin="psrp"), "ansible_connection 'psrp' is not supported"),
    ]
    for broken, fragment in cases:
        with pytest.raises(CollectionFailure, match=re.escape(fragment)) as caught:
            WinRMTransport(broken)
        assert caught.value.cause == "settings"


def test_missing_kerberos_extra_says_what_to_install(ntlm_inventory: Inventory) -> None:
    import winrm.transport

    if winrm.transport.HAVE_KERBEROS:
        pytest.skip("the kerberos extra is installed here")
    guest = guest_with(ntlm_inventory.guests["hci-vm-01"], transport="kerberos")
    with pytest.raises(CollectionFailure, match=re.escape("install hotpatch-audit[kerberos]")):
        collect(guest)
