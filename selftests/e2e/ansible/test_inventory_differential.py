"""The inventory as the audit resolves it, compared with ansible-core on the same files.

For each inventory: the hosts, each host's groups and every resolved variable against ``ansible-inventory
--list`` (and ``--host`` for one host), and host, port, scheme, path, transport and user against what Ansible's
own winrm connection plugin resolves from those variables. Where Ansible refuses an inventory, the audit refuses
it too, naming file and line; where the audit is deliberately stricter, the test shows that Ansible accepts it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from e2e.ansible.ansiblerun import (
    ansible_host,
    ansible_list,
    ansible_winrm,
    group_membership,
    masked,
    ours,
)

INVENTORIES: dict[str, str] = {
    "windows_fleet": """\
all:
  vars:
    ansible_connection: winrm
    ansible_user: Administrator
    ansible_winrm_server_cert_validation: ignore
  children:
    windows:
      children:
        hci_east:
          vars: {ansible_winrm_transport: kerberos, site: east}
          hosts:
            web[01:03].contoso.local:
            db-[a:b]:
              ansible_port: 5999
        hci_west:
          hosts:
            web03.contoso.local: {ansible_host: 10.0.0.3, site: west}
    loners:
      hosts:
        lonely: {ansible_winrm_scheme: http}
""",
    "ranges": """\
all:
  children:
    r:
      hosts:
        n[0:10:5]:
        p[:3]:
        x[a:C]-y:
        m[1:2]-[a:b]:
        z[08:10]:
        "[fe80::1]:5985":
""",
    "precedence_depth_priority_name": """\
all:
  vars: {v: all, only_all: 1}
  children:
    parent:
      vars: {v: parent}
      children:
        child: {vars: {v: child}, hosts: {h1: null}}
    b_group: {vars: {v: b}, hosts: {h2: null}}
    a_group: {vars: {v: a, ansible_group_priority: 5}, hosts: {h2: null}}
    quoted: {vars: {w: quoted, ansible_group_priority: "20"}, hosts: {h3: null}}
    plain: {vars: {w: plain, ansible_group_priority: 10}, hosts: {h3: null}}
""",
    "host_vars_in_yaml_order": """\
all:
  hosts:
    both: {v: from_all, only_all: 1}
  children:
    later:
      hosts:
        both: {v: from_later}
    earliest_name:
      vars: {v: group}
      hosts: {both: null}
""",
    "host_port_entries": """\
all:
  hosts:
    web01:5999:
    10.0.0.7:5985:
    web02:5999: {ansible_port: 6001}
  children:
    again:
      hosts:
        web01:7000:
""",
    "scheme_rule": """\
all:
  hosts:
    http_port: {ansible_port: 5985}
    http_port_string: {ansible_port: "5985"}
    https_port: {ansible_port: 5986}
    explicit_http: {ansible_winrm_scheme: http}
    explicit_https_5985: {ansible_port: 5985, ansible_winrm_scheme: https}
    winrm_port_wins: {ansible_port: 5986, ansible_winrm_port: 5985}
    null_winrm_port: {ansible_port: 5985, ansible_winrm_port: null}
""",
    "winrm_variables": """\
all:
  vars:
    ansible_user: plain
  hosts:
    h_host: {ansible_host: 10.0.0.1, ansible_winrm_host: 10.0.0.2}
    h_user: {ansible_winrm_user: winrm_user}
    h_pass: {ansible_password: a, ansible_winrm_pass: b}
    h_password: {ansible_winrm_pass: b, ansible_winrm_password: c}
    h_path: {ansible_winrm_path: /custom/wsman}
    h_ipv6: {ansible_host: "fe80::10"}
""",
    "transports": """\
all:
  hosts:
    t_default: {}
    t_upn: {ansible_user: auditor@CONTOSO.LOCAL}
    t_list: {ansible_winrm_transport: [ntlm, basic]}
    t_string_list: {ansible_winrm_transport: "kerberos, ntlm"}
    t_ssl: {ansible_winrm_transport: ssl}
    t_plaintext: {ansible_winrm_transport: plaintext, ansible_port: 5985}
    t_credssp: {ansible_winrm_transport: credssp}
    t_certificate: {ansible_winrm_transport: certificate}
""",
    "string_shorthands": """\
all:
  children:
    one:
      hosts: onlyhost
    two:
      children: one
      vars: flag
""",
    "nulls": """\
all:
  vars:
  hosts:
  children:
    empty_group:
    g:
      hosts:
        h_null:
        h_empty: {}
        h_port_null: {ansible_port: null}
      vars:
      children:
""",
    "merge_keys": """\
defaults: &defaults
  vars: {ansible_port: 5985, site: base}
all:
  children:
    a:
      <<: *defaults
      hosts: {ma: null}
    b:
      vars:
        <<: {ansible_port: 5999, site: merged, extra: 1}
        site: own
      hosts: {mb: null}
""",
    "name_shared_by_host_and_group": """\
all:
  children:
    web:
      hosts:
        web01: null
    frontend:
      hosts:
        web: {role: set_on_the_group_web}
        web02: null
""",
    "ungrouped": """\
all:
  hosts:
    only_all: null
    also_grouped: null
  children:
    ungrouped:
      hosts:
        explicit_ungrouped: null
        grouped_too: null
    g:
      hosts:
        also_grouped: null
        grouped_too: null
""",
    "top_level_groups": """\
web:
  hosts:
    w1: {x: 1}
db:
  vars: {x: 2}
  hosts:
    d1: null
    w1: null
all:
  vars: {x: 0}
""",
    "diamond": """\
all:
  children:
    left: {vars: {v: left}, children: {bottom: null}}
    right:
      vars: {v: right}
      children:
        deeper: {vars: {v: deeper}, children: {bottom: null}}
    bottom2: {children: {bottom: {hosts: {b1: null}}}}
""",
    "nested_values_replace": """\
all:
  vars:
    settings: {a: 1, b: {c: 2}}
    listy: [1, 2]
  children:
    g:
      vars:
        settings: {b: {d: 3}}
      hosts: {h: {listy: [3]}}
""",
    "scalars": """\
all:
  hosts:
    s1:
      an_int: 010
      a_float: 1.5
      a_bool: yes
      a_string: "yes"
      a_null: ~
      an_octal_string: "010"
      a_date: 2026-05-01
      a_multiline: |
        line one
        line two
""",
    "unicode_names": """\
all:
  hosts:
    sérveur-01: {ansible_host: 192.0.2.10}
    服务器: {ansible_host: 192.0.2.11}
""",
    "secrets_and_templates_in_other_vars": """\
all:
  vars:
    hotpatch_password_env: HOTPATCH_PASSWORD
    api_token: t0ken
    motd: "{{ inventory_hostname }} is audited"
  hosts:
    h1: {ansible_password: Sup3r-S3cret!}
""",
    "long_lists_and_groups": """\
all:
  children:
"""
    + "".join(f"    g{i:02d}:\n      hosts:\n        host-{i:02d}-[1:20]:\n" for i in range(1, 26)),
}


def write(tmp_path: Path, name: str, text: str, suffix: str = ".yml") -> Path:
    path = tmp_path / f"{name}{suffix}"
    path.write_text(text, encoding="utf-8")
    return path


def expected_transport(ansible: list[str]) -> str:
    return {"ssl": "basic", "plaintext": "basic"}.get(ansible[0], ansible[0])


def compare(tmp_path: Path, inventory: Path, listed_text: str) -> int:
    """Assert the audit's view of `inventory` equals Ansible's `listed_text`; return the number of hosts."""
    listed = json.loads(listed_text)
    membership = group_membership(listed)
    hostvars = listed["_meta"]["hostvars"]
    names = set(membership) | {h for body in listed.values() if isinstance(body, dict) for h in body.get("hosts", [])}
    full = json.dumps({"_meta": {"hostvars": {h: hostvars.get(h, {}) for h in names}}})
    plugin = ansible_winrm(tmp_path, full, inventory)

    result = ours(tmp_path, inventory)
    assert result.code == 0, result.err
    guests = {g["name"]: g for g in result.json()["guests"]}
    assert set(guests) == names
    for name, guest in guests.items():
        assert set(guest["groups"]) == membership.get(name, set()), name
        assert guest["vars"] == masked(hostvars.get(name, {})), name
        want = plugin[name]
        got = {k: guest[k] for k in ("host", "port", "scheme", "path", "user")}
        assert got == {k: want[k] for k in got}, name
        assert guest["transport"] == expected_transport(want["transport"]), name
    return len(guests)


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_yaml_inventory_resolves_as_ansible_does(tmp_path: Path, name: str) -> None:
    inventory = write(tmp_path, name, INVENTORIES[name])
    listed = ansible_list(tmp_path, inventory)
    assert listed.code == 0, listed.err
    assert compare(tmp_path, inventory, listed.out) > 0
    first = next(iter(json.loads(ours(tmp_path, inventory).out)["guests"]))
    one = ansible_host(tmp_path, inventory, first["name"])
    assert one.code == 0, one.err
    assert first["vars"] == masked(one.json())


@pytest.mark.parametrize("name", ["windows_fleet", "precedence_depth_priority_name", "name_shared_by_host_and_group"])
def test_ansible_inventory_json_reads_like_the_yaml(tmp_path: Path, name: str) -> None:
    inventory = write(tmp_path, name, INVENTORIES[name])
    listed = ansible_list(tmp_path, inventory)
    as_json = write(tmp_path, name + "-listed", listed.out, ".json")
    compare(tmp_path, inventory, listed.out)
    yaml_view = {g["name"]: g for g in ours(tmp_path, inventory).json()["guests"]}
    json_view = {g["name"]: g for g in ours(tmp_path, as_json).json()["guests"]}
    assert json_view == yaml_view


def test_ini_inventory_through_ansible_inventory_json(tmp_path: Path) -> None:
    ini = write(
        tmp_path,
        "fleet",
        "[cluster_a]\nhci-vm-[01:03] ansible_port=5985\n\n[cluster_b]\nhci-vm-04 ansible_host=10.1.1.4\n\n"
        "[all:vars]\nansible_user=auditor\nansible_winrm_transport=ntlm\n",
        ".ini",
    )
    listed = ansible_list(tmp_path, ini)
    assert listed.code == 0, listed.err
    as_json = write(tmp_path, "fleet", listed.out, ".json")
    assert compare(tmp_path, as_json, listed.out) == 4
    guests = {g["name"]: g for g in ours(tmp_path, as_json).json()["guests"]}
    assert guests["hci-vm-01"]["endpoint"] == "http://hci-vm-01:5985/wsman"
    assert guests["hci-vm-04"]["endpoint"] == "https://10.1.1.4:5986/wsman"


# Inventories Ansible refuses: the audit refuses them too, with the file and line.
REFUSED_BY_BOTH: dict[str, tuple[str, str]] = {
    "integer_host": ("all:\n  hosts:\n    10:\n", ":3"),
    "octal_looking_host": ("all:\n  hosts:\n    010:\n", ":3"),
    "unequal_padding": ("all:\n  hosts:\n    q[01:100]:\n", ":3"),
    "letters_backwards": ("all:\n  hosts:\n    w[X:b]:\n", ":3"),
    "range_without_end": ("all:\n  hosts:\n    h[1:]:\n", ":3"),
    "range_step_zero": ("all:\n  hosts:\n    h[1:3:0]:\n", ":3"),
    "children_cycle": (
        "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n",
        ":5",
    ),
    "child_of_itself": ("all:\n  children:\n    a:\n      children:\n        a:\n", ":5"),
    "hosts_as_list": ("all:\n  hosts:\n    - h1\n    - h2\n", ":2"),
    "host_vars_as_list": ("all:\n  hosts:\n    h1: [1]\n", ":3"),
    "priority_not_a_number": ("all:\n  children:\n    g:\n      vars: {ansible_group_priority: high}\n", ":4"),
    "plugin_configuration": ("plugin: azure.azcollection.azure_rm\n", ":1"),
    "not_a_mapping": ("- all\n", ":1"),
}


@pytest.mark.parametrize("name", sorted(REFUSED_BY_BOTH))
def test_inventories_ansible_refuses_are_refused_with_their_line(tmp_path: Path, name: str) -> None:
    text, line = REFUSED_BY_BOTH[name]
    inventory = write(tmp_path, name, text)
    assert ansible_list(tmp_path, inventory).code != 0
    result = ours(tmp_path, inventory)
    assert result.code == 4
    assert f"{inventory}{line}" in result.err
    assert "Traceback" not in result.err


# Inventories Ansible reads with at most a warning, which the audit refuses on purpose (see the README).
STRICTER: dict[str, tuple[str, str]] = {
    "typo_in_group_key": ("all:\n  hots:\n    h1:\n", ":2: all.hots: unknown key 'hots'"),
    "duplicate_host": ("all:\n  hosts:\n    h1:\n    h1:\n", ":4: all.hosts: duplicate key 'h1'"),
    "range_backwards_is_empty": ("all:\n  hosts:\n    h[5:1]:\n", ":3: all.hosts.h[5:1]: host range [5:1]"),
    "path_in_name": ("all:\n  hosts:\n    ../../srv/x/config:\n", ":3: all.hosts"),
    "markup_in_name": ('all:\n  hosts:\n    "vm<img src=x>":\n', ":3: all.hosts"),
    "port_out_of_range": ("all:\n  hosts:\n    h1:70000:\n", ":3: all.hosts.h1:70000: port 70000"),
    "port_variable_out_of_range": ("all:\n  hosts:\n    h1: {ansible_port: 70000}\n", ":3: all.hosts.h1.ansible_port"),
}


@pytest.mark.parametrize("name", sorted(STRICTER))
def test_the_audit_is_stricter_where_ansible_only_warns(tmp_path: Path, name: str) -> None:
    text, expected = STRICTER[name]
    inventory = write(tmp_path, name, text)
    assert ansible_list(tmp_path, inventory).code == 0
    result = ours(tmp_path, inventory)
    assert result.code == 4
    assert f"{inventory}{expected}" in result.err
    assert "Traceback" not in result.err
