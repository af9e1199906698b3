"""Ansible inventories, YAML or the JSON ``ansible-inventory --list`` prints, resolved as ansible-core resolves them.

The YAML rules are those of ansible-core's ``yaml`` inventory plugin and ``InventoryData``: sections may be
``null`` or a string shorthand (``hosts: web01``); ``name:port`` entries set ``ansible_port`` when the host is
first seen; a variable set on a name that is also a group goes to the group; a host met again keeps its vars
and takes the new ones in file order. Group vars merge by depth, ``ansible_group_priority`` and name, then host
vars. Three deliberate differences, each an error naming file, line and key where Ansible only warns: an
unknown key in a group (a typo must not drop hosts), a duplicate key, and a host range that expands to nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotpatch_audit.errors import InventoryError
from hotpatch_audit.inputs import hostnames
from hotpatch_audit.inputs.connection import Connection, Origin, Secret, resolve_connection
from hotpatch_audit.inputs.yamlsrc import Path_, Vaulted, YamlDocument, YamlSourceError, load_yaml, printable

__all__ = ["Connection", "Guest", "Inventory", "Secret", "load_inventory"]

GROUP_KEYS = ("vars", "children", "hosts")


@dataclass(frozen=True)
class Guest:
    """One inventory host: its name (the test id), groups, merged vars and connection."""

    name: str
    groups: tuple[str, ...]
    vars: Mapping[str, Any] = field(repr=False)
    connection: Connection
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Inventory:
    """All guests of an inventory and its group tree, in the order Ansible keeps them."""

    path: Path
    guests: Mapping[str, Guest]
    group_hosts: Mapping[str, tuple[str, ...]]
    group_children: Mapping[str, tuple[str, ...]]

    @classmethod
    def empty(cls) -> Inventory:
        """An inventory without guests, to check the syntax of patterns."""
        return cls(Path(), {}, {"all": (), "ungrouped": ()}, {"all": ("ungrouped",), "ungrouped": ()})

    def __iter__(self) -> Iterator[Guest]:
        return iter(self.guests.values())

    def hosts_of_group(self, group: str) -> tuple[str, ...]:
        """Hosts of `group` and its descendants, in Ansible's order: the group's own, then level by level."""
        order: list[str] = [group, *self.group_children.get(group, ())]
        seen = set(order)
        level = list(order)
        while level:
            following = []
            for g in level:
                for child in self.group_children.get(g, ()):
                    if child not in seen:
                        seen.add(child)
                        following.append(child)
            order.extend(following)
            level = following
        hosts: dict[str, None] = {}
        for g in order:
            hosts.update(dict.fromkeys(self.group_hosts.get(g, ())))
        return tuple(hosts)


@dataclass
class _Group:
    name: str
    vars: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    priority: int = 1
    hosts: dict[str, None] = field(default_factory=dict)  # an ordered set
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)


@dataclass
class _Host:
    vars: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)


class _Tree:
    """ansible-core's InventoryData, reduced to what resolution needs: groups, hosts, vars and their origins."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.groups: dict[str, _Group] = {"all": _Group("all"), "ungrouped": _Group("ungrouped")}
        self.hosts: dict[str, _Host] = {}
        self.budget = [hostnames.MAX_HOSTS]
        self.add_child("all", "ungrouped", "")

    def add_group(self, name: Any, where: str) -> str:
        if not isinstance(name, str) or not name:
            raise InventoryError(f"{where}: a group name must be a non-empty string, found {name!r}")
        self.groups.setdefault(name, _Group(name))
        return name

    def add_host(self, name: str, group: str | None, port: int | None, where: str) -> None:
        problem = hostnames.name_problem(name)
        if problem is not None:
            raise InventoryError(f"{where}: {problem}: '{printable(name[:80])}'")
        if name not in self.hosts:
            self.hosts[name] = _Host()
            if port is not None:
                self.set_variable(name, "ansible_port", port, Origin(where, "ansible_port"))
        if group is not None and name not in self.groups[group].hosts:
            self.groups[group].hosts[name] = None
            self.hosts[name].groups.append(group)

    def set_variable(self, entity: str, key: Any, value: Any, origin: Origin) -> None:
        if not isinstance(key, str):
            raise InventoryError(f"{origin.where}: a variable name must be a string, found {key!r}")
        if entity in self.groups:  # as Ansible does, even when a host has this name too
            group = self.groups[entity]
            if key == "ansible_group_priority":
                group.priority = _priority(value, origin)
                return
            group.vars[key], group.origins[key] = value, origin
        else:
            host = self.hosts[entity]
            host.vars[key], host.origins[key] = value, origin

    def add_child(self, parent: str, child: str, where: str) -> None:
        if child == parent or child in self.ancestors(parent):
            raise InventoryError(f"{where}: adding group '{child}' to '{parent}' creates a loop of children")
        if child not in self.groups[parent].children:
            self.groups[parent].children.append(child)
        if parent not in self.groups[child].parents:
            self.groups[child].parents.append(parent)

    def ancestors(self, group: str) -> set[str]:
        out: set[str] = set()
        todo = list(self.groups[group].parents)
        while todo:
            g = todo.pop()
            if g not in out:
                out.add(g)
                todo.extend(self.groups[g].parents)
        return out

    def finish(self) -> Inventory:
        """Ansible's reconcile step, then each host's vars and connection."""
        for name in list(self.groups):
            if name != "all" and not self.groups[name].parents:
                self.add_child("all", name, "")
        ungrouped = self.groups["ungrouped"]
        for name, host in self.hosts.items():
            others = set(host.groups) - {"all", "ungrouped"}
            if "ungrouped" in host.groups and others:
                del ungrouped.hosts[name]
                host.groups.remove("ungrouped")
            elif not others and "ungrouped" not in host.groups:
                ungrouped.hosts[name] = None
                host.groups.append("ungrouped")
        depth = self.depths()
        lineage = {name: self.ancestors(name) | {name} for name in self.groups}
        guests = {name: self.guest(name, depth, lineage) for name in self.hosts}
        return Inventory(
            path=self.source,
            guests=guests,
            group_hosts={g.name: tuple(g.hosts) for g in self.groups.values()},
            group_children={g.name: tuple(g.children) for g in self.groups.values()},
        )

    def depths(self) -> dict[str, int]:
        """Each group's longest distance from ``all`` (Ansible's Group.depth), parents before children."""
        waiting = {name: len(g.parents) for name, g in self.groups.items()}
        depth = dict.fromkeys(self.groups, 0)
        ready = [name for name, count in waiting.items() if count == 0]
        while ready:
            name = ready.pop()
            for child in self.groups[name].children:
                depth[child] = max(depth[child], depth[name] + 1)
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        return depth

    def guest(self, name: str, depth: Mapping[str, int], lineage: Mapping[str, set[str]]) -> Guest:
        host = self.hosts[name]
        member_of: set[str] = set()
        for g in host.groups:
            member_of |= lineage[g]
        merged: dict[str, Any] = {}
        origins: dict[str, Origin] = {}
        for group in sorted((self.groups[g] for g in member_of), key=lambda g: (depth[g.name], g.priority, g.name)):
            merged.update(group.vars)
            origins.update(group.origins)
        merged.update(host.vars)
        origins.update(host.origins)
        connection, problems = resolve_connection(name, merged, origins)
        return Guest(name, tuple(sorted(member_of - {"all"})), merged, connection, problems)


def _priority(value: Any, origin: Origin) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise InventoryError(f"{origin.where}: must be a whole number, found {value!r}") from None


def load_inventory(path: Path) -> Inventory:
    """Load an Ansible YAML inventory or ``ansible-inventory --list`` JSON; InventoryError names file, line and key."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InventoryError(f"{path}: cannot read the inventory: {err}") from err
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text, object_hook=_vault_marker)
        except json.JSONDecodeError as err:
            if path.suffix == ".json":
                raise InventoryError(
                    f"{path}:{err.lineno}: not the JSON of ansible-inventory --list: {err.msg}"
                ) from err
        except RecursionError as err:
            raise InventoryError(f"{path}: JSON nested too deeply to be an inventory") from err
        else:
            return _load_json(path, data)
    try:
        doc = load_yaml(path, ansible=True)
    except YamlSourceError as err:
        raise InventoryError(str(err)) from err
    return _YamlInventory(doc).load()


class _YamlInventory:
    """ansible-core's ``yaml`` inventory plugin over a located YAML document."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.tree = _Tree(doc.path)

    def where(self, at: Path_) -> str:
        return self.doc.where(at)

    def load(self) -> Inventory:
        data = self.doc.data
        if not data:
            raise InventoryError(f"{self.doc.path}: the inventory is empty (expected a top-level 'all' group)")
        if not isinstance(data, dict):
            raise InventoryError(f"{self.where(())}: the top level must be a mapping of groups, found {_kind(data)}")
        if data.get("plugin"):
            raise InventoryError(
                f"{self.where(('plugin',))}: this is an inventory plugin configuration, which only Ansible can run: "
                f"audit its output instead (ansible-inventory -i {self.doc.path} --list --output inventory.json, "
                "then --inventory inventory.json)"
            )
        for name, body in data.items():
            self.group(name, body, (name,))
        return self.tree.finish()

    def group(self, name: str, body: Any, at: Path_) -> str:
        shown = printable(name)
        if body is not None and not isinstance(body, dict):
            raise InventoryError(
                f"{self.where(at)}: group '{shown}' must be a mapping of hosts, vars and children, not {_kind(body)}"
            )
        self.tree.add_group(name, self.where(at))
        if body is None:
            return name
        for key, section in body.items():
            if key not in GROUP_KEYS:
                raise InventoryError(
                    f"{self.where((*at, key))}: unknown key '{printable(key)}' in group '{shown}' "
                    "(expected hosts, vars, children)"
                )
            if isinstance(section, str):
                section = {section: None}
            if section is None:
                continue
            if not isinstance(section, dict):
                raise InventoryError(
                    f"{self.where((*at, key))}: {key} of group '{shown}' must be a mapping, found {_kind(section)}"
                )
            for item, value in section.items():
                here = (*at, key, item)
                if key == "vars":
                    self.tree.set_variable(name, item, value, Origin(self.where(here), item))
                elif key == "children":
                    child = self.group(item, value, here)
                    self.tree.add_child(name, child, self.where(here))
                else:
                    self.hosts(name, item, value, here)
        return name

    def hosts(self, group: str, entry: str, body: Any, at: Path_) -> None:
        where = self.where(at)
        if not body:
            body = {}
        if not isinstance(body, dict):
            raise InventoryError(
                f"{where}: the vars of host '{printable(entry)}' must be a mapping, found {_kind(body)}"
            )

        def fail(problem: str) -> InventoryError:
            return InventoryError(f"{where}: {problem}")

        pattern, port = hostnames.split_port(entry)
        if port is not None and not 1 <= port <= 65535:
            raise fail(f"port {port} is not between 1 and 65535")
        for host in hostnames.expand(pattern, fail, self.tree.budget):
            self.tree.add_host(host, group, port, where)
            for key, value in body.items():
                self.tree.set_variable(host, key, value, Origin(self.where((*at, key)), key))


def _load_json(path: Path, data: Any) -> Inventory:
    """The JSON of ``ansible-inventory --list`` (``--export`` too): groups with hosts, children and vars."""
    if not isinstance(data, dict):
        raise InventoryError(f"{path}: not the JSON of ansible-inventory --list (expected an object of groups)")
    tree = _Tree(path)
    meta = data.get("_meta") or {}
    hostvars = (meta.get("hostvars") or {}) if isinstance(meta, dict) else None
    if not isinstance(hostvars, dict):
        raise InventoryError(f"{path}: _meta.hostvars must be an object of hosts")
    groups = {name: body for name, body in data.items() if name != "_meta"}
    for name, body in groups.items():
        tree.add_group(name, f"{path}: {name}")
        if isinstance(body, list):
            groups[name] = body = {"hosts": body}
        if not isinstance(body, dict) or set(body) - {"hosts", "children", "vars"}:
            raise InventoryError(f"{path}: {name}: a group is an object with hosts, children and vars")
    for name, body in groups.items():
        where = f"{path}: {name}"
        for key, value in (body.get("vars") or {}).items():
            tree.set_variable(name, key, value, Origin(f"{where}.vars.{key}", key))
        for host in _names(body.get("hosts"), f"{where}.hosts"):
            tree.add_host(host, name, None, f"{where}.hosts")
        for child in _names(body.get("children"), f"{where}.children"):
            tree.add_group(child, f"{where}.children")
            tree.add_child(name, child, f"{where}.children")
    for host, variables in hostvars.items():
        where = f"{path}: _meta.hostvars.{host}"
        if not isinstance(variables, dict):
            raise InventoryError(f"{where}: the vars of a host must be an object")
        tree.add_host(host, None, None, where)
        for key, value in variables.items():
            tree.set_variable(host, key, value, Origin(f"{where}.{key}", key))
    return tree.finish()


def _names(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InventoryError(f"{where}: must be a list of names")
    return value


def _vault_marker(obj: dict[str, Any]) -> Any:
    return Vaulted() if set(obj) == {"__ansible_vault"} else obj


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"a string ('{printable(value)}')" if len(value) < 40 else "a string"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} ({printable(repr(value)[:40])})"
