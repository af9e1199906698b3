"""Before a live run contacts any guest: every selected guest's connection settings can work, or one usage error.

A setting that cannot work (no password, a transport the suite does not speak, an endpoint that is no URL, a
Jinja template or Ansible Vault value) would otherwise fail the same way on every guest and every control,
after the run has started. Here it stops the run once, naming each problem and the guests it concerns.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from hotpatch_audit.errors import InventoryError
from hotpatch_audit.inputs.connection import PASSWORD_UNUSABLE, TRANSPORTS
from hotpatch_audit.inputs.inventory import Guest

_SHOWN = 5
ALLOW_PLAINTEXT_BASIC = "hotpatch_allow_plaintext_basic"


def plaintext_basic_allowed(guest: Guest) -> bool:
    """Whether the inventory explicitly accepts Basic authentication over plain http for `guest`."""
    return guest.vars.get(ALLOW_PLAINTEXT_BASIC) is True


def guest_problems(guest: Guest) -> list[str]:
    """Why `guest` cannot be contacted as configured (empty when it can)."""
    conn = guest.connection
    problems = list(guest.problems)
    if conn.transport not in TRANSPORTS:
        problems.append(f"transport '{conn.transport}' is not supported (use one of {', '.join(TRANSPORTS)})")
    if conn.transport == "certificate":
        if conn.scheme != "https":
            problems.append("transport certificate needs https (ansible_winrm_scheme)")
        for key, path in (("ansible_winrm_cert_pem", conn.cert_pem), ("ansible_winrm_cert_key_pem", conn.cert_key_pem)):
            if not path or not Path(path).is_file():
                problems.append(f"transport certificate needs {key}: the file {path or '(not set)'} is not there")
    elif conn.transport != "kerberos":
        if not conn.user:
            problems.append(f"transport {conn.transport} needs a user: set ansible_user")
        unusable = any(PASSWORD_UNUSABLE in p for p in guest.problems)  # already said, with its line
        if conn.password is None and conn.password_env is None and not unusable:
            problems.append(
                f"transport {conn.transport} needs a password: set hotpatch_password_env to the name of an "
                "environment variable that holds it (or ansible_password)"
            )
    if conn.transport == "basic" and conn.scheme == "http" and not plaintext_basic_allowed(guest):
        problems.append(
            "transport basic over http would send the password in clear: use https (ansible_winrm_scheme), or "
            f"ntlm or kerberos, or set {ALLOW_PLAINTEXT_BASIC}: true for a test network"
        )
    ticket_cache = conn.transport == "kerberos" and guest.vars.get("ansible_winrm_kinit_mode") == "manual"
    needs_password = conn.transport != "certificate" and not ticket_cache
    if (
        needs_password
        and conn.password is None
        and conn.password_env is not None
        and conn.password_env not in os.environ
    ):
        problems.append(f"environment variable {conn.password_env} (hotpatch_password_env) is not set")
    return problems


def check_live_settings(guests: Sequence[Guest], source: Path) -> None:
    """Raise one InventoryError listing each problem and its guests when any selected guest cannot be contacted."""
    by_problem: dict[str, list[str]] = {}
    for guest in guests:
        for problem in guest_problems(guest):
            by_problem.setdefault(problem, []).append(guest.name)
    if not by_problem:
        return
    affected = {name for names in by_problem.values() for name in names}
    lines = [
        f"{len(affected)} of {len(guests)} selected guests of {source} cannot be contacted as configured; "
        "no guest was contacted:"
    ]
    for problem, names in by_problem.items():
        more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
        lines.append(f"  {', '.join(names[:_SHOWN])}{more}: {problem}")
    raise InventoryError("\n".join(lines))
