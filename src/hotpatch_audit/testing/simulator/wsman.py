"""The WS-Management operations of one simulated guest: Identify, and Create, Command, Send, Receive, Signal, Delete.

Requests are SOAP envelopes as pywinrm sends them; responses follow what Windows returns (ShellId in a
``Selector Name="ShellId"``, ``RelatesTo`` echoing the request's ``MessageID``, one ``CommandState/Done`` with
its ``ExitCode``). A command runs once its stdin is complete (when it reads stdin) and takes the guest's
latency; a Receive waits for it at most the request's ``OperationTimeout`` and then answers the
OperationTimeout fault (2150858793), as Windows does, which clients retry. Only the WinRS (cmd) shell exists:
a PowerShell-remoting (PSRP) shell is refused at Create, as on a host whose PowerShell endpoint is not
registered, and a request that is not well-formed XML gets the fault Windows sends for invalid XML.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from hotpatch_audit.testing.simulator import shell
from hotpatch_audit.testing.simulator.model import GuestState

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "wsmid": "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd",
}
_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
_CMD_SHELL = f"{_SHELL}/cmd"
_TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
_DONE = f"{_SHELL}/CommandState/Done"
_FAULT_DETAIL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"

# WSManFault codes as Windows' wsmerror.h defines them (the Code attribute carries them in decimal), and the SOAP
# code, subcode and text a real host sends with each:
# - ERROR_WSMAN_OPERATION_TIMEDOUT 0x80338029: Receiver, w:TimedOut (MS-WSMV; pywinrm retries on this code).
# - ERROR_WSMAN_ACTION_NOT_SUPPORTED 0x80338013: Sender, a:ActionNotSupported.
# - ERROR_WSMAN_INVALID_RESOURCE_URI 0x8033803B: what a PSRP client gets when the host has no such PowerShell
#   endpoint, "The resource URI (...) was not found in the WS-Management catalog" (pypsrp issues #192 and #273
#   quote it from real hosts, as does the Unregister-PSSessionConfiguration help); subcode and detail as DSP0226
#   and recorded Windows faults give for an unknown resource URI (a:DestinationUnreachable, InvalidResourceURI).
# - ERROR_WSMAN_INVALID_XML 0x80338043: Sender, w:InternalError, faultDetail/Invalid (a Windows fault quoted in
#   node-soap pull request #1228).
# - ERROR_WSMAN_SCHEMA_VALIDATION_ERROR 0x80338041: a required element is missing (pypsrp issue #193).
# - 2150858843: the shell or command is not found, as pywinrm users report it from real hosts.
OPERATION_TIMEOUT = 2150858793
ACTION_NOT_SUPPORTED = 2150858771
INVALID_RESOURCE_URI = 2150858811
SCHEMA_VALIDATION_ERROR = 2150858817
INVALID_XML = 2150858819
SHELL_NOT_FOUND = 2150858843
# Identify (DSP0226 section 11; Microsoft's "Detecting Whether a Remote Computer Supports WS-Management
# Protocol"): unauthenticated, Windows names no OS version; knife-windows records the exact body a Windows Server
# answers with. Authenticated, ProductVersion carries the OS version.
_IDENTIFY_VERSION_UNAUTHENTICATED = "OS: 0.0.0 SP: 0.0 Stack: 3.0"


@dataclass
class _Command:
    line: str
    wants_stdin: bool
    stdin: bytearray = field(default_factory=bytearray)
    ready_at: float | None = None  # monotonic time the output is available; None while waiting for stdin
    outcome: shell.Outcome | None = None


@dataclass
class _Shell:
    codepage: int
    commands: dict[str, _Command] = field(default_factory=dict)


class Fault(Exception):
    """A WS-Management fault to send back as HTTP 500: SOAP code (Sender or Receiver), subcode, WSManFault code."""

    def __init__(
        self, code: int, reason: str, subcode: str = "w:InternalError", *, sender: bool = False, detail: str = ""
    ) -> None:
        super().__init__(reason)
        self.code, self.reason, self.subcode, self.sender, self.detail = code, reason, subcode, sender, detail


class GuestRuntime:
    """Shells and commands of one guest; thread-safe (one thread per client connection)."""

    def __init__(self, state: GuestState) -> None:
        self.state = state
        self._shells: dict[str, _Shell] = {}
        self._changed = threading.Condition()
        self.stopped = False
        self.counts: Counter[str] = Counter()  # operations served, by name, for tests and benchmarks

    def stop(self) -> None:
        """Wake every waiting Receive so that its thread can end."""
        with self._changed:
            self.stopped = True
            self._changed.notify_all()

    def count(self, event: str) -> None:
        """Count one served operation or handshake."""
        with self._changed:
            self.counts[event] += 1

    def handle(self, body: bytes) -> tuple[int, bytes]:
        """(HTTP status, response envelope) for one authenticated SOAP request."""
        try:
            root = ET.fromstring(body)  # noqa: S314 - loopback test server; expat refuses entity-expansion bombs
        except ET.ParseError:
            self.count("invalid-xml")
            return 500, _fault("", invalid_xml())
        if is_identify(root):
            self.count("Identify")
            return 200, identify_response(f"OS: 10.0.{self.state.current_build} SP: 0.0 Stack: 3.0")
        header = root.find("s:Header", NS)
        action = _text(header, "a:Action")
        message_id = _text(header, "a:MessageID")
        operation = {
            f"{_TRANSFER}/Create": self._create,
            f"{_SHELL}/Command": self._command,
            f"{_SHELL}/Send": self._send,
            f"{_SHELL}/Receive": self._receive,
            f"{_SHELL}/Signal": self._signal,
            f"{_TRANSFER}/Delete": self._delete,
        }.get(action)
        self.count(action.rsplit("/", 1)[-1])
        if operation is None:
            unsupported = Fault(
                ACTION_NOT_SUPPORTED,
                "The WS-Management service does not support the action specified in the request.",
                "a:ActionNotSupported",
                sender=True,
            )
            return 500, _fault(message_id, unsupported)
        try:
            response_action, body_xml = operation(root)
        except Fault as fault:
            return 500, _fault(message_id, fault)
        return 200, _envelope(response_action, message_id, body_xml)

    def _create(self, root: ET.Element) -> tuple[str, str]:
        resource = _text(root, "s:Header/w:ResourceURI")
        if resource != _CMD_SHELL:
            raise Fault(
                INVALID_RESOURCE_URI,
                f"The WS-Management service cannot process the request. The resource URI ({resource}) was not found "
                "in the WS-Management catalog. The catalog contains the metadata that describes resources, or "
                "logical endpoints.",
                "a:DestinationUnreachable",
                sender=True,
                detail="InvalidResourceURI",
            )
        codepage = 437
        for option in root.iterfind("s:Header/w:OptionSet/w:Option", NS):
            if option.get("Name") == "WINRS_CODEPAGE" and (option.text or "").isdigit():
                codepage = int(option.text or "437")
        shell_id = str(uuid.uuid4()).upper()
        with self._changed:
            self._shells[shell_id] = _Shell(codepage)
        created = (
            "<x:ResourceCreated><a:Address>http://windows-host:5985/wsman</a:Address><a:ReferenceParameters>"
            f"<w:ResourceURI>{_SHELL}/cmd</w:ResourceURI><w:SelectorSet>"
            f'<w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet></a:ReferenceParameters>'
            f"</x:ResourceCreated><rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId>"
            "<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>"
        )
        return f"{_TRANSFER}/CreateResponse", created

    def _command(self, root: ET.Element) -> tuple[str, str]:
        line = _text(root, "s:Body/rsp:CommandLine/rsp:Command")
        arguments = _text(root, "s:Body/rsp:CommandLine/rsp:Arguments")
        if arguments:
            line = f"{line} {arguments}"
        command_id = str(uuid.uuid4()).upper()
        command = _Command(line, shell.needs_stdin(line))
        if not command.wants_stdin:
            command.ready_at = time.monotonic() + self.state.faults.latency_ms / 1000
        with self._changed:
            self._shell(root).commands[command_id] = command
        return (
            f"{_SHELL}/CommandResponse",
            f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>",
        )

    def _send(self, root: ET.Element) -> tuple[str, str]:
        stream = root.find("s:Body/rsp:Send/rsp:Stream", NS)
        if stream is None:
            reason = "WinRM cannot process the request because the request is missing the element titled 'Stream'."
            raise Fault(SCHEMA_VALIDATION_ERROR, reason, "w:SchemaValidationError", sender=True)
        try:
            data = base64.b64decode(stream.text or "", validate=True)
        except binascii.Error as err:
            raise invalid_xml() from err
        with self._changed:
            command = self._find(root, stream.get("CommandId", ""))
            command.stdin += data
            if stream.get("End", "false").lower() == "true" and command.ready_at is None:
                command.ready_at = time.monotonic() + self.state.faults.latency_ms / 1000
                self._changed.notify_all()
        return f"{_SHELL}/SendResponse", "<rsp:SendResponse/>"

    def _receive(self, root: ET.Element) -> tuple[str, str]:
        desired = root.find("s:Body/rsp:Receive/rsp:DesiredStream", NS)
        command_id = "" if desired is None else desired.get("CommandId", "")
        give_up = time.monotonic() + _seconds(_text(root, "s:Header/w:OperationTimeout") or "PT60S")
        with self._changed:
            command = self._find(root, command_id)
            codepage = self._shell(root).codepage
            while True:
                now = time.monotonic()
                ready_at = None if self.state.faults.operation_timeout else command.ready_at
                if ready_at is not None and now >= ready_at:
                    break
                if now >= give_up or self.stopped:
                    raise Fault(
                        OPERATION_TIMEOUT,
                        "The WS-Management service cannot complete the operation within the time specified in "
                        "OperationTimeout.",
                        "w:TimedOut",
                    )
                self._changed.wait((give_up if ready_at is None else min(give_up, ready_at)) - now)
            if command.outcome is None:
                command.outcome = shell.run(self.state, command.line, bytes(command.stdin), codepage)
            outcome = command.outcome
        streams = "".join(
            f'<rsp:Stream Name="{name}" CommandId="{command_id}">{base64.b64encode(data).decode()}</rsp:Stream>'
            for name, data in (("stdout", outcome.stdout), ("stderr", outcome.stderr))
            if data
        )
        body = (
            f'<rsp:ReceiveResponse>{streams}<rsp:Stream Name="stdout" CommandId="{command_id}" End="true"/>'
            f'<rsp:Stream Name="stderr" CommandId="{command_id}" End="true"/>'
            f'<rsp:CommandState CommandId="{command_id}" State="{_DONE}"><rsp:ExitCode>{outcome.rc}</rsp:ExitCode>'
            "</rsp:CommandState></rsp:ReceiveResponse>"
        )
        return f"{_SHELL}/ReceiveResponse", body

    def _signal(self, root: ET.Element) -> tuple[str, str]:
        signal = root.find("s:Body/rsp:Signal", NS)
        with self._changed:
            self._shell(root).commands.pop("" if signal is None else signal.get("CommandId", ""), None)
        return f"{_SHELL}/SignalResponse", "<rsp:SignalResponse/>"

    def _delete(self, root: ET.Element) -> tuple[str, str]:
        with self._changed:
            self._shell(root)
            del self._shells[_shell_id(root)]
        return f"{_TRANSFER}/DeleteResponse", ""

    def _shell(self, root: ET.Element) -> _Shell:
        shell_id = _shell_id(root)
        if shell_id not in self._shells:
            raise Fault(
                SHELL_NOT_FOUND,
                f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the shell was "
                "not found on the server.",
                "w:InvalidSelectors",
                sender=True,
            )
        return self._shells[shell_id]

    def _find(self, root: ET.Element, command_id: str) -> _Command:
        command = self._shell(root).commands.get(command_id)
        if command is None:
            message = f"The command {command_id} was not found in the shell."
            raise Fault(SHELL_NOT_FOUND, message, "w:InvalidSelectors", sender=True)
        return command


def _shell_id(root: ET.Element) -> str:
    for selector in root.iterfind("s:Header/w:SelectorSet/w:Selector", NS):
        if selector.get("Name") == "ShellId":
            return selector.text or ""
    return ""


def _text(node: ET.Element | None, path: str) -> str:
    found = None if node is None else node.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


def _seconds(duration: str) -> float:
    """An xs:duration such as PT20S or PT20.500S, in seconds."""
    match = re.fullmatch(r"PT(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?", duration)
    return 60.0 if match is None else int(match.group(1) or 0) * 60 + float(match.group(2) or 0)


def invalid_xml() -> Fault:
    """The fault Windows answers a request that is not well-formed XML with."""
    reason = "The WS-Management service cannot process the request because the XML is invalid."
    return Fault(INVALID_XML, reason, sender=True, detail="Invalid")


def is_identify(root: ET.Element) -> bool:
    """True when `root` is a WS-Management Identify request."""
    return root.find("s:Body/wsmid:Identify", NS) is not None


def identify_response(product_version: str = _IDENTIFY_VERSION_UNAUTHENTICATED) -> bytes:
    """The IdentifyResponse envelope Windows sends (no WS-Addressing headers: Identify has none)."""
    return (
        f'<s:Envelope xmlns:s="{NS["s"]}"><s:Header/><s:Body><wsmid:IdentifyResponse xmlns:wsmid="{NS["wsmid"]}">'
        f"<wsmid:ProtocolVersion>{NS['w']}</wsmid:ProtocolVersion>"
        "<wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>"
        f"<wsmid:ProductVersion>{escape(product_version)}</wsmid:ProductVersion>"
        "</wsmid:IdentifyResponse></s:Body></s:Envelope>"
    ).encode()


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    # A request too malformed to carry a MessageID gets a response without RelatesTo.
    relates = f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>" if relates_to else ""
    return (
        (
            '<s:Envelope xml:lang="en-US" xmlns:s="{s}" xmlns:a="{a}" xmlns:x="{x}" xmlns:w="{w}" xmlns:rsp="{rsp}">'
            "<s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:{mid}</a:MessageID>"
            "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
            "{relates}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
        )
        .format(
            x=_TRANSFER,
            action=action,
            mid=str(uuid.uuid4()).upper(),
            relates=relates,
            body=body,
            **NS,
        )
        .encode("utf-8")
    )


def _fault(relates_to: str, fault: Fault) -> bytes:
    code = "s:Sender" if fault.sender else "s:Receiver"
    detail = f"<w:FaultDetail>{_FAULT_DETAIL}{fault.detail}</w:FaultDetail>" if fault.detail else ""
    body = (
        f"<s:Fault><s:Code><s:Value>{code}</s:Value><s:Subcode><s:Value>{fault.subcode}</s:Value></s:Subcode>"
        f'</s:Code><s:Reason><s:Text xml:lang="en-US">{escape(fault.reason)}</s:Text></s:Reason><s:Detail>{detail}'
        f'<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="{fault.code}" '
        f'Machine="127.0.0.1"><f:Message>{escape(fault.reason)}</f:Message></f:WSManFault></s:Detail></s:Fault>'
    )
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)
