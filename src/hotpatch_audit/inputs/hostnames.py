"""Host entries of an Ansible inventory: ``name:port`` suffixes, ``[a:b:step]`` ranges, and what a guest name may be.

Parsing follows ansible-core (``parse_address`` and ``expand_hostname_range``): an entry that is not a host name
with an optional ``:port`` is taken literally, the first ``[...]`` is expanded and the rest recursively. Where
Ansible refuses a range, so does the suite; it also refuses what Ansible would expand silently into nothing or
into millions of hosts.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable

from hotpatch_audit.inputs.yamlsrc import printable

MAX_HOSTS = 100_000

_NUMERIC = r"\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]"
_HEX = r"\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]"
_ALNUM = r"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]"
_LABEL = rf"(?:[\w]|{_ALNUM})(?:[\w_-]|{_ALNUM})*(?<![_-])"
_V6 = rf"(?:[0-9a-f]{{1,4}}|{_HEX})"
_V4 = rf"(?:[01]?[0-9]{{1,2}}|2[0-4][0-9]|25[0-5]|{_NUMERIC})"
_BRACKETED_PORT = re.compile(r"^\[(.+)\]:([0-9]+)$")
_HOST_PORT = re.compile(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$")
_IPV4 = re.compile(rf"^(?:{_V4}\.){{3}}{_V4}$", re.I)
_IPV6 = re.compile(
    rf"""^((?:{_V6}:){{7}}{_V6}|(?:{_V6}:){{1,6}}:|(?:{_V6}:)(?::{_V6}){{1,6}}|(?:{_V6}:){{2}}(?::{_V6}){{1,5}}|
    (?:{_V6}:){{3}}(?::{_V6}){{1,4}}|(?:{_V6}:){{4}}(?::{_V6}){{1,3}}|(?:{_V6}:){{5}}(?::{_V6}){{1,2}}|
    (?:{_V6}:){{6}}(?::{_V6})|:(?::{_V6}){{1,6}}|{_V6}?::|(?:0:){{6}}(?:{_V6}\.){{3}}{_V6}|
    ::(?:ffff:)?(?:{_V6}\.){{3}}{_V6}|(?:0:){{5}}ffff:(?:{_V6}\.){{3}}{_V6})$""".replace("\n", "").replace(" ", ""),
    re.I,
)
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$", re.I | re.UNICODE)
_NAME_CHARS = re.compile(r"^[\w.:-]+$", re.UNICODE)


def is_address(text: str, *, ranges: bool = False) -> bool:
    """Whether `text` is a host name, IPv4 or IPv6 address as Ansible parses them (ranges only if `ranges`)."""
    if not ranges and "[" in text:
        return False
    return any(p.match(text) for p in (_IPV4, _IPV6, _HOSTNAME))


def parse_address(entry: str) -> tuple[str, int | None] | None:
    """Ansible's ``parse_address`` with ranges: (host, port or None), or None when `entry` is no address."""
    host, port = entry, None
    for pattern in (_BRACKETED_PORT, _HOST_PORT):
        match = pattern.match(host)
        if match:
            host, port = match.group(1), int(match.group(2))
    return (host, port) if is_address(host, ranges=True) else None


def split_port(entry: str) -> tuple[str, int | None]:
    """``web01:5999`` → (``web01``, 5999); an entry Ansible cannot parse as an address is kept whole."""
    return parse_address(entry) or (entry, None)


def expand(entry: str, fail: Callable[[str], Exception], budget: list[int]) -> list[str]:
    """Ansible's range expansion of one host entry; `budget` holds the hosts still allowed in this inventory."""
    if "[" not in entry:
        budget[0] -= 1
        if budget[0] < 0:
            raise fail(f"the inventory defines more than {MAX_HOSTS:,} hosts")
        return [entry]
    parts = entry.replace("[", "|", 1).replace("]", "|", 1).split("|")
    if len(parts) != 3:
        raise fail(f"host range in '{printable(entry)}' is not closed with ']'")
    head, spec, tail = parts
    values = _range_values(spec, fail)
    if not values:
        raise fail(f"host range [{spec}] in '{printable(entry)}' is empty")
    if len(values) > budget[0]:
        raise fail(
            f"host range [{spec}] in '{printable(entry)}' makes the inventory define more than {MAX_HOSTS:,} hosts"
        )
    return [host for value in values for host in expand(f"{head}{value}{tail}", fail, budget)]


def _range_values(spec: str, fail: Callable[[str], Exception]) -> list[str]:
    bounds = spec.split(":")
    if len(bounds) not in (2, 3):
        raise fail(f"host range [{spec}] must be begin:end or begin:end:step")
    begin, end = bounds[0] or "0", bounds[1]
    step_text = bounds[2] if len(bounds) == 3 else "1"
    if not end:
        raise fail(f"host range [{spec}] must specify an end value")
    if not step_text.isdigit() or int(step_text) < 1:
        raise fail(f"host range [{spec}] must have a whole step of at least 1")
    step = int(step_text)
    width = len(begin) if begin[0] == "0" and len(begin) > 1 else 0
    if width and width != len(end):
        raise fail(f"host range [{spec}] must have begin and end of the same length (zero-padded begin)")
    letters = string.ascii_letters
    if begin in letters and end in letters and len(begin) == len(end) == 1:
        first, last = letters.index(begin), letters.index(end)
        if first > last:
            raise fail(f"host range [{spec}] must have begin <= end")
        return list(letters[first : last + 1 : step])
    if not (begin.isdigit() and end.isdigit()):
        raise fail(f"host range [{spec}] must be numeric or single letters")
    first, last = int(begin), int(end)
    if (last - first) // step >= MAX_HOSTS:
        raise fail(f"host range [{spec}] makes the inventory define more than {MAX_HOSTS:,} hosts")
    return [str(i).zfill(width) for i in range(first, last + 1, step)]


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a guest's name (it becomes a test id, a file name and a report cell), or None."""
    if not name:
        return "a guest name cannot be empty"
    if len(name) > 255:
        return f"a guest name has at most 255 characters, this one has {len(name)}"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        return "a guest name cannot contain control characters"
    if "/" in name or "\\" in name or ".." in name or name.startswith("."):
        return "a guest name cannot contain '/', '\\' or '..', nor start with '.'"
    if not _NAME_CHARS.match(name):
        return (
            "a guest name is a host name or address: letters, digits, '-', '_', '.' and ':' only "
            "(put the address in ansible_host)"
        )
    return None
