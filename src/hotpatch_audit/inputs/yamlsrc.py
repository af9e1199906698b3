"""Load YAML while remembering the line of every key, so errors can name file, line and key path."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


class YamlSourceError(ValueError):
    """The file is not readable YAML; the message names the file and line."""


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
        dotted = ".".join(str(p) for p in key_path) or "(top level)"
        location = f"{self.path}:{line}" if line is not None else str(self.path)
        return f"{location}: {dotted}"


def load_yaml(path: Path) -> YamlDocument:
    """Parse `path` into plain Python values, rejecting duplicate keys and non-string keys."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        msg = f"{path}: cannot read file: {err.strerror or err}"
        raise YamlSourceError(msg) from err
    except UnicodeDecodeError as err:
        msg = f"{path}: not UTF-8 text ({err.reason} at byte {err.start})"
        raise YamlSourceError(msg) from err
    return parse_yaml(text, path)


def parse_yaml(text: str, path: Path) -> YamlDocument:
    """Parse YAML text; `path` is used in messages only."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = err.problem or err.context or "invalid YAML"
        msg = f"{path}{line}: YAML syntax error: {problem}"
        raise YamlSourceError(msg) from err
    except yaml.YAMLError as err:
        msg = f"{path}: YAML error: {err}"
        raise YamlSourceError(msg) from err
    lines: dict[Path_, int] = {}
    if node is None:
        return YamlDocument(path, None, lines)
    data = _convert(node, (), lines, path)
    return YamlDocument(path, data, lines)


def _convert(node: yaml.Node, at: Path_, lines: dict[Path_, int], path: Path) -> Any:
    lines[at] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                msg = f"{path}:{key_node.start_mark.line + 1}: YAML merge keys ('<<') are not supported"
                raise YamlSourceError(msg)
            key = yaml.SafeLoader(" ").construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                msg = f"{path}:{key_node.start_mark.line + 1}: mapping key {key!r} must be a string"
                raise YamlSourceError(msg)
            key = str(key)
            if key in out:
                msg = f"{path}:{key_node.start_mark.line + 1}: duplicate key '{key}'"
                raise YamlSourceError(msg)
            out[key] = _convert(value_node, (*at, key), lines, path)
            lines[(*at, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*at, i), lines, path) for i, item in enumerate(node.value)]
    try:
        return yaml.SafeLoader(" ").construct_object(node, deep=True)
    except ValueError as err:
        # A scalar YAML resolves as a timestamp but that is no date, e.g. an unquoted 2026-13-01.
        msg = f"{path}:{node.start_mark.line + 1}: {'.'.join(map(str, at))}: '{node.value}' is not valid: {err}"
        raise YamlSourceError(msg) from err
