"""Settings that cannot work stop a live run once, before any guest is contacted, naming the guests."""

from pathlib import Path

import pytest

from hotpatch_audit.errors import InventoryError
from hotpatch_audit.inputs.inventory import load_inventory
from hotpatch_audit.inputs.preflight import check_live_settings


def check(tmp_path: Path, text: str) -> str:
    path = tmp_path / "inv.yml"
    path.write_text(text, encoding="utf-8")
    inventory = load_inventory(path)
    with pytest.raises(InventoryError) as err:
        check_live_settings(list(inventory), path)
    return str(err.value)


def test_missing_password_is_one_error_naming_every_guest(tmp_path: Path) -> None:
    hosts = "".join(f"    vm-{i:02d}:\n" for i in range(1, 9))
    message = check(tmp_path, f"all:\n  vars:\n    ansible_user: auditor\n  hosts:\n{hosts}")
    assert message.startswith(f"8 of 8 selected guests of {tmp_path / 'inv.yml'} cannot be contacted")
    assert "no guest was contacted" in message
    assert "vm-01, vm-02, vm-03, vm-04, vm-05 and 3 more: transport basic needs a password" in message
    assert message.count("needs a password") == 1


def test_password_variable_not_set_in_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTPATCH_PREFLIGHT_UNSET", raising=False)
    text = "all:\n  vars: {ansible_user: a, hotpatch_password_env: HOTPATCH_PREFLIGHT_UNSET}\n  hosts: {vm1: null}\n"
    assert "vm1: environment variable HOTPATCH_PREFLIGHT_UNSET (hotpatch_password_env) is not set" in check(
        tmp_path, text
    )


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ("ansible_connection: psrp", ":4: all.hosts.vm1.ansible_connection: 'psrp' is not supported"),
        ("ansible_host: 'not a host'", ":4: all.hosts.vm1.ansible_host: 'not a host' is not a host name"),
        ("ansible_winrm_path: '/ws man'", ":4: all.hosts.vm1.ansible_winrm_path: '/ws man' is not a URL path"),
        ("ansible_host: '{{ sim_ip }}'", ":4: all.hosts.vm1.ansible_host: '{{ sim_ip }}' is a Jinja template"),
        ("ansible_host: !vault |\n        $ANSIBLE_VAULT;1.1;AES256", ":4: all.hosts.vm1.ansible_host: the value is"),
        ("ansible_password: !vault |\n        $ANSIBLE_VAULT;1.1;AES256", ":4: all.hosts.vm1.ansible_password: the"),
        ("ansible_winrm_transport: certificate", "transport certificate needs ansible_winrm_cert_pem"),
    ],
)
def test_settings_that_cannot_work_name_file_line_and_key(tmp_path: Path, variables: str, expected: str) -> None:
    password = "" if "ansible_password" in variables else "      ansible_password: p\n"
    message = check(tmp_path, f"all:\n  hosts:\n    vm1:\n      {variables}\n      ansible_user: a\n{password}")
    located = f"{tmp_path / 'inv.yml'}{expected}" if expected.startswith(":") else expected
    assert f"  vm1: {located}" in message


def test_usable_settings_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTPATCH_PREFLIGHT_SET", "pw")
    path = tmp_path / "inv.yml"
    path.write_text(
        "all:\n  vars: {ansible_user: a, hotpatch_password_env: HOTPATCH_PREFLIGHT_SET}\n  hosts:\n"
        "    vm1: {ansible_password: '{{ vault_pw }}'}\n    vm2: {ansible_winrm_transport: kerberos}\n"
        "    vm3: {ansible_password: plain}\n",
        encoding="utf-8",
    )
    inventory = load_inventory(path)
    check_live_settings(list(inventory), path)
    assert inventory.guests["vm1"].connection.password is None  # the template yields to hotpatch_password_env


def test_a_kerberos_ticket_cache_needs_no_password_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTPATCH_PREFLIGHT_UNSET", raising=False)
    path = tmp_path / "inv.yml"
    common = "ansible_user: a@EXAMPLE.TEST, hotpatch_password_env: HOTPATCH_PREFLIGHT_UNSET, ansible_winrm_transport"
    path.write_text(f"all:\n  vars: {{{common}: kerberos, ansible_winrm_kinit_mode: manual}}\n  hosts: {{vm1: null}}\n")
    check_live_settings(list(load_inventory(path)), path)  # kinit was run beforehand: KRB5CCNAME holds the ticket
    path.write_text(
        f"all:\n  vars: {{{common}: kerberos, ansible_winrm_kinit_mode: managed}}\n  hosts: {{vm1: null}}\n"
    )
    with pytest.raises(InventoryError, match="HOTPATCH_PREFLIGHT_UNSET"):
        check_live_settings(list(load_inventory(path)), path)
