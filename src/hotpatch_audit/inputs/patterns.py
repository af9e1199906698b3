"""Ansible host patterns for ``--limit`` and waivers, evaluated as ansible-core's InventoryManager does.

A pattern is a comma list (or, without commas, a colon list) of terms: a host or group name, a glob, a
``~regex``, each optionally subscripted (``web[0]``, ``web[-1]``, ``web[0:2]``, ``web[1:]``), prefixed with ``&``
(intersect) or ``!`` (exclude), or ``@file`` (one term per line). Plain terms are united first, then ``&`` and
``!`` apply, whatever their order. A plain term that is exactly a host's name selects that host even when a group
has the same name; a prefixed one, a glob or a regex matches group names first. Unlike Ansible, a selection that
ends up empty is an error: a gate must never pass on nothing.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from hotpatch_audit.errors import InventoryError
from hotpatch_audit.inputs.hostnames import parse_address
from hotpatch_audit.inputs.inventory import Guest, Inventory

_SUBSCRIPT = re.compile(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$")
_COLON_TERMS = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")


def split_pattern(pattern: str, what: str = "--limit") -> list[str]:
    """Ansible's split: commas; else one term when it reads as an address or range; else colons outside ``[]``.

    Ansible's colon split silently drops an unbalanced bracket (``~web[`` becomes ``~web``); the audit refuses it.
    """
    if "," in pattern:
        terms = pattern.split(",")
    elif parse_address(pattern) is not None:
        terms = [pattern]
    else:
        terms = _COLON_TERMS.findall(pattern)
        if _COLON_TERMS.sub("", pattern).strip(": \t\n"):
            if pattern.startswith("~"):
                _compile(pattern.strip(), what)
            raise InventoryError(f"{what}: '{pattern}' is not a valid host pattern: unbalanced '[' or ']'")
    return [t.strip() for t in terms if t.strip()]


def _terms(pattern: str, what: str) -> list[str]:
    """The terms, with ``@file`` replaced by the file's lines (relative to the working directory, as in Ansible)."""
    out: list[str] = []
    for term in split_pattern(pattern, what):
        if not term.startswith("@"):
            out.append(term)
            continue
        path = Path(term[1:])
        if not path.is_file():
            problem = "is a directory, not a file" if path.is_dir() else "does not exist"
            raise InventoryError(f"{what}: limit file {path} {problem}")
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as err:
            raise InventoryError(f"{what}: cannot read limit file {path}: {err}") from err
        out.extend(line.strip() for line in lines if line.strip())
    return out


def _compile(term: str, what: str) -> re.Pattern[str]:
    try:
        return re.compile(term[1:] if term.startswith("~") else fnmatch.translate(term))
    except re.error as err:
        kind = "regular expression" if term.startswith("~") else "host pattern"
        raise InventoryError(f"{what}: '{term}' is not a valid {kind}: {err}") from err


def _subscript(term: str) -> tuple[str, tuple[int, int | None] | None]:
    if term.startswith("~"):
        return term, None
    match = _SUBSCRIPT.match(term)
    if match is None:
        return term, None
    base, index, start, _, end = match.groups()
    if index is not None:
        return base, (int(index), None)
    return base, (int(start), int(end) if end else -1)


def _match_one(inventory: Inventory, term: str, what: str) -> list[str]:
    expr, subscript = _subscript(term)
    rx = _compile(expr, what)
    groups = [g for g in inventory.group_hosts if rx.match(g)]
    hosts: list[str] = []
    for group in groups:
        hosts.extend(inventory.hosts_of_group(group))
    if not groups or expr.startswith("~") or any(c in expr for c in ".?*["):
        hosts.extend(h for h in inventory.guests if rx.match(h))
    if not hosts or subscript is None:
        return hosts
    start, end = subscript
    if end:  # Ansible reads an end of 0 as no end: g[2:0] is g[2]
        return hosts[start : (len(hosts) - 1 if end == -1 else end) + 1]
    if not -len(hosts) <= start < len(hosts):
        raise InventoryError(f"{what}: no host matched the subscripted pattern '{term}'")
    return [hosts[start]]


def hosts_matching(inventory: Inventory, pattern: str, what: str = "--limit") -> frozenset[str]:
    """Names of the guests `pattern` matches, possibly none (`what` names the source in messages)."""
    return frozenset(_evaluate(inventory, _terms(pattern, what), what))


def _evaluate(inventory: Inventory, terms: list[str], what: str) -> list[str]:
    plain = [t for t in terms if t[0] not in "&!"] or ["all"]
    ordered = plain + [t for t in terms if t[0] == "&"] + [t for t in terms if t[0] == "!"]
    chosen: dict[str, None] = {}
    for term in ordered:
        if term in inventory.guests:
            chosen[term] = None
            continue
        matched = _match_one(inventory, term[1:] if term[0] in "&!" else term, what)
        if term[0] == "!":
            for name in matched:
                chosen.pop(name, None)
        elif term[0] == "&":
            keep = set(matched)
            chosen = {name: None for name in chosen if name in keep}
        else:
            chosen.update(dict.fromkeys(matched))
    return list(chosen)


def select(inventory: Inventory, pattern: str | None) -> list[Guest]:
    """The guests matched by `pattern`, in inventory order; all guests when `pattern` is None."""
    if pattern is None:
        chosen = frozenset(inventory.guests)
    else:
        terms = _terms(pattern, "--limit")
        if not terms:
            raise InventoryError(f"--limit '{pattern}' contains no pattern")
        chosen = frozenset(_evaluate(inventory, terms, "--limit"))
    if not chosen and pattern is None:
        raise InventoryError(f"{inventory.path} defines no guest: there is nothing to audit")
    if not chosen:
        raise InventoryError(f"--limit '{pattern}' matched no guest of {inventory.path}: there is nothing to audit")
    return [g for g in inventory if g.name in chosen]
