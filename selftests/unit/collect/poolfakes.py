"""Collectors that worker processes can import by name: each guest's behaviour is written in its vars.

``answer`` is ``ok`` (the default), ``refused`` (a permanent fault), ``flaky`` (two transient faults, then facts),
``reset`` (transient every time) or ``crash`` (the collecting process dies). ``sleep`` holds the guest that many
seconds; ``marks``, a folder, gets one file per guest as its collection starts.
"""

from __future__ import annotations

import multiprocessing.connection
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from hotpatch_audit.collect.transport import CollectionFailure
from hotpatch_audit.inputs.inventory import Connection, Guest

_lock = threading.Lock()
_attempts: dict[str, int] = {}


def guest(name: str, **behaviour: Any) -> Guest:
    return Guest(name, ("fleet",), behaviour, Connection(host="127.0.0.1", port=5985, scheme="http"))


def scripted(guest: Guest, *, deadline_sec: float | None = None) -> dict[str, Any]:
    with _lock:
        _attempts[guest.name] = attempt = _attempts.get(guest.name, 0) + 1
    if "marks" in guest.vars:
        (Path(guest.vars["marks"]) / guest.name).touch()
    time.sleep(guest.vars.get("sleep", 0))
    answer = guest.vars.get("answer", "ok")
    if answer == "refused":
        raise CollectionFailure(f"{guest.name}: credentials refused (HTTP 401)", cause="auth")
    if answer == "reset" or (answer == "flaky" and attempt <= 2):
        raise CollectionFailure(f"{guest.name}: connection reset", transient=True, cause="reset")
    if answer == "crash":
        os._exit(3)
    return {"guest": guest.name, "attempt": attempt, "pid": os.getpid()}


def report_ctrl_c(results: multiprocessing.connection.Connection) -> None:
    """Send how this process handles SIGINT as it started (a spawned child's disposition, as inherited)."""
    results.send(signal.getsignal(signal.SIGINT))
