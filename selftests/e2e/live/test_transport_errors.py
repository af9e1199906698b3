"""Transport failures that the simulator does not model, from tiny misbehaving endpoints: reset, 503, silence."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from e2e.live.livesupport import PASSWORD
from hotpatch_audit.collect.collector import collect
from hotpatch_audit.collect.transport import CollectionFailure
from hotpatch_audit.inputs.inventory import Connection, Guest, Secret

pytestmark = pytest.mark.e2e


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
    )
    while len(body) < length:
        body += conn.recv(65536)


@contextmanager
def endpoint(mode: str) -> Iterator[int]:
    """A loopback port that resets connections, answers 503, or never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    stop, accepted = threading.Event(), []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(conn)
            if mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            elif mode == "503":
                _read_request(conn)
                conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()


def guest_at(port: int) -> Guest:
    connection = Connection(
        host="127.0.0.1", port=port, scheme="http", transport="basic", user="auditor", password=Secret(PASSWORD),
        read_timeout_sec=2, operation_timeout_sec=1,
    )  # fmt: skip
    return Guest(name="vm-x", groups=(), vars={}, connection=connection)


@pytest.mark.parametrize(
    ("mode", "message", "transient"),
    [
        ("reset", r"connection reset by http://127\.0\.0\.1:\d+/wsman", True),
        ("503", r"HTTP 503 from http://127\.0\.0\.1:\d+/wsman", True),
        ("silent", r"no HTTP response from http://127\.0\.0\.1:\d+/wsman within 2 s \(read timeout\)", True),
    ],
)
def test_transport_failure_is_one_line_and_classified(mode: str, message: str, transient: bool) -> None:
    with endpoint(mode) as port, pytest.raises(CollectionFailure, match=f"^vm-x: {message}$") as caught:
        collect(guest_at(port))
    assert caught.value.transient is transient
    assert PASSWORD not in str(caught.value)
