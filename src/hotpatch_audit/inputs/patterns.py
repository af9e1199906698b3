"""Ansible host patterns for ``--limit``: names, groups, globs, ``~regex``, comma lists, ``&`` and ``!``.

Like Ansible, plain terms are united first, then ``&`` terms intersect and ``!`` terms exclude, whatever
their order. Unlike Ansible, a selection that ends up empty is an error: a gate must never pass on nothing.
"""

from __future__ import annotations

import fnmatch
import re

from hotpatch_audit.errors import InventoryError
from hotpatch_audit.inputs.inventory import Guest, Inventory


def _split(pattern: str) -> list[str]:
    return [t.strip() for t in re.split(r"[,:]", pattern) if t.strip()]


def _match(inventory: Inventory, term: str, what: str = "--limit") -> set[str]:
    if term in ("all", "*"):
        return set(inventory.guests)
    if term.startswith("~"):
        try:
            rx = re.compile(term[1:])
        except re.error as err:
            msg = f"{what}: '{term}' is not a valid regular expression: {err}"
            raise InventoryError(msg) from err

        def hit(name: str) -> bool:
            return rx.match(name) is not None
    else:

        def hit(name: str) -> bool:
            return fnmatch.fnmatchcase(name, term)

    out = {h for h in inventory.guests if hit(h)}
    for group in inventory.group_hosts:
        if hit(group):
            out |= inventory.hosts_of_group(group)
    return out


def hosts_matching(inventory: Inventory, pattern: str, what: str = "--limit") -> frozenset[str]:
    """Names of the guests `pattern` matches by host or group name, possibly none (`what` names the source)."""
    terms = _split(pattern)
    plain = [t for t in terms if t[0] not in "&!"]
    chosen = set().union(*(_match(inventory, t, what) for t in plain)) if plain else set(inventory.guests)
    for term in terms:
        if term.startswith("&"):
            chosen &= _match(inventory, term[1:], what)
    for term in terms:
        if term.startswith("!"):
            chosen -= _match(inventory, term[1:], what)
    return frozenset(chosen)


def select(inventory: Inventory, pattern: str | None) -> list[Guest]:
    """The guests matched by `pattern`, in inventory order; all guests when `pattern` is None."""
    if pattern is None:
        return list(inventory)
    if not _split(pattern):
        msg = f"--limit '{pattern}' contains no pattern"
        raise InventoryError(msg)
    chosen = hosts_matching(inventory, pattern)
    if not chosen:
        msg = f"--limit '{pattern}' matched no guest of {inventory.path}"
        raise InventoryError(msg)
    return [g for g in inventory if g.name in chosen]
