"""Ansible's inventory and winrm rules, checked without Ansible (the e2e/ansible tests compare with ansible-core)."""

from pathlib import Path

import pytest

from hotpatch_audit.errors import InventoryError
from hotpatch_audit.inputs.inventory import Inventory, load_inventory
from hotpatch_audit.inputs.patterns import select


def load(tmp_path: Path, text: str) -> Inventory:
    path = tmp_path / "inv.yml"
    path.write_text(text, encoding="utf-8")
    return load_inventory(path)


@pytest.mark.parametrize(
    ("variables", "endpoint", "transport"),
    [
        ("{}", "https://h:5986/wsman", "basic"),
        ("{ansible_port: 5985}", "http://h:5985/wsman", "basic"),
        ("{ansible_port: '5985', ansible_winrm_scheme: https}", "https://h:5985/wsman", "basic"),
        ("{ansible_winrm_scheme: http}", "http://h:5986/wsman", "basic"),
        ("{ansible_port: 5986, ansible_winrm_port: 5985}", "http://h:5985/wsman", "basic"),
        ("{ansible_port: 5985, ansible_winrm_port: null}", "http://h:5985/wsman", "basic"),
        ("{ansible_host: a, ansible_winrm_host: b}", "https://b:5986/wsman", "basic"),
        ("{ansible_host: 'fe80::1', ansible_winrm_path: /x}", "https://[fe80::1]:5986/x", "basic"),
        ("{ansible_user: me@CONTOSO}", "https://h:5986/wsman", "kerberos"),
        ("{ansible_winrm_transport: [credssp, ntlm]}", "https://h:5986/wsman", "credssp"),
        ("{ansible_winrm_transport: 'plaintext, ntlm'}", "https://h:5986/wsman", "basic"),
    ],
)
def test_winrm_plugin_rules(tmp_path: Path, variables: str, endpoint: str, transport: str) -> None:
    guest = load(tmp_path, f"all:\n  hosts:\n    h: {variables}\n").guests["h"]
    assert (guest.connection.endpoint, guest.connection.transport) == (endpoint, transport)


def test_password_variables_last_one_wins(tmp_path: Path) -> None:
    inv = load(
        tmp_path,
        "all:\n  hosts:\n    a: {ansible_password: one, ansible_winrm_pass: two}\n"
        "    b: {ansible_winrm_password: three, ansible_winrm_pass: two, ansible_password: one}\n",
    )
    assert inv.guests["a"].connection.password is not None
    assert inv.guests["a"].connection.password.reveal() == "two"
    assert inv.guests["b"].connection.password is not None
    assert inv.guests["b"].connection.password.reveal() == "three"


def test_yaml_plugin_rules(tmp_path: Path) -> None:
    inv = load(
        tmp_path,
        """\
base: &base
  vars: {site: base, ansible_group_priority: "20"}
all:
  hosts:
    web01:5999: {v: all}
    solo:
  children:
    web:
      <<: *base
      hosts: onlyhost
    later:
      hosts:
        web01: {v: later}
    shared:
      hosts:
        web: {role: goes-to-group-web}
""",
    )
    assert list(inv.guests) == ["web01", "solo", "onlyhost", "web"]
    assert inv.guests["web01"].vars == {"ansible_port": 5999, "v": "later"}
    assert inv.guests["onlyhost"].vars == {"site": "base", "role": "goes-to-group-web"}
    assert inv.guests["web"].vars == {}
    assert inv.guests["solo"].groups == ("ungrouped",)
    assert inv.guests["web01"].groups == ("later",)


def test_patterns_with_subscripts_and_shared_names(tmp_path: Path) -> None:
    inv = load(
        tmp_path,
        "all:\n  children:\n    g:\n      hosts: {h1: null, h2: null, h3: null, db: null}\n"
        "      children:\n        sub: {hosts: {s1: null}}\n    db:\n      hosts: {d1: null}\n",
    )

    def names(pattern: str) -> list[str]:
        return [g.name for g in select(inv, pattern)]

    assert names("g[0]") == ["h1"]
    assert names("g[-1]") == ["s1"]
    assert names("g[1:2]") == ["h2", "h3"]
    assert names("g[3:]") == ["db", "s1"]
    assert names("db") == ["db"]  # the host, not the group
    assert names("g:!db") == ["h1", "h2", "h3", "db", "s1"]  # !db is the group
    assert names("d*") == ["db", "d1"]
    (tmp_path / "limit.txt").write_text("h1\n!h1\nsub\n")
    assert names(f"@{tmp_path / 'limit.txt'}") == ["s1"]


@pytest.mark.parametrize(
    "text", ["all:\n  children:\n    cluster_a:\n", "all:\n  hosts: {}\n", "all:\n  vars: {x: 1}\n", "web:\n"]
)
def test_an_inventory_without_guests_is_an_error(tmp_path: Path, text: str) -> None:
    inv = load(tmp_path, text)
    with pytest.raises(InventoryError, match=r"inv.yml defines no guest: there is nothing to audit"):
        select(inv, None)
