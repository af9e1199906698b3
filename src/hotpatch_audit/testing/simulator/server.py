"""Serve a simulated fleet: one WS-Management endpoint over HTTP (or HTTPS) per guest, on 127.0.0.1 only.

Each guest listens on its own port. One selector thread accepts on every listening socket and hands each new
connection to a thread of its own (socketserver's ThreadingMixIn), so 1,000 idle guests cost 1,000 sockets and
no threads. Handlers speak HTTP/1.1 keep-alive with TCP_NODELAY (without it, Nagle and delayed ACKs add about
40 ms per request) and send a Content-Length on every response, 401s included, because NTLM is bound to the
connection. A guest with the ``port_closed`` fault gets a bound socket that never listens: connections to it
are refused, and no other process can take the port meanwhile.

As on Windows, an Identify request marked ``WSMANIDENTIFY: unauthenticated`` is answered without credentials;
everything else needs them: NTLM, or Kerberos for a guest given a keytab (``simulator.ntlm``), both with message
encryption over http; or, over https, a client certificate the TLS context verified and mapped to the user.
Basic authentication over plain http is refused with a 401, whatever the password, unless the fleet allows
unencrypted traffic (WinRM's ``AllowUnencrypted``): Basic cannot encrypt messages, so a real host's default
refuses it on an http listener (pywinrm issues #59 and #154: Basic over http
is "rejected" until ``AllowUnencrypted`` is set).
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import socketserver
import ssl
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from hotpatch_audit.testing.simulator.model import Fleet, GuestState, load_fleet
from hotpatch_audit.testing.simulator.ntlm import ENCRYPTED_TYPE, ConnectionAuth, ntlm_user_file
from hotpatch_audit.testing.simulator.wsman import GuestRuntime, identify_response, is_identify

log = logging.getLogger(__name__)
LOOPBACK = "127.0.0.1"
DEMO_FLEET = Path(__file__).with_name("demo_fleet.yml")


class _GuestServer(ThreadingHTTPServer):
    """The endpoint of one guest; its accept loop is the fleet's selector thread."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        state: GuestState,
        fleet: Fleet,
        password: str,
        connections: set[socket.socket],
        tls: ssl.SSLContext | None,
        keytab: Path | None,
    ) -> None:
        super().__init__((LOOPBACK, 0), _Handler)
        if tls is not None:
            # The TLS handshake happens in the connection's own thread (Handler.setup), never in the accept loop.
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self.runtime = GuestRuntime(state)
        self.user, self.password = fleet.user, password
        self.basic_allowed = tls is not None or fleet.allow_unencrypted
        self.keytab = keytab
        self._connections = connections

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which costs a resolver call per guest.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = LOOPBACK, self.server_address[1]

    def accept_one(self) -> None:
        """Accept one waiting connection and start its handler thread (socketserver's own non-blocking step)."""
        self._handle_request_noblock()  # type: ignore[attr-defined]

    def process_request(self, request: Any, client_address: Any) -> None:
        self._connections.add(request)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away mid-request or rejects the certificate is normal here: log, do not print.
        log.debug("%s: connection error: %r", self.runtime.state.name, sys.exc_info()[1])

    def shutdown_request(self, request: Any) -> None:
        self._connections.discard(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 300  # an idle keep-alive connection ends its thread after this many seconds
    server: _GuestServer

    def setup(self) -> None:
        super().setup()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        state = self.server.runtime.state
        self.auth = ConnectionAuth(
            self.server.user,
            self.server.password,
            refuse=state.faults.credentials_refused,
            basic_allowed=self.server.basic_allowed,
            keytab=self.server.keytab,
            certificate_user=_certificate_subject(self.request),
            credssp_allowed=isinstance(self.request, ssl.SSLSocket),  # WinRM's CredSSP: over https only, here
        )

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s: %s", self.server.runtime.state.name, format % args)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("WSMANIDENTIFY", "").lower() == "unauthenticated" and _is_identify(body):
            self.server.runtime.count("Identify")
            self._reply(200, identify_response())
            return
        authorization = self.headers.get("Authorization", "")
        mutual: list[str] = []
        if authorization or not self.auth.done:
            ok, challenges = self.auth.check(authorization)
            if ok and self.auth.done and authorization:
                self.server.runtime.count(f"{self.auth.mechanism}-handshake")
                if self.auth.delegated:
                    self.server.runtime.count("kerberos-delegated")
                mutual = [self.auth.final_token] if self.auth.final_token else []
            if not ok:
                self._reply(401, b"", challenges=challenges)
                return
        if not body:
            self._reply(200, b"", challenges=mutual)  # pywinrm's empty POST that sets up message encryption
            return
        encrypted = "multipart/encrypted" in self.headers.get("Content-Type", "")
        try:
            request = self.auth.decrypt(body) if encrypted else body
        except (ValueError, IndexError) as err:
            log.debug("%s: undecryptable request: %s", self.server.runtime.state.name, err)
            self._reply(400, b"")
            return
        status, response = self.server.runtime.handle(request)
        if encrypted:
            self._reply(status, self.auth.encrypt(response), challenges=mutual, content_type=ENCRYPTED_TYPE)
        else:
            self._reply(status, response, challenges=mutual)

    def _reply(
        self,
        status: int,
        body: bytes,
        *,
        challenges: list[str] | None = None,
        content_type: str = "application/soap+xml;charset=UTF-8",
    ) -> None:
        self.send_response(status)
        for challenge in challenges or ():
            self.send_header("WWW-Authenticate", challenge)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _certificate_subject(connection: Any) -> str | None:
    """The common name of the client certificate TLS verified on `connection`, if the client sent one."""
    if not isinstance(connection, ssl.SSLSocket):
        return None
    subject: Any = (connection.getpeercert() or {}).get("subject", ())  # ((("commonName", "auditor"),), ...)
    for rdn in subject:
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def _is_identify(body: bytes) -> bool:
    try:
        return is_identify(ET.fromstring(body))  # noqa: S314 - loopback test server; expat refuses entity bombs
    except ET.ParseError:
        return False  # not an Identify: it goes through authentication like any other request


@dataclass
class RunningFleet:
    """A fleet being served: the port of each guest, and how to reach them."""

    fleet: Fleet
    ports: dict[str, int]
    password_env: str
    scheme: str = "http"
    _servers: list[_GuestServer] = field(default_factory=list, repr=False)

    def inventory(self, *, transport: str = "ntlm", **extra_vars: Any) -> dict[str, Any]:
        """An Ansible YAML inventory (as data) for the fleet; the password is named, never written."""
        groups: dict[str, dict[str, Any]] = {}
        for state in self.fleet.guests:
            for group in state.groups:
                groups.setdefault(group, {"hosts": {}})["hosts"][state.name] = None
        common = {
            "ansible_connection": "winrm",
            "ansible_winrm_scheme": self.scheme,
            "ansible_winrm_transport": transport,
            "ansible_user": self.fleet.user,
            "hotpatch_password_env": self.password_env,
            **extra_vars,
        }
        hosts = {name: {"ansible_host": LOOPBACK, "ansible_port": port} for name, port in self.ports.items()}
        return {"all": {"vars": common, "hosts": hosts, "children": groups}}

    def counts(self, name: str) -> dict[str, int]:
        """How many WS-Management operations (Create, Command, ...) and NTLM handshakes guest `name` served."""
        for server in self._servers:
            if server.runtime.state.name == name:
                return dict(server.runtime.counts)
        return {}

    def write_inventory(self, path: Path, *, transport: str = "ntlm", **extra_vars: Any) -> Path:
        """Write :meth:`inventory` to `path` atomically (its appearance means every guest is listening)."""
        text = "# Simulated fleet on loopback, written by hotpatch_audit.testing.simulator; valid while it runs.\n"
        text += yaml.safe_dump(self.inventory(transport=transport, **extra_vars), sort_keys=False)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
        return path


@contextlib.contextmanager
def serve_fleet(
    fleet: Fleet | Path | str = DEMO_FLEET,
    *,
    password: str | None = None,
    password_env: str | None = None,
    tls: ssl.SSLContext | None = None,
    keytabs: Mapping[str, Path] | None = None,
) -> Iterator[RunningFleet]:
    """Serve every guest of `fleet` until the context exits; over https when a server `tls` context is given.

    A guest named in `keytabs` also accepts Kerberos tickets for the service principals of its keytab (the
    realm's krb5.conf is the process's, ``KRB5_CONFIG``). A `tls` context
    that requests client certificates (``verify_mode`` optional or required, a CA loaded) enables certificate
    authentication: a certificate TLS verified whose subject common name is the fleet's user is that user.

    The password is `password`, else the value of the fleet's password variable (or `password_env`), else the
    fleet's demo password; in the last case the variable is set for this process while the fleet runs, so that
    an in-process audit finds it.
    """
    model = fleet if isinstance(fleet, Fleet) else load_fleet(Path(fleet))
    env_name = password_env or model.password_env
    secret = password or os.environ.get(env_name) or model.demo_password
    if secret is None:
        raise ValueError(f"no password for the simulated fleet: set {env_name}")
    exported = env_name not in os.environ
    if exported:
        os.environ[env_name] = secret
    connections: set[socket.socket] = set()
    servers: list[_GuestServer] = []
    closed: list[socket.socket] = []
    ports: dict[str, int] = {}
    try:
        with ntlm_user_file(model.user, secret):
            for state in model.guests:
                if state.faults.port_closed:
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    sock.bind((LOOPBACK, 0))  # bound, never listening: connection refused
                    closed.append(sock)
                    ports[state.name] = sock.getsockname()[1]
                else:
                    keytab = (keytabs or {}).get(state.name)
                    servers.append(_GuestServer(state, model, secret, connections, tls, keytab))
                    ports[state.name] = servers[-1].server_address[1]
            with _accepting(servers):
                yield RunningFleet(model, ports, env_name, "https" if tls else "http", servers)
    finally:
        for server in servers:
            server.runtime.stop()
            server.server_close()
        for sock in [*closed, *list(connections)]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if exported:
            os.environ.pop(env_name, None)


@contextlib.contextmanager
def _accepting(servers: list[_GuestServer]) -> Iterator[None]:
    """Run one thread that accepts connections on every server's listening socket."""
    selector = selectors.DefaultSelector()
    wake_read, wake_write = socket.socketpair()
    selector.register(wake_read, selectors.EVENT_READ, None)
    for server in servers:
        selector.register(server.socket, selectors.EVENT_READ, server)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            for key, _ in selector.select():
                if isinstance(key.data, _GuestServer):
                    key.data.accept_one()

    thread = threading.Thread(target=loop, name="hotpatch-sim-accept", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        wake_write.send(b"x")
        thread.join(timeout=5)
        selector.close()
        wake_read.close()
        wake_write.close()
