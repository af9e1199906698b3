"""``--limit`` patterns compared with ``ansible all --list-hosts --limit`` on the same inventory.

Where Ansible selects hosts, the audit selects the same ones; where Ansible selects none or refuses the pattern,
the audit exits 4 with a message (a gate never passes on nothing).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e.ansible.ansiblerun import ansible_list_hosts, ours

FLEET = """\
all:
  hosts:
    solo:
  children:
    cluster_a:
      hosts:
        hci-vm-[01:05]:
    cluster_b:
      hosts:
        hci-vm-[06:09]:
      children:
        cluster_b_gpu:
          hosts:
            gpu-01:
            gpu-02:
    web:
      hosts:
        db:
        web01.contoso.local:
    db:
      hosts:
        db-a:
        db-b:
    web_db:
      children:
        web:
        db:
"""

PATTERNS = [
    "all",
    "*",
    "cluster_a",
    "cluster_a[0]",
    "cluster_a[-1]",
    "cluster_a[0:2]",
    "cluster_a[1:]",
    "cluster_a[2-3]",
    "cluster_b[0]",
    "cluster_b[4:5]",
    "cluster_b[2:0]",
    "cluster_a[9]",
    "hci-vm-0*",
    "hci-vm-0[6-7]",
    "hci-vm-0[!1-5]",
    "hci-vm-0[1:3]",
    "~hci-vm-0[67]",
    "~gpu",
    "~.*-b$",
    "cluster_a,cluster_b",
    "cluster_a:cluster_b",
    "cluster_a:!hci-vm-02",
    "all,!cluster_b",
    "!cluster_b",
    "cluster_b,&cluster_b_gpu",
    "&cluster_b_gpu",
    "cluster_*",
    "cluster_?",
    "db",
    "!db",
    "all:!db",
    "&db",
    "db*",
    "web_db,!web",
    "web01.contoso.local",
    "*.contoso.local",
    "ungrouped",
    "solo",
    "nomatch",
    "nomatch,solo",
    "CLUSTER_A",
    "hci-vm-01:hci-vm-02",
    " cluster_a , solo ",
    "@limit.txt",
    "@limit.txt,db-a",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_limit_selects_what_ansible_selects(tmp_path: Path, pattern: str) -> None:
    inventory = tmp_path / "fleet.yml"
    inventory.write_text(FLEET, encoding="utf-8")
    (tmp_path / "limit.txt").write_text("hci-vm-01\n\n  cluster_b_gpu  \n!gpu-02\n", encoding="utf-8")
    code, expected = ansible_list_hosts(tmp_path, inventory, pattern)
    result = ours(tmp_path, inventory, pattern)
    if code != 0 or not expected:
        assert result.code == 4, result.out
        assert "Traceback" not in result.err
        assert result.err.startswith("inventory: --limit")
        return
    assert result.code == 0, result.err
    assert sorted(g["name"] for g in result.json()["guests"]) == sorted(expected)
