"""``python -m hotpatch_audit inventory INVENTORY [--limit PATTERN] [--json]``: the guests as the audit resolves them.

It shows what an audit would contact, without contacting anything: each selected guest's groups, endpoint,
transport, user and every resolved variable, secrets shown as ``********``. Exit 0, or 4 with the file, line
and key when the inventory is malformed or the selection is empty.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hotpatch_audit.errors import InventoryError
from hotpatch_audit.inputs.connection import is_secret_name
from hotpatch_audit.inputs.inventory import Guest, load_inventory
from hotpatch_audit.inputs.patterns import select
from hotpatch_audit.inputs.yamlsrc import Vaulted

EXIT_USAGE = 4
MASK = "********"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.add_argument("inventory", type=Path, help="Ansible YAML inventory, or the JSON of ansible-inventory --list")
    parser.add_argument("--limit", help="Ansible host pattern selecting guests, as for the audit")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    """Print the selected guests; 4 on a malformed inventory or an empty selection."""
    try:
        guests = select(load_inventory(args.inventory), args.limit)
    except InventoryError as err:
        print(f"inventory: {err}", file=sys.stderr)  # noqa: T201 - command-line output
        return EXIT_USAGE
    if args.json:
        print(json.dumps({"guests": [describe(g) for g in guests]}, indent=2, ensure_ascii=False))  # noqa: T201
        return 0
    for guest in guests:
        conn = guest.connection
        user = f" as {conn.user}" if conn.user else ""
        print(f"{guest.name}  {conn.endpoint}  {conn.transport}{user}  [{', '.join(guest.groups)}]")  # noqa: T201
        for problem in guest.problems:
            print(f"  cannot be audited live: {problem}")  # noqa: T201 - command-line output
    print(f"{len(guests)} guest(s) selected from {args.inventory}")  # noqa: T201 - command-line output
    return 0


def describe(guest: Guest) -> dict[str, Any]:
    """One guest as the JSON output shows it."""
    conn = guest.connection
    return {
        "name": guest.name,
        "groups": list(guest.groups),
        "host": conn.host,
        "port": conn.port,
        "scheme": conn.scheme,
        "path": conn.path,
        "transport": conn.transport,
        "user": conn.user,
        "endpoint": conn.endpoint,
        "vars": masked(guest.vars),
        "problems": list(guest.problems),
    }


def masked(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` as JSON data, with the value of every secret-named key (at any depth) shown as ``********``."""
    return {key: MASK if is_secret_name(key) else _plain(value) for key, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Vaulted):
        return MASK
    if isinstance(value, Mapping):
        return masked(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
