"""``python -m hotpatch_audit inventory``: what an audit would contact, secrets masked, exit 4 on bad input."""

import json
from pathlib import Path

import pytest

from hotpatch_audit.__main__ import main

INVENTORY = """\
all:
  vars:
    ansible_user: auditor
    ansible_winrm_password: Sup3r-S3cret!
    nested: {api_token: t0k3n-value, keep: visible}
    vaulted: !vault |
      $ANSIBLE_VAULT;1.1;AES256
      6162
  children:
    cluster_a:
      hosts:
        hci-vm-[01:02]:
          ansible_port: 5985
"""


def test_json_lists_the_selected_guests_with_secrets_masked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "inv.yml"
    path.write_text(INVENTORY, encoding="utf-8")
    assert main(["inventory", str(path), "--limit", "cluster_a[1]", "--json"]) == 0
    out = capsys.readouterr().out
    assert "Sup3r" not in out
    assert "t0k3n" not in out
    (guest,) = json.loads(out)["guests"]
    assert guest == {
        "name": "hci-vm-02",
        "groups": ["cluster_a"],
        "host": "hci-vm-02",
        "port": 5985,
        "scheme": "http",
        "path": "/wsman",
        "transport": "basic",
        "user": "auditor",
        "endpoint": "http://hci-vm-02:5985/wsman",
        "vars": {
            "ansible_user": "auditor",
            "ansible_winrm_password": "********",
            "nested": {"api_token": "********", "keep": "visible"},
            "vaulted": "********",
            "ansible_port": 5985,
        },
        "problems": [],
    }


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("all:\n  hosts:\n    h1:\n", "nomatch", "--limit 'nomatch' matched no guest of"),
        ("all:\n  hosts:\n    h1: {ansible_port: x}\n", None, ":3: all.hosts.h1.ansible_port (host 'h1')"),
        ("all:\n  hosts: [h1]\n", None, ":2: all.hosts: hosts of group 'all' must be a mapping"),
    ],
)
def test_bad_inventory_or_empty_selection_exits_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, limit: str | None, expected: str
) -> None:
    path = tmp_path / "inv.yml"
    path.write_text(text, encoding="utf-8")
    assert main(["inventory", str(path), "--json", *(["--limit", limit] if limit else [])]) == 4
    captured = capsys.readouterr()
    assert captured.out == ""
    assert expected.replace(":3:", f"{path}:3:").replace(":2:", f"{path}:2:") in captured.err
