"""Kerberos end to end: a real MIT KDC, pykerberos in the audit, the system GSSAPI as the guests' acceptor.

Each guest is ``HTTP/<guest>.hotpatch.test``; the inventory reaches it at 127.0.0.1 and names its SPN host with
``ansible_winrm_kerberos_hostname_override``, as for a guest reached by address. Messages are encrypted over
http (WinRM message encryption), so no TLS is involved.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.kerberos.kdc import DOMAIN, Realm, skewed_kdc
from e2e.live.livesupport import PASSWORD, PASSWORD_ENV, expected_facts
from e2e.live.pki import Pki
from hotpatch_audit.collect.collector import collect
from hotpatch_audit.collect.transport import CollectionFailure, open_transport
from hotpatch_audit.inputs.inventory import Guest, load_inventory
from hotpatch_audit.testing.simulator import Fleet, RunningFleet
from support import Run, run_audit

pytestmark = pytest.mark.e2e


def write_inventory(running: RunningFleet, path: Path, transport: str, **extra: Any) -> Path:
    data = running.inventory(transport=transport, **extra)
    if transport == "kerberos":
        for name, host in data["all"]["hosts"].items():
            host.setdefault("ansible_winrm_kerberos_hostname_override", f"{name}.{DOMAIN}")
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def guest(running: RunningFleet, tmp_path: Path, name: str = "hci-vm-01", **extra: Any) -> Guest:
    inventory = load_inventory(write_inventory(running, tmp_path / "inventory.yml", "kerberos", **extra))
    return inventory.guests[name]


def collect_ok(running: RunningFleet, target: Guest, fleet: Fleet) -> None:
    facts = collect(target)
    facts.pop("collected_at")
    assert facts == expected_facts(fleet.guest(target.name))


def test_managed_kinit_collects_with_message_encryption(served: RunningFleet, fleet: Fleet, tmp_path: Path) -> None:
    before = served.counts("hci-vm-01").get("kerberos-handshake", 0)
    collect_ok(served, guest(served, tmp_path), fleet)
    assert served.counts("hci-vm-01")["kerberos-handshake"] == before + 1
    assert served.counts("hci-vm-01").get("ntlm-handshake", 0) == 0


def test_managed_ticket_lives_until_close(served: RunningFleet, tmp_path: Path) -> None:
    import krb5

    transport = open_transport(guest(served, tmp_path))
    assert transport.run_cmd("hostname").rc == 0
    ticket = transport._ticket
    assert ticket is not None
    ctx, name = krb5.init_context(), ticket.name
    assert name.startswith(b"MEMORY:")
    assert krb5.cc_get_principal(ctx, krb5.cc_resolve(ctx, name)).name == b"auditor@HOTPATCH.TEST"
    transport.close()
    with pytest.raises(krb5.Krb5Error, match="No credentials cache found"):
        krb5.cc_get_principal(ctx, krb5.cc_resolve(ctx, name))


@pytest.mark.parametrize("delegation", [True, False])
def test_delegation_forwards_the_ticket_only_when_asked(
    delegation: bool, served: RunningFleet, fleet: Fleet, tmp_path: Path
) -> None:
    before = served.counts("hci-vm-05").get("kerberos-delegated", 0)
    target = guest(served, tmp_path, "hci-vm-05", ansible_winrm_kerberos_delegation=delegation)
    collect_ok(served, target, fleet)
    assert served.counts("hci-vm-05").get("kerberos-delegated", 0) == before + delegation


def test_ticket_cache_collects(
    served: RunningFleet, fleet: Fleet, realm: Realm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    realm.kinit(fleet.user, PASSWORD, tmp_path / "ccache")
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'ccache'}")
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    collect_ok(served, guest(served, tmp_path, ansible_winrm_kinit_mode="manual"), fleet)


def failure(target: Guest) -> CollectionFailure:
    with pytest.raises(CollectionFailure) as caught:
        collect(target)
    message = str(caught.value)
    assert "\n" not in message
    assert PASSWORD not in message
    assert "Traceback" not in message
    return caught.value


def test_no_ticket(served: RunningFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'empty'}")
    err = failure(guest(served, tmp_path, ansible_winrm_kinit_mode="manual"))
    assert err.cause == "no-ticket"
    assert str(err).startswith("hci-vm-01: Kerberos: no Kerberos ticket for 'auditor': run kinit auditor first")


def test_expired_ticket(
    served: RunningFleet, fleet: Fleet, realm: Realm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    realm.kinit(fleet.user, PASSWORD, tmp_path / "ccache", lifetime="2s")
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'ccache'}")
    target = guest(served, tmp_path, ansible_winrm_kinit_mode="manual")
    import time

    time.sleep(3)
    err = failure(target)
    assert err.cause == "ticket-expired", err
    assert "has expired: run kinit auditor again" in str(err)


def test_wrong_password(served: RunningFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    err = failure(guest(served, tmp_path))
    assert err.cause == "wrong-password"
    assert "the KDC refused the password of 'auditor'" in str(err)
    assert "not-the-password" not in str(err)


def test_unknown_spn(served: RunningFleet, tmp_path: Path) -> None:
    target = guest(served, tmp_path)
    host_vars = {**target.vars, "ansible_winrm_kerberos_hostname_override": f"nosuch.{DOMAIN}"}
    err = failure(Guest(target.name, target.groups, host_vars, target.connection))
    assert err.cause == "unknown-spn"
    assert f"the KDC knows no service principal HTTP/nosuch.{DOMAIN}: register it" in str(err)


def test_ticket_for_another_guest_is_refused(served: RunningFleet, tmp_path: Path) -> None:
    # hci-vm-01's keytab has no key for HTTP/hci-vm-04...: its acceptor refuses the ticket, as Windows does.
    target = guest(served, tmp_path)
    host_vars = {**target.vars, "ansible_winrm_kerberos_hostname_override": f"hci-vm-04.{DOMAIN}"}
    err = failure(Guest(target.name, target.groups, host_vars, target.connection))
    assert err.cause == "ticket-refused"
    assert f"the guest refused the ticket for HTTP/hci-vm-04.{DOMAIN} (HTTP 401)" in str(err)


def test_kdc_unreachable(served: RunningFleet, realm: Realm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = realm.krb5_conf.read_text().replace(f"127.0.0.1:{realm.port}", "127.0.0.1:9")
    (tmp_path / "krb5.conf").write_text(text)
    monkeypatch.setenv("KRB5_CONFIG", str(tmp_path / "krb5.conf"))
    err = failure(guest(served, tmp_path))
    assert err.cause == "kdc-unreachable"
    assert err.transient


def test_clock_skew(served: RunningFleet, realm: Realm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with skewed_kdc(realm, "+2h", timesync=False) as krb5_conf:
        monkeypatch.setenv("KRB5_CONFIG", str(krb5_conf))
        err = failure(guest(served, tmp_path))
    assert err.cause == "clock-skew"
    assert "synchronise the clock" in str(err)


def test_guest_refuses_a_ticket_from_a_skewed_clock(
    served: RunningFleet, realm: Realm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The auditor follows a KDC two hours off: its ticket and authenticator are outside the guest's clock skew.
    with skewed_kdc(realm, "-2h", timesync=True) as krb5_conf:
        monkeypatch.setenv("KRB5_CONFIG", str(krb5_conf))
        err = failure(guest(served, tmp_path))
    assert err.cause == "ticket-refused"
    assert (
        "(HTTP 401): check the SPN belongs to this guest's computer account (setspn -Q) and the guest's clock"
        in str(err)
    )


def test_bad_kinit_mode_is_a_settings_error(served: RunningFleet, tmp_path: Path) -> None:
    err = failure(guest(served, tmp_path, ansible_winrm_kinit_mode="auto"))
    assert err.cause == "settings"
    assert str(err) == "hci-vm-01: ansible_winrm_kinit_mode is 'auto': use managed or manual"


# --- the same guests audited five ways give the same outcomes -------------------------------------------------


def audit(inventory: Path, reports: Path, env: dict[str, str]) -> Run:
    # DEBUG logging into a file on purpose: no log record may carry a password or an authentication token.
    log = ("--log-level=DEBUG", f"--log-file={reports}.log", "--log-file-level=DEBUG")
    return run_audit(inventory, reports, "--as-of", "2026-05-27", "--deadline", "20", "-rA", *log, env=env)


@pytest.fixture(scope="module")
def audits(
    served: RunningFleet, served_https: RunningFleet, fleet: Fleet, realm: Realm, pki: Pki,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Run]:  # fmt: skip
    tmp = tmp_path_factory.mktemp("five-ways")
    with_password = {**os.environ, PASSWORD_ENV: PASSWORD}
    realm.kinit(fleet.user, PASSWORD, tmp / "ccache")
    ticket_only = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV} | {"KRB5CCNAME": f"FILE:{tmp / 'ccache'}"}
    cert, key = pki.client(fleet.user)
    inventories = {
        "ntlm": (write_inventory(served, tmp / "ntlm.yml", "ntlm"), with_password),
        "kerberos-password": (write_inventory(served, tmp / "krb-pw.yml", "kerberos"), with_password),
        "kerberos-ticket-cache": (
            write_inventory(served, tmp / "krb-cc.yml", "kerberos", ansible_winrm_kinit_mode="manual"),
            ticket_only,
        ),
        "certificate": (
            write_inventory(
                served_https, tmp / "cert.yml", "certificate", ansible_winrm_ca_trust_path=str(pki.ca),
                ansible_winrm_cert_pem=str(cert), ansible_winrm_cert_key_pem=str(key),
            ),
            ticket_only,
        ),
        "credssp": (
            write_inventory(served_https, tmp / "credssp.yml", "credssp", ansible_winrm_ca_trust_path=str(pki.ca)),
            with_password,
        ),
    }  # fmt: skip
    return {way: audit(path, tmp / f"reports-{way}", env) for way, (path, env) in inventories.items()}


def test_five_ways_give_identical_outcomes(audits: dict[str, Run], fleet: Fleet) -> None:
    reference = audits["ntlm"].outcomes()
    assert {guest for guest, _ in reference} == {g.name for g in fleet.guests}
    assert set(reference.values()) >= {"passed", "failed"}
    assert "error" not in {reference[key] for key in reference if key[0] != "hci-vm-14"}, audits["ntlm"].output
    for way, run in audits.items():
        assert run.outcomes() == reference, f"{way}:\n{run.output[-3000:]}"


def test_no_password_or_ticket_material_anywhere(audits: dict[str, Run], realm: Realm) -> None:
    for way, run in audits.items():
        assert PASSWORD not in run.output, way
        assert "krbtgt" not in run.output, way
        log = run.run_dir.parent.with_name(run.run_dir.parent.name + ".log")
        assert "DEBUG" in log.read_text(), log  # the log file is written at DEBUG: the checks below bite
        for path in [log, *run.run_dir.rglob("*")]:
            if path.is_file():
                data = path.read_bytes()
                assert PASSWORD.encode() not in data, path
                assert b"krbtgt" not in data, path
                assert b"YII" not in data, path  # base64 of a GSSAPI token (0x60 0x82 ...)
                assert b"TlRMTVNTUA" not in data, path  # base64 of an NTLM message ("NTLMSSP")
