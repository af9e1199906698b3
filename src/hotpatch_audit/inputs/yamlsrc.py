"""Load YAML while remembering the line of every key, so errors can name file, line and key path.

Every file the suite reads (inventory, policy, waivers, catalog, fleet) comes through here, so hostile YAML is
bounded here once: nesting deeper than ``MAX_DEPTH`` and aliases that expand to more than
``MAX_ALIAS_NODES`` nodes (a "billion laughs" of a few hundred bytes) are refused with the line, before they
cost time or memory. Merge keys (``<<: *defaults``) are resolved as YAML 1.1 defines them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

MAX_DEPTH = 64
MAX_ALIAS_NODES = 100_000
_MERGE = "tag:yaml.org,2002:merge"
_COLLECTIONS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def printable(text: str) -> str:
    """`text` with control and format characters escaped, so a message cannot steer the terminal."""
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii") for c in text)


class YamlSourceError(ValueError):
    """The file is not readable YAML; the message names the file and line."""


class Vaulted:
    """An Ansible ``!vault`` value: ciphertext the suite cannot and does not decrypt; it never shows itself."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Vaulted('********')"

    __str__ = __repr__


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML document plus the 1-based line of each node, keyed by its path."""

    path: Path
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, key_path: Path_) -> int | None:
        """The line of the nearest node on `key_path` that has one."""
        probe = tuple(key_path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get(())

    def where(self, key_path: Path_) -> str:
        """`file:line: key.path` for messages."""
        line = self.line(key_path)
        dotted = printable(".".join(str(p) for p in key_path)) or "(top level)"
        location = f"{self.path}:{line}" if line is not None else str(self.path)
        return f"{location}: {dotted}"


def load_yaml(path: Path, *, ansible: bool = False) -> YamlDocument:
    """Parse `path` into plain Python values, rejecting duplicate keys; see :func:`parse_yaml` for `ansible`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        msg = f"{path}: cannot read file: {err.strerror or err}"
        raise YamlSourceError(msg) from err
    except UnicodeDecodeError as err:
        msg = f"{path}: not UTF-8 text ({err.reason} at byte {err.start})"
        raise YamlSourceError(msg) from err
    return parse_yaml(text, path, ansible=ansible)


def parse_yaml(text: str, path: Path, *, ansible: bool = False) -> YamlDocument:
    """Parse YAML text; `path` is used in messages only.

    With `ansible`, the file is read as Ansible reads inventories: mapping keys must be strings (Ansible refuses
    a host called ``10``), ``!unsafe`` marks a plain string and ``!vault`` gives a :class:`Vaulted` marker.
    Otherwise integer keys become strings and any tag YAML itself does not define is an error.
    """
    loader = _BoundedLoader(text, path)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = err.problem or err.context or "invalid YAML"
        msg = f"{path}{line}: YAML syntax error: {problem}"
        raise YamlSourceError(msg) from err
    except yaml.YAMLError as err:
        msg = f"{path}: YAML error: {err}"
        raise YamlSourceError(msg) from err
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    if node is None:
        return YamlDocument(path, None, lines)
    data = _Converter(path, lines, ansible=ansible).convert(node, (), 0)
    return YamlDocument(path, data, lines)


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's composer recurses once per nesting level: stop it at MAX_DEPTH with the line, not a RecursionError."""

    def __init__(self, text: str, path: Path) -> None:
        super().__init__(text)
        self._path = path
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1  # type: ignore[no-untyped-call]
                msg = f"{self._path}:{line}: YAML nesting deeper than {MAX_DEPTH} levels is not accepted"
                raise YamlSourceError(msg)
            node: yaml.Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1


class _Converter:
    """Nodes to Python values, counting what aliases expand to (the composed graph shares aliased nodes)."""

    def __init__(self, path: Path, lines: dict[Path_, int], *, ansible: bool) -> None:
        self.path = path
        self.lines = lines
        self.ansible = ansible
        self.seen: set[int] = set()
        self.expanded = 0
        self.scalars = yaml.SafeLoader("")

    def fail(self, node: yaml.Node, at: Path_, problem: str) -> YamlSourceError:
        shown = at if len(at) <= 8 else (*at[:4], "...", *at[-2:])
        where = printable(".".join(map(str, shown)))
        return YamlSourceError(f"{self.path}:{node.start_mark.line + 1}: {where + ': ' if where else ''}{problem}")

    def convert(self, node: yaml.Node, at: Path_, depth: int) -> Any:
        if id(node) in self.seen:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_NODES:
                raise self.fail(node, at, f"YAML aliases expand to more than {MAX_ALIAS_NODES:,} values")
        else:
            self.seen.add(id(node))
        if depth > MAX_DEPTH:  # an anchor that contains an alias of itself
            raise self.fail(node, at, f"YAML nesting deeper than {MAX_DEPTH} levels (a recursive alias?)")
        self.lines.setdefault(at, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _COLLECTIONS:
            raise self.fail(node, at, f"the YAML tag {printable(node.tag)} is not supported here")
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, at, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*at, i), depth + 1) for i, item in enumerate(node.value)]
        return self.scalar(node, at)

    def mapping(self, node: yaml.MappingNode, at: Path_, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged = {**self.merge_sources(value_node, at, depth), **merged}
                continue
            key = self.key(key_node, at)
            if key in out:
                raise self.fail(key_node, at, f"duplicate key '{key}'")
            self.lines[(*at, key)] = key_node.start_mark.line + 1
            out[key] = self.convert(value_node, (*at, key), depth + 1)
        return {**{k: v for k, v in merged.items() if k not in out}, **out}

    def merge_sources(self, node: yaml.Node, at: Path_, depth: int) -> dict[str, Any]:
        """``<<: *a`` or ``<<: [*a, *b]``; in a list the earlier mapping wins, as YAML 1.1 says."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        out: dict[str, Any] = {}
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                raise self.fail(source, at, "a merge key ('<<') takes a mapping or a list of mappings")
            out.update(self.mapping(source, at, depth + 1))
        return out

    def key(self, node: yaml.Node, at: Path_) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, at, "a mapping key must be a plain string, not a list or mapping")
        key = self.scalar(node, at)
        if isinstance(key, str):
            return key
        if self.ansible or isinstance(key, bool) or not isinstance(key, int):
            quoted = f"'{node.value}'"
            raise self.fail(node, at, f"the key {node.value} is read as {type(key).__name__}: quote it ({quoted})")
        return str(key)

    def scalar(self, node: yaml.Node, at: Path_) -> Any:
        if node.tag == "!unsafe" and self.ansible:
            return str(node.value)
        if node.tag == "!vault" and self.ansible:
            return Vaulted()
        if node.tag.startswith("!"):
            raise self.fail(node, at, f"the YAML tag {printable(node.tag)} is not supported here")
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, at, "expected a plain value")
        try:
            return self.scalars.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as err:
            raise self.fail(node, at, f"'{node.value}' is not valid: {err.problem}") from err
        except ValueError as err:
            # A scalar YAML resolves as a timestamp but that is no date, e.g. an unquoted 2026-13-01.
            raise self.fail(node, at, f"'{node.value}' is not valid: {err}") from err
