"""Run ansible-core's tools and ``python -m hotpatch_audit inventory`` on the same inventory, in a scratch directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent
PROBE = Path(__file__).with_name("ansible_winrm_probe.py")
MASK = "********"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def _run(command: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> Result:
    proc = subprocess.run(command, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def ansible_env(work: Path, inventory: Path) -> dict[str, str]:
    """Ansible reading only this file with the plugin for its kind, failing (not warning) when it cannot parse it."""
    tool = BIN / "ansible-inventory"
    if not tool.exists():
        pytest.fail(f"ansible-core is not installed next to {sys.executable}: run the self-tests with tox")
    return {
        **os.environ,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_INVENTORY_ENABLED": "ini" if inventory.suffix == ".ini" else "yaml",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
        "ANSIBLE_HOME": str(work / ".ansible"),
        "ANSIBLE_LOCAL_TEMP": str(work / ".ansible" / "tmp"),
        "ANSIBLE_HOST_PATTERN_MISMATCH": "ignore",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ANSIBLE_CONFIG": str(work / "absent-ansible.cfg"),
    }


def ansible_list(work: Path, inventory: Path) -> Result:
    return _run([str(BIN / "ansible-inventory"), "-i", str(inventory), "--list"], work, ansible_env(work, inventory))


def ansible_host(work: Path, inventory: Path, host: str) -> Result:
    command = [str(BIN / "ansible-inventory"), "-i", str(inventory), "--host", host]
    return _run(command, work, ansible_env(work, inventory))


def ansible_list_hosts(work: Path, inventory: Path, limit: str) -> tuple[int, list[str]]:
    """``ansible all --list-hosts --limit`` → (exit code, host names)."""
    command = [str(BIN / "ansible"), "all", "-i", str(inventory), "--list-hosts", "--limit", limit]
    result = _run(command, work, ansible_env(work, inventory))
    hosts = [line.strip() for line in result.out.splitlines()[1:] if line.startswith("    ")]
    return result.code, hosts


def ansible_winrm(work: Path, listed: str, inventory: Path) -> dict[str, Any]:
    """What Ansible's winrm connection plugin resolves for each host of `listed` (``--list`` JSON)."""
    result = _run([sys.executable, str(PROBE)], work, ansible_env(work, inventory), stdin=listed)
    assert result.code == 0, result.err
    data: dict[str, Any] = result.json()
    return data


def ours(work: Path, inventory: Path, limit: str | None = None) -> Result:
    command = [sys.executable, "-m", "hotpatch_audit", "inventory", str(inventory), "--json"]
    return _run([*command, "--limit", limit] if limit is not None else command, work, dict(os.environ))


def masked(value: Any, key: str = "") -> Any:
    """Ansible's value as the suite shows it: secret-named keys and vault values as ``********``."""
    from hotpatch_audit.inputs.connection import is_secret_name

    if key and is_secret_name(key):
        return MASK
    if isinstance(value, dict):
        if set(value) == {"__ansible_vault"}:
            return MASK
        return {k: masked(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def group_membership(listed: dict[str, Any]) -> dict[str, set[str]]:
    """Each host's groups (direct and inherited, without ``all``) from ``ansible-inventory --list``."""
    groups = {name: body for name, body in listed.items() if name != "_meta"}

    def hosts_of(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        body = groups.get(name, {})
        out = set(body.get("hosts", []))
        for child in body.get("children", []):
            if child not in seen:
                out |= hosts_of(child, seen | {name})
        return out

    member: dict[str, set[str]] = {h: set() for h in listed["_meta"]["hostvars"]}
    for name in groups:
        for host in hosts_of(name):
            member.setdefault(host, set())
            if name != "all":
                member[host].add(name)
    return member
