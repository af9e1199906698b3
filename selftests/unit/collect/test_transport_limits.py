"""The transport's limits: a guest printing without end is stopped, and a password never shows in part."""

from __future__ import annotations

import time
import traceback

import pytest

from hotpatch_audit.collect.transport import MAX_OUTPUT_BYTES, CollectionFailure, WinRMTransport, open_transport
from hotpatch_audit.inputs.inventory import Connection, Guest, Secret

PASSWORD = "Gr\u00fcn-\u20ac-Kurs-91!"


class _Endless:
    """What pywinrm's Protocol answers for a command that prints 1 MiB per Receive, forever."""

    operation_timeout_sec = 20

    def get_command_output_raw(self, shell_id: str, command_id: str) -> tuple[bytes, bytes, int, bool]:
        return b"x" * (1024 * 1024), b"", 0, False


def test_output_beyond_the_cap_stops_the_guest() -> None:
    connection = Connection(host="127.0.0.1", port=1, scheme="http", user="auditor", password=Secret("x"))
    guest = Guest("vm", (), {}, connection)
    transport = WinRMTransport(guest)
    with pytest.raises(Exception, match="bytes") as caught:
        transport._receive(_Endless(), "shell", "command", deadline=time.monotonic() + 60)  # type: ignore[arg-type]
    assert type(caught.value).__name__ == "_OutputTooLarge"
    assert caught.value.received > MAX_OUTPUT_BYTES  # type: ignore[attr-defined]
    assert caught.value.received <= MAX_OUTPUT_BYTES + 1024 * 1024  # type: ignore[attr-defined]


def test_a_password_outside_latin1_is_named_by_its_problem_never_by_its_characters() -> None:
    connection = Connection(
        host="127.0.0.1", port=1, scheme="https", transport="basic", user="auditor", password=Secret(PASSWORD)
    )
    guest = Guest("vm", (), {}, connection)
    with pytest.raises(CollectionFailure) as caught, open_transport(guest, deadline_sec=5) as transport:
        transport.run_cmd("hostname")
    assert "cannot be encoded" in str(caught.value)
    printed = "".join(traceback.format_exception(caught.value))
    for part in ("\u20ac", "\u00fc", "position"):
        assert part not in printed
