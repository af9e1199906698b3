"""WinRM transport to one guest: pytest-testinfra's host API, with its WinRM limits lifted.

This is the only module that imports testinfra or pywinrm. :class:`WinRMTransport` owns one pywinrm ``Protocol``
(one ``requests`` session, so one NTLM handshake) and one WinRS shell per guest, reused by every command until
:meth:`WinRMTransport.close`. The guest's testinfra ``Host`` (``host.run``, ``host.check_output``) is wired to the
same shell, so users' own checks share the connection.

What testinfra's ``winrm://`` backend cannot do, and how it is done here:

* transports: the backend hard-codes NTLM; the transport comes from the inventory (ntlm, kerberos, credssp,
  basic, certificate), with https and certificate validation unless the inventory says otherwise, and NTLM,
  Kerberos and CredSSP message encryption over http;
* credentials never sit in the host URL (an error message could print it); the password is a ``str`` whose
  ``repr`` is masked, and it is scrubbed from every error this module raises;
* cmd.exe stops at 8191 characters: a PowerShell script whose encoded command line is longer is sent on stdin
  (WS-Management Send) to a short loader that decodes and runs it (see :mod:`hotpatch_audit.collect.powershell`);
* pywinrm retries an OperationTimeout forever; here every command has a deadline;
* output: the shell uses code page 65001 (UTF-8) so non-ASCII text decodes.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import threading
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import requests
import testinfra
import winrm.protocol
import winrm.transport
from cryptography import x509
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)

from hotpatch_audit.collect.kerberos import (
    KerberosSettings,
    KerberosSettingsError,
    KerberosTicketError,
    ManagedTicket,
    describe_kerberos,
    kerberos_settings,
    thread_ccache,
)
from hotpatch_audit.collect.powershell import (
    CMD_LINE_LIMIT,
    STDIN_LOADER,
    CommandOutput,
    powershell_command,
    stdin_payload,
)
from hotpatch_audit.errors import CollectionError
from hotpatch_audit.inputs.inventory import Connection, Guest

# Their DEBUG records hold the Authorization headers: NTLM responses and Kerberos AP-REQs a reader could replay or
# crack. No log level an operator picks may write them into a report.
for _logger in ("spnego", "winrm.vendor.requests_kerberos", "requests_ntlm"):
    logging.getLogger(_logger).setLevel(logging.INFO)

MAX_OUTPUT_BYTES = 16 * 1024 * 1024  # far above the collector's few KiB: more is a broken or hostile guest
_STDIN_CHUNK = 65536  # raw bytes per Send, well below WS-Management's 150 KiB envelope once base64-encoded
_UTF8_CODEPAGE = 65001
_EXTRAS = {"kerberos": winrm.transport.HAVE_KERBEROS, "credssp": winrm.transport.HAVE_CREDSSP}


class _NoProxyPin:
    """Hold ``no_proxy=*`` in the environment while any transport builds its requests session.

    pywinrm asks requests to bypass proxies, and requests does so by setting ``os.environ["no_proxy"]`` and then
    restoring or deleting it: threads building sessions at once race on that variable (a ``KeyError: 'no_proxy'``
    in about one guest in a thousand). While it holds ``*``, each restore writes ``*`` back and none deletes it;
    the last transport to finish puts back what was there before.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._before: str | None = None

    def __enter__(self) -> None:
        with self._lock:
            if self._holders == 0:
                self._before = os.environ.get("no_proxy")
                os.environ["no_proxy"] = "*"
            self._holders += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0:
                if self._before is None:
                    os.environ.pop("no_proxy", None)
                else:
                    os.environ["no_proxy"] = self._before


NO_PROXY_PINNED = _NoProxyPin()


class CollectionFailure(CollectionError):
    """A collection error that says whether trying again later may help.

    ``transient`` is true for a reset connection, an HTTP 5xx, a read or operation timeout; false for refused
    credentials, a closed port, bad settings and malformed output. ``cause`` is a short machine-readable slug.
    """

    def __init__(self, message: str, *, transient: bool = False, cause: str = "other") -> None:
        super().__init__(message)
        self.transient = transient
        self.cause = cause

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep transient and cause when the error crosses a process boundary (pickle).
        return (type(self), (str(self),), {"transient": self.transient, "cause": self.cause})


class _Password(str):
    """The clear-text password pywinrm needs, with a repr that does not show it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'********'"


class _OutputTooLarge(Exception):
    """The command printed more than MAX_OUTPUT_BYTES: reading on would only exhaust the auditor's memory."""

    def __init__(self, received: int) -> None:
        super().__init__(f"{received} bytes")
        self.received = received


class _Deadline(Exception):
    """The command did not finish before the guest's deadline."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"{seconds:.0f} s")
        self.seconds = seconds


def resolve_password(guest: Guest) -> str | None:
    """The guest's password, from the inventory or the environment variable it names; never logged."""
    conn = guest.connection
    if conn.password is not None:
        value = conn.password.reveal()
        if "{{" in value and "}}" in value:
            raise CollectionFailure(
                f"{guest.name}: the password is an unrendered Ansible template ({{{{ ... }}}}): "
                "set hotpatch_password_env to the name of an environment variable holding the password",
                cause="settings",
            )
        return value
    if conn.password_env is not None:
        from_env = os.environ.get(conn.password_env)
        if from_env is None:
            raise CollectionFailure(
                f"{guest.name}: environment variable {conn.password_env} (hotpatch_password_env) is not set",
                cause="settings",
            )
        return from_env
    return None


def connection_args(guest: Guest) -> dict[str, Any]:
    """The pywinrm ``Protocol`` arguments for the guest; raise CollectionFailure for settings that cannot work."""
    conn, name = guest.connection, guest.name
    if conn.connection_plugin != "winrm":
        raise CollectionFailure(
            f"{name}: ansible_connection '{conn.connection_plugin}' is not supported (the audit speaks WinRM)",
            cause="settings",
        )
    if not _EXTRAS.get(conn.transport, True):
        raise CollectionFailure(
            f"{name}: transport {conn.transport} needs extra packages: install hotpatch-audit[{conn.transport}]",
            cause="settings",
        )
    password = None if conn.transport == "certificate" or _ticket_cache_only(guest) else resolve_password(guest)
    kerberos: dict[str, Any] = {}
    if conn.transport == "certificate":
        _check_certificate(name, conn)
    elif conn.transport == "kerberos":
        settings = _kerberos(guest, password)
        kerberos = {
            "service": settings.service,
            "kerberos_hostname_override": settings.hostname,
            "kerberos_delegation": settings.delegation,
        }
    elif not conn.user or password is None:
        missing = "ansible_user" if not conn.user else "a password (set hotpatch_password_env)"
        raise CollectionFailure(f"{name}: transport {conn.transport} needs {missing}", cause="settings")
    if conn.scheme == "https" or conn.server_cert_validation == "ignore":
        ca_trust: str | None = conn.ca_trust_path or "legacy_requests"  # honours REQUESTS_CA_BUNDLE
    else:
        ca_trust = None  # plain http: nothing to validate, and no pywinrm warning about CA variables
    return {
        "endpoint": conn.endpoint,
        "transport": conn.transport,
        "username": conn.user,
        "password": _Password(password) if password is not None else None,
        "server_cert_validation": conn.server_cert_validation,
        "ca_trust_path": ca_trust,
        "cert_pem": conn.cert_pem,
        "cert_key_pem": conn.cert_key_pem,
        "read_timeout_sec": conn.read_timeout_sec,
        "operation_timeout_sec": conn.operation_timeout_sec,
        "message_encryption": "auto",  # encrypts NTLM, Kerberos and CredSSP over http
        "proxy": None,  # WinRM goes direct: web proxies from the environment would hijack it
        **kerberos,
    }


def _ticket_cache_only(guest: Guest) -> bool:
    """Kerberos with ``kinit_mode: manual``: the operator's ticket cache, and no password is read at all."""
    return guest.connection.transport == "kerberos" and guest.vars.get("ansible_winrm_kinit_mode") == "manual"


def _kerberos(guest: Guest, password: str | None) -> KerberosSettings:
    conn = guest.connection
    try:
        settings = kerberos_settings(conn.host, guest.vars, has_password=password is not None)
    except KerberosSettingsError as err:
        raise CollectionFailure(f"{guest.name}: {err}", cause="settings") from err
    if settings.kinit_mode == "managed" and (not conn.user or password is None):
        missing = "ansible_user" if not conn.user else "a password (set hotpatch_password_env)"
        raise CollectionFailure(f"{guest.name}: ansible_winrm_kinit_mode managed needs {missing}", cause="settings")
    return settings


def _check_certificate(name: str, conn: Connection) -> None:
    if conn.scheme != "https":
        raise CollectionFailure(f"{name}: transport certificate needs https (ansible_winrm_scheme)", cause="settings")
    for label, path in (("ansible_winrm_cert_pem", conn.cert_pem), ("ansible_winrm_cert_key_pem", conn.cert_key_pem)):
        if not path or not Path(path).is_file():
            raise CollectionFailure(f"{name}: transport certificate needs {label} (file not found)", cause="settings")
    # A guest refuses an expired certificate by ending the TLS handshake, which says nothing: check it here.
    try:
        cert = x509.load_pem_x509_certificate(Path(str(conn.cert_pem)).read_bytes())
    except (OSError, ValueError) as err:
        raise CollectionFailure(
            f"{name}: ansible_winrm_cert_pem {conn.cert_pem} is not a readable PEM certificate", cause="settings"
        ) from err
    now = datetime.now(UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        ended = now > cert.not_valid_after_utc
        when = f"expired on {cert.not_valid_after_utc:%Y-%m-%d}" if ended else "is not valid yet"
        raise CollectionFailure(
            f"{name}: the client certificate (ansible_winrm_cert_pem) {when}: issue a new one and map it",
            cause="certificate-expired",
        )


class WinRMTransport:
    """One guest's WinRM connection, shared by the collector and the guest's testinfra host."""

    def __init__(self, guest: Guest, *, deadline_sec: float | None = None) -> None:
        self.guest = guest
        self.deadline_sec = 3.0 * guest.connection.operation_timeout_sec if deadline_sec is None else deadline_sec
        self._args = connection_args(guest)
        self._secret = str.__str__(self._args["password"]) if self._args["password"] else None
        self._kerberos = _kerberos(guest, self._secret) if guest.connection.transport == "kerberos" else None
        self._ticket: ManagedTicket | None = None  # kinit_mode managed: the private ticket, once obtained
        self._lock = threading.Lock()
        self._protocol: winrm.protocol.Protocol | None = None
        self._shell_id: str | None = None
        self.host = _wire_host(self)

    def __enter__(self) -> WinRMTransport:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def run_powershell(self, script: str, *, deadline_sec: float | None = None) -> CommandOutput:
        """Run a Windows PowerShell script of any size (stdin delivery beyond cmd.exe's line limit)."""
        line = powershell_command(script)
        if len(line) <= CMD_LINE_LIMIT:
            return self.run_cmd(line, deadline_sec=deadline_sec)
        return self._execute(powershell_command(STDIN_LOADER), stdin_payload(script), deadline_sec)

    def run_cmd(self, command: str, *, deadline_sec: float | None = None) -> CommandOutput:
        """Run a cmd.exe command line (at most 8191 characters, as on Windows)."""
        return self._execute(command, None, deadline_sec)

    def close(self) -> None:
        """Delete the shell, close the HTTP session and drop a managed ticket; errors are ignored (guest gone)."""
        with self._lock:
            protocol, shell_id = self._protocol, self._shell_id
            self._protocol = self._shell_id = None
            if self._ticket is not None:
                self._ticket.destroy()
                self._ticket = None
            if protocol is None:
                return
            try:
                if shell_id is not None:
                    protocol.close_shell(shell_id)
            except Exception:  # noqa: S110 - best effort: the shell expires on its own
                pass
            finally:
                protocol.transport.close_session()

    def _execute(self, command: str, stdin: bytes | None, deadline_sec: float | None) -> CommandOutput:
        deadline = time.monotonic() + (self.deadline_sec if deadline_sec is None else deadline_sec)
        with self._lock, self._ticket_cache():
            try:
                protocol, shell_id = self._shell()
                command_id = protocol.run_command(shell_id, command, console_mode_stdin=stdin is None)
                if stdin is not None:
                    for start in range(0, len(stdin), _STDIN_CHUNK):
                        end = start + _STDIN_CHUNK >= len(stdin)
                        protocol.send_command_input(shell_id, command_id, stdin[start : start + _STDIN_CHUNK], end)
                output = self._receive(protocol, shell_id, command_id, deadline)
                protocol.cleanup_command(shell_id, command_id)
            # pywinrm and its auth plugins raise many types (requests, spnego, XML parsing, StopIteration,
            # AssertionError); each means this guest's command failed, so each becomes one CollectionFailure.
            except Exception as err:
                self._drop()
                raise self._failure(err) from _safe_cause(err, self._secret)
        return output

    @contextlib.contextmanager
    def _ticket_cache(self) -> Iterator[None]:
        """Use the guest's managed ticket cache in this thread (kinit first); the default cache otherwise."""
        settings = self._kerberos
        if settings is not None and settings.kinit_mode == "managed" and self._ticket is None:
            user, secret = str(self.guest.connection.user), str(self._secret)  # both checked by _kerberos
            try:
                self._ticket = ManagedTicket(user, secret, forwardable=settings.delegation)
            except KerberosTicketError as err:
                raise self._failure(err) from None  # the error holds no secret; its traceback would hold it
        with thread_ccache(self._ticket.name if self._ticket else None):
            yield

    def _shell(self) -> tuple[winrm.protocol.Protocol, str]:
        if self._protocol is None:
            self._protocol = winrm.protocol.Protocol(**self._args)
        if self._protocol.transport.session is None:
            with NO_PROXY_PINNED:
                # Proxies are off and the CA bundle is settled when the session is built, so requests need not
                # scan the environment again on every message (a measurable share of a collection's CPU).
                self._protocol.transport.build_session().trust_env = False
        if self._shell_id is None:
            self._shell_id = self._protocol.open_shell(codepage=_UTF8_CODEPAGE)
        return self._protocol, self._shell_id

    def _receive(
        self, protocol: winrm.protocol.Protocol, shell_id: str, command_id: str, deadline: float
    ) -> CommandOutput:
        stdout, stderr = [], []
        received = 0
        started, configured = time.monotonic(), protocol.operation_timeout_sec
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _Deadline(time.monotonic() - started)
                # Each Receive waits at most the operation timeout; never let it wait past the deadline.
                protocol.operation_timeout_sec = max(1, min(configured, math.ceil(remaining)))
                try:
                    out, err, rc, done = protocol.get_command_output_raw(shell_id, command_id)
                except WinRMOperationTimeoutError:
                    continue  # no output yet: the command is still running
                stdout.append(out)
                stderr.append(err)
                received += len(out) + len(err)
                if received > MAX_OUTPUT_BYTES:
                    raise _OutputTooLarge(received)
                if done:
                    return CommandOutput(rc, b"".join(stdout), b"".join(stderr))
        finally:
            protocol.operation_timeout_sec = configured

    def _drop(self) -> None:
        """Forget the connection after a failure; the next command starts afresh."""
        if self._protocol is not None:
            self._protocol.transport.close_session()
        self._protocol = self._shell_id = None

    def _failure(self, err: BaseException) -> CollectionFailure:
        cause, text, transient = _describe(err, self.guest.connection, self._kerberos)
        if self._secret:
            text = text.replace(self._secret, "********")
        return CollectionFailure(f"{self.guest.name}: {text}", transient=transient, cause=cause)


def open_transport(guest: Guest, *, deadline_sec: float | None = None) -> WinRMTransport:
    """Open (lazily: nothing is sent until the first command) the guest's WinRM transport."""
    return WinRMTransport(guest, deadline_sec=deadline_sec)


class TransportPool:
    """One transport per guest for a whole run (collector and users' ``host.run`` alike), closed together."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, WinRMTransport] = {}

    def __enter__(self) -> TransportPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def get(self, guest: Guest) -> WinRMTransport:
        """The guest's transport, opened on first use."""
        with self._lock:
            if guest.name not in self._open:
                self._open[guest.name] = WinRMTransport(guest)
            return self._open[guest.name]

    def close(self) -> None:
        """Close every transport of the pool."""
        with self._lock:
            transports, self._open = list(self._open.values()), {}
        for transport in transports:
            transport.close()


def _wire_host(transport: WinRMTransport) -> Any:
    """The guest's testinfra Host, its commands routed through `transport` (id ``winrm://<guest name>``)."""
    host = testinfra.get_host(f"winrm://{quote(transport.guest.name, safe='')}", _hotpatch_audit_guest=True)
    backend = host.backend
    backend.conn_args = dict(transport._args)  # what a user inspecting the backend sees (masked password)
    backend._encoding = "utf-8"  # the shell runs with code page 65001

    def run_winrm(command: str) -> Any:
        out = transport.run_cmd(command)
        return backend.result(out.rc, backend.encode(command), out.stdout, out.stderr)

    backend.run_winrm = run_winrm
    return host


def _describe(err: BaseException, conn: Connection, kerberos: KerberosSettings | None) -> tuple[str, str, bool]:
    """(cause, one-line text, transient) for an exception raised while talking to the guest."""
    where = conn.endpoint
    if kerberos is not None:
        found = _kerberos_problem(err, conn, kerberos)
        if found is not None:
            return found
    if conn.transport == "certificate":
        found = _certificate_problem(err)
        if found is not None:
            return found
    if isinstance(err, _OutputTooLarge):
        limit = MAX_OUTPUT_BYTES // (1024 * 1024)
        return (
            "output-too-large",
            f"the command printed more than {limit} MiB: stopped reading (broken collector?)",
            False,
        )
    if _encoding_failed(err):
        return (
            "encoding",
            f"the user name or password cannot be encoded for {conn.transport} (characters outside Latin-1?): "
            "use ntlm or kerberos, or other characters",
            False,
        )
    if isinstance(err, _Deadline):
        return "operation-timeout", f"WS-Management operation timed out after {err.seconds:.0f} s", True
    # requests_ntlm raises PermissionError when the server answers NEGOTIATE without a challenge.
    if isinstance(err, InvalidCredentialsError) or (isinstance(err, PermissionError) and "NTLM" in str(err)):
        return "auth", f"credentials refused (HTTP 401) for user '{conn.user}' over {conn.transport}", False
    if type(err).__name__ == "NTStatusException" and "0x8009030c" in str(err).lower():
        # requests-credssp: the guest's CredSSP acceptor answered SEC_E_LOGON_DENIED (no HTTP 401 here).
        return "auth", f"credentials refused (SEC_E_LOGON_DENIED) for user '{conn.user}' over {conn.transport}", False
    if isinstance(err, WinRMOperationTimeoutError):
        return "operation-timeout", "WS-Management operation timed out", True
    if isinstance(err, WSManFaultError):
        reason = " ".join(str(err.reason).split())
        return "wsman-fault", f"WS-Management fault {err.wsman_fault_code}: {reason}", err.code >= 500
    if isinstance(err, WinRMTransportError):
        return "http", f"HTTP {err.code} from {where}", err.code >= 500
    if isinstance(err, requests.exceptions.SSLError):
        return "tls", f"TLS error at {where}: check the certificate or ansible_winrm_ca_trust_path", False
    if isinstance(err, requests.exceptions.ConnectTimeout):
        return "unreachable", f"no answer from {where} within {conn.read_timeout_sec} s (host down?)", True
    if isinstance(err, requests.exceptions.ReadTimeout):
        return "read-timeout", f"no HTTP response from {where} within {conn.read_timeout_sec} s (read timeout)", True
    if isinstance(err, requests.exceptions.ConnectionError):
        return _connection_problem(err, where)
    if isinstance(err, WinRMError):
        return "winrm", f"WinRM error: {_one_line(err)}", False
    if isinstance(err, ET.ParseError | StopIteration | AssertionError | KeyError):
        return "protocol", f"malformed WS-Management response from {where}", False
    return "other", f"{type(err).__name__}: {_one_line(err)}", False


def _kerberos_problem(err: BaseException, conn: Connection, kerberos: KerberosSettings) -> tuple[str, str, bool] | None:
    if isinstance(err, InvalidCredentialsError):
        # The guest could not accept the ticket: its keytab lacks the key (SPN of another account), or the
        # ticket is outside its validity at the guest's clock.
        return (
            "ticket-refused",
            f"Kerberos: the guest refused the ticket for {kerberos.spn} (HTTP 401): check the SPN belongs to this "
            "guest's computer account (setspn -Q) and the guest's clock",
            False,
        )
    for cause in _causes(err):
        if isinstance(cause, KerberosTicketError) or type(cause).__name__ == "KerberosExchangeError":
            found = describe_kerberos(str(cause), kerberos, conn.user)
            if found is not None:
                return (*found, found[0] == "kdc-unreachable")
            return "kerberos", f"Kerberos failed for {kerberos.spn}: {_one_line(cause)}", False
    return None


def _certificate_problem(err: BaseException) -> tuple[str, str, bool] | None:
    """The guest's verdict on the client certificate: a TLS alert during the handshake, or a 401 after it."""
    if isinstance(err, InvalidCredentialsError):
        return (
            "certificate-unmapped",
            "the guest maps no user to the client certificate (HTTP 401): add a certificate mapping for its subject "
            "(winrm create winrm/config/service/certmapping) or check ansible_winrm_cert_pem",
            False,
        )
    alerts = " ".join(str(cause) for cause in _causes(err)).lower()
    if any(alert in alerts for alert in ("alert unknown ca", "alert bad certificate", "alert certificate unknown")):
        return (
            "certificate-untrusted",
            "the guest does not trust the issuer of the client certificate (ansible_winrm_cert_pem): use a "
            "certificate from a CA in the guest's Trusted Root store",
            False,
        )
    return None


def _connection_problem(err: BaseException, where: str) -> tuple[str, str, bool]:
    for cause in _causes(err):
        if isinstance(cause, ConnectionRefusedError):
            return (
                "refused",
                f"connection refused at {where} (port closed?): check the guest is up and WinRM listens",
                False,
            )
        if isinstance(cause, socket.gaierror):
            return "unresolved", f"cannot resolve the host of {where}", False
        if isinstance(cause, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
            return "reset", f"connection reset by {where}", True
    if "RemoteDisconnected" in str(err) or "Connection aborted" in str(err):
        return "reset", f"connection closed by {where} without a response", True
    return "unreachable", f"cannot connect to {where}", True


def _encoding_failed(err: BaseException) -> bool:
    """Whether encoding the credentials failed: the codec's message would quote a character of the password."""
    return any(isinstance(e, UnicodeEncodeError) for e in _causes(err))


def _causes(err: BaseException) -> list[BaseException]:
    """`err`, the exceptions in its args (urllib3 wraps them there) and its causes, breadth first."""
    seen: list[BaseException] = []
    todo: list[object] = [err]
    while todo and len(seen) < 20:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or any(item is s for s in seen):
            continue
        seen.append(item)
        todo.extend([*item.args, getattr(item, "reason", None), item.__cause__, item.__context__])
    return seen


def _safe_cause(err: BaseException, secret: str | None) -> BaseException | None:
    """`err` as the chained cause, unless its traceback would show the password, whole or in part."""
    if secret and secret in "".join(traceback.format_exception(err)):
        return None
    if _encoding_failed(err):
        return None  # an encoding error names the offending character and its position in the password
    return err


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."
