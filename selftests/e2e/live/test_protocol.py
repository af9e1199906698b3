"""The simulator answers WS-Management as a Windows host does beyond the cmd shell, through real pywinrm and HTTP.

Identify without credentials, a PowerShell-remoting shell refused at creation, a fault (not a dropped
connection) for malformed XML, and Basic over plain http refused unless the fleet allows unencrypted traffic.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import xmltodict
from winrm.exceptions import InvalidCredentialsError, WSManFaultError
from winrm.protocol import Protocol

from e2e.live.livesupport import PASSWORD, PASSWORD_ENV
from hotpatch_audit.testing.simulator import DEMO_FLEET, Fleet, RunningFleet, load_fleet, serve_fleet

pytestmark = pytest.mark.e2e

WSMID = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"
IDENTIFY = (
    f'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="{WSMID}">'
    "<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>"
)
PSRP_URI = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"


@pytest.fixture(scope="module")
def served() -> Iterator[RunningFleet]:
    """hci-vm-01 and hci-vm-11 (which refuses every credential), with unencrypted traffic not allowed."""
    demo = load_fleet(DEMO_FLEET)
    fleet = Fleet(demo.user, PASSWORD_ENV, (demo.guest("hci-vm-01"), demo.guest("hci-vm-11")))
    assert not fleet.allow_unencrypted
    with serve_fleet(fleet, password=PASSWORD, password_env=PASSWORD_ENV) as running:
        yield running


def url(running: RunningFleet, guest: str = "hci-vm-01") -> str:
    return f"http://127.0.0.1:{running.ports[guest]}/wsman"


def protocol(running: RunningFleet, transport: str = "ntlm") -> Protocol:
    return Protocol(url(running), transport=transport, username="auditor", password=PASSWORD)  # type: ignore[arg-type]


def product_version(response: bytes) -> str:
    root = ET.fromstring(response)  # noqa: S314 - our own loopback server's answer
    identified = root.find(f"{{http://www.w3.org/2003/05/soap-envelope}}Body/{{{WSMID}}}IdentifyResponse")
    assert identified is not None, response
    assert identified.findtext(f"{{{WSMID}}}ProductVendor") == "Microsoft Corporation"
    assert identified.findtext(f"{{{WSMID}}}ProtocolVersion") == "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
    return identified.findtext(f"{{{WSMID}}}ProductVersion") or ""


def post(target: str, body: str, **headers: str) -> requests.Response:
    headers = {"Content-Type": "application/soap+xml;charset=UTF-8", **headers}
    return requests.post(target, data=body.encode(), headers=headers, timeout=10)


@pytest.mark.parametrize("guest", ["hci-vm-01", "hci-vm-11"])
def test_identify_is_answered_without_credentials(served: RunningFleet, guest: str) -> None:
    response = post(url(served, guest), IDENTIFY, WSMANIDENTIFY="unauthenticated")
    assert response.status_code == 200
    assert product_version(response.content) == "OS: 0.0.0 SP: 0.0 Stack: 3.0"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (IDENTIFY, {}),  # no WSMANIDENTIFY header: an ordinary request
        ("<s:Envelope><s:Body>not identify", {"WSMANIDENTIFY": "unauthenticated"}),
        ("<not-xml", {}),
    ],
)
def test_anything_but_an_unauthenticated_identify_needs_credentials(
    served: RunningFleet, body: str, headers: dict[str, str]
) -> None:
    response = post(url(served), body, **headers)
    assert response.status_code == 401
    assert "Negotiate" in response.headers["WWW-Authenticate"]


def test_authenticated_identify_names_the_os_build(served: RunningFleet) -> None:
    assert product_version(protocol(served).send_message(IDENTIFY)) == "OS: 10.0.20348 SP: 0.0 Stack: 3.0"


def test_a_powershell_remoting_shell_is_refused_at_creation(served: RunningFleet) -> None:
    client = protocol(served)
    request = {"env:Envelope": client.build_wsman_header(resource_uri=PSRP_URI, action=CREATE)}
    request["env:Envelope"]["env:Body"] = {"rsp:Shell": {"rsp:InputStreams": "stdin pr", "rsp:OutputStreams": "stdout"}}
    with pytest.raises(WSManFaultError) as caught:
        client.send_message(xmltodict.unparse(request))
    fault = caught.value
    assert (fault.code, fault.wsman_fault_code) == (500, 2150858811)
    assert (fault.fault_code, fault.fault_subcode) == ("s:Sender", "a:DestinationUnreachable")
    assert f"The resource URI ({PSRP_URI}) was not found in the WS-Management catalog." in fault.reason
    assert served.counts("hci-vm-01").get("Create", 0) >= 1
    shell = client.open_shell()  # the cmd shell still opens on the same connection
    command = client.run_command(shell, "hostname")
    assert client.get_command_output(shell, command) == (b"HCI-VM-01\r\n", b"", 0)
    client.close_shell(shell)


@pytest.mark.parametrize("body", ["<s:Envelope><s:Body>unclosed", "\x00garbage", "<"])
def test_malformed_xml_gets_a_wsman_fault_and_the_connection_stays_usable(served: RunningFleet, body: str) -> None:
    client = protocol(served)
    with pytest.raises(WSManFaultError) as caught:
        client.send_message(body)
    fault = caught.value
    assert (fault.code, fault.wsman_fault_code) == (500, 2150858819)
    assert (fault.fault_code, fault.fault_subcode) == ("s:Sender", "w:InternalError")
    assert fault.reason == "The WS-Management service cannot process the request because the XML is invalid."
    shell = client.open_shell()
    client.close_shell(shell)


def test_basic_over_http_is_refused_unless_the_fleet_allows_unencrypted(served: RunningFleet) -> None:
    with pytest.raises(InvalidCredentialsError):
        protocol(served, "basic").open_shell()
    shell = protocol(served, "ntlm").open_shell()  # the same guest and password, encrypted: accepted
    assert shell


def test_a_fleet_file_can_allow_unencrypted_traffic(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yml"
    path.write_text(
        f"user: auditor\npassword_env: {PASSWORD_ENV}\nallow_unencrypted: true\n"
        "guests:\n  vm1: {build: '20348.5074', computer_name: VM1}\n",
        encoding="utf-8",
    )
    fleet = load_fleet(path)
    assert fleet.allow_unencrypted
    with serve_fleet(fleet, password=PASSWORD, password_env=PASSWORD_ENV) as running:
        client = Protocol(url(running, "vm1"), transport="basic", username="auditor", password=PASSWORD)
        shell = client.open_shell()
        command = client.run_command(shell, "hostname")
        assert client.get_command_output(shell, command) == (b"VM1\r\n", b"", 0)
        with pytest.raises(InvalidCredentialsError):
            Protocol(url(running, "vm1"), transport="basic", username="auditor", password="wrong").open_shell()
