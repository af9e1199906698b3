"""Ansible's Kerberos variables, and the one-line cause of each GSSAPI or KDC message (MIT wording)."""

from __future__ import annotations

import pytest

from hotpatch_audit.collect.kerberos import KerberosSettingsError, describe_kerberos, kerberos_settings


def test_defaults_follow_ansible() -> None:
    with_password = kerberos_settings("web1.example.com", {}, has_password=True)
    assert (with_password.kinit_mode, with_password.spn, with_password.delegation) == (
        "managed",
        "HTTP/web1.example.com",
        False,
    )
    assert kerberos_settings("web1.example.com", {}, has_password=False).kinit_mode == "manual"


def test_service_override_and_delegation() -> None:
    host_vars = {
        "ansible_winrm_service": "WSMAN",
        "ansible_winrm_kerberos_hostname_override": "alias.example.com",
        "ansible_winrm_kerberos_delegation": "yes",
        "ansible_winrm_kinit_mode": "manual",
    }
    settings = kerberos_settings("10.0.0.5", host_vars, has_password=True)
    assert (settings.spn, settings.delegation, settings.kinit_mode) == ("WSMAN/alias.example.com", True, "manual")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("ansible_winrm_kinit_mode", "auto", "ansible_winrm_kinit_mode is 'auto': use managed or manual"),
        ("ansible_winrm_service", "HTTP/x", "ansible_winrm_service is 'HTTP/x': expected a bare name"),
        ("ansible_winrm_kerberos_hostname_override", "", "ansible_winrm_kerberos_hostname_override is ''"),
        ("ansible_winrm_kerberos_delegation", "maybe", "ansible_winrm_kerberos_delegation is 'maybe': use true"),
    ],
)
def test_bad_values_name_the_variable(key: str, value: str, message: str) -> None:
    with pytest.raises(KerberosSettingsError, match=f"^{message}"):
        kerberos_settings("h", {key: value}, has_password=True)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("(('Unspecified GSS failure', 851968), ('Clock skew too great', -1765328347))", "clock-skew"),
        ("('Server HTTP/nosuch.example.com@EXAMPLE.COM not found in Kerberos database', -1765328377)", "unknown-spn"),
        ("Cannot contact any KDC for realm 'EXAMPLE.COM' -1765328228", "kdc-unreachable"),
        ("Preauthentication failed -1765328360", "wrong-password"),
        ("Client 'bob@EXAMPLE.COM' not found in Kerberos database -1765328378", "unknown-user"),
        ("(('Unspecified GSS failure', 851968), ('Ticket expired', -1765328352))", "ticket-expired"),
        ("(('No credentials were supplied', 458752), ('No credentials cache found', -1765328189))", "no-ticket"),
    ],
)
def test_each_message_has_its_cause(text: str, cause: str) -> None:
    settings = kerberos_settings("web1.example.com", {}, has_password=True)
    found = describe_kerberos(text, settings, "auditor")
    assert found is not None
    assert found[0] == cause
    assert found[1].startswith("Kerberos: ")
    assert "\n" not in found[1]


def test_other_messages_are_not_guessed() -> None:
    settings = kerberos_settings("web1.example.com", {}, has_password=True)
    assert describe_kerberos("HTTP 500", settings, "auditor") is None
