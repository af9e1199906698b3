"""Ansible YAML inventories: structure, precedence, connection variables and clear errors."""

from pathlib import Path

import pytest

from hotpatch_audit.errors import InventoryError
from hotpatch_audit.inputs.inventory import Secret, load_inventory
from hotpatch_audit.inputs.patterns import select

ANSIBLE_WINDOWS = """\
all:
  vars:
    ansible_connection: winrm
    ansible_user: Administrator
    ansible_password: "{{ vault_win_password }}"
    ansible_winrm_server_cert_validation: ignore
  children:
    windows:
      children:
        hci_east:
          vars:
            ansible_winrm_transport: kerberos
            site: east
          hosts:
            web[01:03].contoso.local:
            db-[a:b]:
              ansible_port: 5999
        hci_west:
          hosts:
            web03.contoso.local:
              ansible_host: 10.0.0.3
              site: west
    ungrouped_one:
      hosts:
        lonely:
          ansible_winrm_scheme: http
"""


def inventory(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inv.yml"
    path.write_text(text)
    return path


def test_existing_ansible_inventory_loads_unchanged(tmp_path: Path) -> None:
    inv = load_inventory(inventory(tmp_path, ANSIBLE_WINDOWS))
    assert list(inv.guests) == [
        "web01.contoso.local",
        "web02.contoso.local",
        "web03.contoso.local",
        "db-a",
        "db-b",
        "lonely",
    ]
    web3 = inv.guests["web03.contoso.local"]
    assert web3.groups == ("hci_east", "hci_west", "windows")
    assert web3.vars["site"] == "west"  # host vars beat group vars
    assert web3.connection.host == "10.0.0.3"
    assert web3.connection.transport == "kerberos"
    assert web3.connection.server_cert_validation == "ignore"
    assert inv.guests["db-a"].connection.port == 5999
    lonely = inv.guests["lonely"].connection
    # Ansible's winrm plugin: the port defaults to 5986 whatever the scheme; no transport set means Basic.
    assert (lonely.scheme, lonely.port, lonely.transport) == ("http", 5986, "basic")
    assert inv.guests["web01.contoso.local"].connection.port == 5986


def test_group_precedence_follows_depth_then_priority_then_name(tmp_path: Path) -> None:
    text = """\
all:
  vars: {v: all}
  children:
    parent:
      vars: {v: parent}
      children:
        child: {vars: {v: child}, hosts: {h1: null}}
    b_group: {vars: {v: b}, hosts: {h2: null}}
    a_group: {vars: {v: a, ansible_group_priority: 5}, hosts: {h2: null}}
"""
    inv = load_inventory(inventory(tmp_path, text))
    assert inv.guests["h1"].vars["v"] == "child"
    assert inv.guests["h2"].vars["v"] == "a"


def test_password_is_secret(tmp_path: Path) -> None:
    text = "all:\n  hosts:\n    h:\n      ansible_password: Sup3r-S3cret!\n"
    guest = load_inventory(inventory(tmp_path, text)).guests["h"]
    assert guest.connection.password == Secret("Sup3r-S3cret!")
    assert "Sup3r" not in repr(guest)
    assert "Sup3r" not in str(guest.connection.password)


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("all:\n  hosts:\n    h1: {a: 1\n", ":4", "YAML syntax error"),
        (
            "all:\n  hosts:\n    - h1\n    - h2\n",
            ":2: all.hosts",
            "hosts of group 'all' must be a mapping, found a list",
        ),
        ("all:\n  children:\n    web: hosts\n", ":3: all.children.web", "group 'web' must be a mapping"),
        ("all:\n  hots:\n    h1:\n", ":2: all.hots", "unknown key 'hots'"),
        (
            "all:\n  hosts:\n    h1:\n      ansible_winrm_transport: telnet\n",
            ":4: all.hosts.h1.ansible_winrm_transport (host 'h1')",
            "'telnet' is not a WinRM transport",
        ),
        ("all:\n  hosts:\n    h1:\n    h1:\n", ":4", "duplicate key 'h1'"),
        ("all:\n  hosts:\n    h1:\n      ansible_port: many\n", "ansible_port", "found 'many'"),
    ],
)
def test_malformed_inventory_names_file_line_and_key(tmp_path: Path, text: str, where: str, problem: str) -> None:
    path = inventory(tmp_path, text)
    with pytest.raises(InventoryError) as err:
        load_inventory(path)
    message = str(err.value)
    assert message.startswith(str(path))
    assert where in message
    assert problem in message
    assert "\n" not in message


def test_non_string_password_type_error_does_not_show_the_value(tmp_path: Path) -> None:
    path = inventory(tmp_path, "all:\n  hosts:\n    h1:\n      ansible_password: [s3cr3t-in-a-list]\n")
    with pytest.raises(InventoryError) as err:
        load_inventory(path)
    assert "s3cr3t" not in str(err.value)


def test_limit_patterns(tmp_path: Path) -> None:
    inv = load_inventory(inventory(tmp_path, ANSIBLE_WINDOWS))

    def names(pattern: str) -> list[str]:
        return [g.name for g in select(inv, pattern)]

    assert names("hci_west") == ["web03.contoso.local"]
    assert names("web0*") == ["web01.contoso.local", "web02.contoso.local", "web03.contoso.local"]
    assert names("db-a,lonely") == ["db-a", "lonely"]
    assert names("windows,!hci_west") == ["web01.contoso.local", "web02.contoso.local", "db-a", "db-b"]
    assert names("hci_east,&hci_west") == ["web03.contoso.local"]
    assert names("~db-[ab]") == ["db-a", "db-b"]
    assert names("all,!windows") == ["lonely"]
    with pytest.raises(InventoryError, match="matched no guest"):
        select(inv, "nosuchhost")
