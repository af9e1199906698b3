"""Certificate authentication over HTTPS: the guest maps a client certificate from a CA it trusts to the auditor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.live.livesupport import PASSWORD, PASSWORD_ENV, build_fleet, expected_facts
from e2e.live.pki import Pki, make_pki
from hotpatch_audit.collect.collector import collect
from hotpatch_audit.collect.transport import CollectionFailure
from hotpatch_audit.inputs.inventory import Guest, load_inventory
from hotpatch_audit.testing.simulator import Fleet, RunningFleet, serve_fleet

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def https_fleet(pki: Pki) -> Iterator[RunningFleet]:
    small = Fleet("auditor", PASSWORD_ENV, (build_fleet().guest("hci-vm-01"),))
    with serve_fleet(small, password=PASSWORD, password_env=PASSWORD_ENV, tls=pki.server_context()) as running:
        yield running


def guest(running: RunningFleet, pki: Pki, tmp_path: Path, cert: tuple[Path, Path]) -> Guest:
    extra = {
        "ansible_winrm_ca_trust_path": str(pki.ca),
        "ansible_winrm_cert_pem": str(cert[0]),
        "ansible_winrm_cert_key_pem": str(cert[1]),
    }
    path = running.write_inventory(tmp_path / "inventory.yml", transport="certificate", **extra)
    return load_inventory(path).guests["hci-vm-01"]


def test_mapped_certificate_collects(https_fleet: RunningFleet, pki: Pki, tmp_path: Path) -> None:
    facts = collect(guest(https_fleet, pki, tmp_path, pki.client("auditor")))
    facts.pop("collected_at")
    assert facts == expected_facts(build_fleet().guest("hci-vm-01"))


@pytest.mark.parametrize(
    ("kind", "cause", "text"),
    [
        ("expired", "certificate-expired", "the client certificate (ansible_winrm_cert_pem) expired on"),
        ("untrusted", "certificate-untrusted", "the guest does not trust the issuer of the client certificate"),
        ("unmapped", "certificate-unmapped", "the guest maps no user to the client certificate (HTTP 401)"),
    ],
)
def test_refused_certificate_says_why(
    kind: str, cause: str, text: str, https_fleet: RunningFleet, pki: Pki, tmp_path: Path
) -> None:
    cert = {
        "expired": lambda: pki.client("auditor", expired=True),
        "untrusted": lambda: pki.client("auditor", issuer="rogue-ca"),
        "unmapped": lambda: pki.client("somebody-else"),
    }[kind]()
    with pytest.raises(CollectionFailure) as caught:
        collect(guest(https_fleet, pki, tmp_path, cert))
    assert caught.value.cause == cause, caught.value
    assert str(caught.value).startswith(f"hci-vm-01: {text}")
    assert "\n" not in str(caught.value)
