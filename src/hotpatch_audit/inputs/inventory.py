"""Ansible YAML inventories: groups, children, vars with Ansible's precedence, WinRM connection variables.

An existing Ansible inventory of Windows guests loads unchanged. Unknown keys in a group are an error (Ansible
only warns, but an audit must not silently drop a typo). Vars are merged like Ansible: ``all`` first, then
groups by depth, ``ansible_group_priority`` and name, then host vars.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotpatch_audit.errors import InventoryError
from hotpatch_audit.inputs.yamlsrc import Path_, YamlDocument, YamlSourceError, load_yaml

TRANSPORTS = ("ntlm", "kerberos", "credssp", "basic", "certificate")
GROUP_KEYS = frozenset({"hosts", "vars", "children"})
_RANGE = re.compile(r"\[([0-9a-zA-Z]+):([0-9a-zA-Z]+)(?::([0-9]+))?\]")


class Secret:
    """A password that never shows itself in repr, str, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The clear text, for the transport only."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Connection:
    """How to reach one guest over WinRM, from Ansible's connection variables."""

    host: str
    port: int
    scheme: str = "https"
    transport: str = "ntlm"
    user: str | None = None
    password: Secret | None = field(default=None, repr=False)
    password_env: str | None = None
    server_cert_validation: str = "validate"
    ca_trust_path: str | None = None
    cert_pem: str | None = None
    cert_key_pem: str | None = None
    read_timeout_sec: int = 30
    operation_timeout_sec: int = 20
    connection_plugin: str = "winrm"

    @property
    def endpoint(self) -> str:
        """The WS-Management URL (host in brackets when it is an IPv6 address)."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{self.scheme}://{host}:{self.port}/wsman"


@dataclass(frozen=True)
class Guest:
    """One inventory host: its name (the test id), groups, merged vars and connection."""

    name: str
    groups: tuple[str, ...]
    vars: Mapping[str, Any] = field(repr=False)
    connection: Connection


@dataclass(frozen=True)
class Inventory:
    """All guests of an inventory file and its group tree."""

    path: Path
    guests: Mapping[str, Guest]
    group_hosts: Mapping[str, frozenset[str]]
    group_children: Mapping[str, frozenset[str]]

    def __iter__(self) -> Iterator[Guest]:
        return iter(self.guests.values())

    def hosts_of_group(self, group: str) -> frozenset[str]:
        """Hosts of `group` and of all its descendants."""
        seen: set[str] = set()
        todo, out = [group], set[str]()
        while todo:
            g = todo.pop()
            if g in seen:
                continue
            seen.add(g)
            out |= self.group_hosts.get(g, frozenset())
            todo.extend(self.group_children.get(g, frozenset()))
        return frozenset(out)


@dataclass
class _Group:
    name: str
    vars: dict[str, Any] = field(default_factory=dict)
    hosts: set[str] = field(default_factory=set)
    children: set[str] = field(default_factory=set)
    parents: set[str] = field(default_factory=set)


class _Builder:
    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.groups: dict[str, _Group] = {"all": _Group("all"), "ungrouped": _Group("ungrouped")}
        self.host_vars: dict[str, dict[str, Any]] = {}
        self.host_order: list[str] = []

    def fail(self, at: Path_, problem: str) -> InventoryError:
        return InventoryError(f"{self.doc.where(at)}: {problem}")

    def group(self, name: str) -> _Group:
        return self.groups.setdefault(name, _Group(name))

    def parse_group(self, name: str, body: Any, at: Path_) -> None:
        grp = self.group(name)
        if body is None:
            return
        if not isinstance(body, dict):
            raise self.fail(at, f"group '{name}' must be a mapping with hosts/vars/children, found {_kind(body)}")
        for key in body:
            if key not in GROUP_KEYS:
                raise self.fail((*at, key), f"unknown key '{key}' in group '{name}' (expected hosts, vars, children)")
        self.parse_vars(grp.vars, body.get("vars"), (*at, "vars"), f"vars of group '{name}'")
        hosts = body.get("hosts")
        if hosts is not None:
            if not isinstance(hosts, dict):
                raise self.fail(
                    (*at, "hosts"),
                    f"hosts of group '{name}' must be a mapping of host names to vars, found {_kind(hosts)}",
                )
            for pattern, hvars in hosts.items():
                for host in expand_host_pattern(pattern, self.fail, (*at, "hosts", pattern)):
                    if host not in self.host_vars:
                        self.host_vars[host] = {}
                        self.host_order.append(host)
                    self.parse_vars(self.host_vars[host], hvars, (*at, "hosts", pattern), f"vars of host '{host}'")
                    grp.hosts.add(host)
        children = body.get("children")
        if children is not None:
            if not isinstance(children, dict):
                raise self.fail(
                    (*at, "children"),
                    f"children of group '{name}' must be a mapping of group names, found {_kind(children)}",
                )
            for child, child_body in children.items():
                if child == "all":
                    raise self.fail((*at, "children", child), "'all' cannot be a child group")
                grp.children.add(child)
                self.group(child).parents.add(name)
                self.parse_group(child, child_body, (*at, "children", child))

    def parse_vars(self, target: dict[str, Any], value: Any, at: Path_, what: str) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            raise self.fail(at, f"{what} must be a mapping, found {_kind(value)}")
        target.update(value)

    def depth(self, name: str, seen: frozenset[str] = frozenset()) -> int:
        if name == "all":
            return 0
        if name in seen:
            msg = f"{self.doc.path}: group '{name}' is its own ancestor (children cycle)"
            raise InventoryError(msg)
        parents = self.groups[name].parents or {"all"}
        return 1 + max(self.depth(p, seen | {name}) for p in parents)


def load_inventory(path: Path) -> Inventory:
    """Load an Ansible YAML inventory; raise InventoryError naming file, line and key on any problem."""
    try:
        doc = load_yaml(path)
    except YamlSourceError as err:
        raise InventoryError(str(err)) from err
    b = _Builder(doc)
    if doc.data is None:
        msg = f"{path}: the inventory is empty (expected a top-level 'all' group)"
        raise InventoryError(msg)
    if not isinstance(doc.data, dict):
        raise b.fail((), f"the top level must be a mapping of groups, found {_kind(doc.data)}")
    for name, body in doc.data.items():
        b.parse_group(name, body, (name,))
        if name != "all":
            b.groups["all"].children.add(name)
            b.group(name).parents.add("all")
    for host in b.host_order:
        member_of = {g.name for g in b.groups.values() if host in g.hosts}
        if not member_of - {"all"}:
            b.groups["ungrouped"].hosts.add(host)
    guests = {h: _make_guest(b, h) for h in b.host_order}
    return Inventory(
        path=path,
        guests=guests,
        group_hosts={g.name: frozenset(g.hosts) for g in b.groups.values()},
        group_children={g.name: frozenset(g.children) for g in b.groups.values()},
    )


def _ancestors(b: _Builder, group: str) -> set[str]:
    out: set[str] = set()
    todo = [group]
    while todo:
        g = todo.pop()
        if g in out:
            continue
        out.add(g)
        todo.extend(b.groups[g].parents)
    return out


def _make_guest(b: _Builder, host: str) -> Guest:
    direct = {g.name for g in b.groups.values() if host in g.hosts}
    groups: set[str] = {"all"}
    for g in direct:
        groups |= _ancestors(b, g)

    def order(name: str) -> tuple[int, int, str]:
        prio = b.groups[name].vars.get("ansible_group_priority", 1)
        return (b.depth(name), prio if isinstance(prio, int) else 1, name)

    merged: dict[str, Any] = {}
    for g in sorted(groups, key=order):
        merged.update(b.groups[g].vars)
    merged.update(b.host_vars[host])
    return Guest(
        name=host,
        groups=tuple(sorted(groups - {"all"})),
        vars=merged,
        connection=_connection(b, host, merged),
    )


def _connection(b: _Builder, host: str, v: Mapping[str, Any]) -> Connection:
    def bad(key: str, problem: str) -> InventoryError:
        return InventoryError(f"{b.doc.path}: host '{host}': {key}: {problem}")

    def text(key: str, *, secret: bool = False) -> str | None:
        value = v.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            found = type(value).__name__ if secret else _kind(value)
            raise bad(key, f"must be a string, found {found}")
        return str(value)

    def number(key: str, default: int) -> int:
        value = v.get(key, default)
        try:
            result = int(value)
        except (TypeError, ValueError):
            raise bad(key, f"must be a whole number of seconds or a port, found {value!r}") from None
        if result <= 0:
            raise bad(key, f"must be positive, found {result}")
        return result

    scheme = (text("ansible_winrm_scheme") or "https").lower()
    if scheme not in ("http", "https"):
        raise bad("ansible_winrm_scheme", f"must be http or https, found '{scheme}'")
    transport = (text("ansible_winrm_transport") or "ntlm").lower()
    if transport not in TRANSPORTS:
        raise bad("ansible_winrm_transport", f"'{transport}' is not one of {', '.join(TRANSPORTS)}")
    validation = (text("ansible_winrm_server_cert_validation") or "validate").lower()
    if validation not in ("validate", "ignore"):
        raise bad("ansible_winrm_server_cert_validation", f"must be validate or ignore, found '{validation}'")
    read_timeout = number("ansible_winrm_read_timeout_sec", 30)
    op_timeout = number("ansible_winrm_operation_timeout_sec", 20)
    if read_timeout <= op_timeout:
        raise bad(
            "ansible_winrm_read_timeout_sec",
            f"({read_timeout}) must be greater than ansible_winrm_operation_timeout_sec ({op_timeout})",
        )
    password = text("ansible_password", secret=True) or text("ansible_winrm_password", secret=True)
    return Connection(
        host=text("ansible_host") or host,
        port=number("ansible_port", 5986 if scheme == "https" else 5985),
        scheme=scheme,
        transport=transport,
        user=text("ansible_user") or text("ansible_winrm_user"),
        password=Secret(password) if password is not None else None,
        password_env=text("hotpatch_password_env"),
        server_cert_validation=validation,
        ca_trust_path=text("ansible_winrm_ca_trust_path"),
        cert_pem=text("ansible_winrm_cert_pem"),
        cert_key_pem=text("ansible_winrm_cert_key_pem"),
        read_timeout_sec=read_timeout,
        operation_timeout_sec=op_timeout,
        connection_plugin=text("ansible_connection") or "winrm",
    )


def expand_host_pattern(pattern: str, fail: Callable[[Path_, str], Exception], at: Path_) -> list[str]:
    """Expand Ansible host ranges: ``web[01:03]`` → web01, web02, web03; ``db-[a:c]`` → db-a, db-b, db-c."""
    match = _RANGE.search(pattern)
    if match is None:
        return [pattern]
    start, end, step_text = match.groups()
    step = int(step_text) if step_text else 1
    head, tail = pattern[: match.start()], pattern[match.end() :]
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") or len(start) == len(end) else 0
        values = [str(i).zfill(width) for i in range(int(start), int(end) + 1, step)]
    elif len(start) == 1 and len(end) == 1 and start.isalpha() and end.isalpha():
        values = [chr(c) for c in range(ord(start), ord(end) + 1, step)]
    else:
        raise fail(at, f"host range '{match.group(0)}' must be numeric or single letters")
    if not values:
        raise fail(at, f"host range '{match.group(0)}' is empty")
    return [h for v in values for h in expand_host_pattern(f"{head}{v}{tail}", fail, at)]


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"a string ('{value}')" if len(value) < 40 else "a string"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} ({value!r})"
