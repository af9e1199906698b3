"""HTTPS endpoints: certificate validation is on unless the inventory turns it off, and ca_trust_path is honoured."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from e2e.live.livesupport import PASSWORD, PASSWORD_ENV, build_fleet, expected_facts
from hotpatch_audit.collect.collector import collect
from hotpatch_audit.collect.transport import CollectionFailure
from hotpatch_audit.inputs.inventory import Inventory, load_inventory
from hotpatch_audit.testing.simulator import Fleet, RunningFleet, serve_fleet

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hotpatch-sim")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture(scope="module")
def https_fleet(certificate: tuple[Path, Path]) -> Iterator[RunningFleet]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    small = Fleet("auditor", PASSWORD_ENV, (build_fleet().guest("hci-vm-01"),))
    with serve_fleet(small, password=PASSWORD, password_env=PASSWORD_ENV, tls=context) as running:
        yield running


def _inventory(running: RunningFleet, path: Path, transport: str, **extra: str) -> Inventory:
    return load_inventory(running.write_inventory(path, transport=transport, **extra))


@pytest.mark.parametrize("transport", ["ntlm", "basic"])
def test_validated_https_with_ca_trust_path(
    transport: str, https_fleet: RunningFleet, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    inventory = _inventory(https_fleet, tmp_path / "i.yml", transport, ansible_winrm_ca_trust_path=str(certificate[0]))
    guest = inventory.guests["hci-vm-01"]
    assert (guest.connection.scheme, guest.connection.server_cert_validation) == ("https", "validate")
    facts = collect(guest)
    facts.pop("collected_at")
    assert facts == expected_facts(build_fleet().guest("hci-vm-01"))


def test_untrusted_certificate_is_refused(https_fleet: RunningFleet, tmp_path: Path) -> None:
    guest = _inventory(https_fleet, tmp_path / "i.yml", "ntlm").guests["hci-vm-01"]
    with pytest.raises(CollectionFailure, match=r"^hci-vm-01: TLS error at https://127\.0\.0\.1:\d+/wsman: check") as e:
        collect(guest)
    assert e.value.transient is False


def test_validation_off_only_when_the_inventory_says_so(https_fleet: RunningFleet, tmp_path: Path) -> None:
    inventory = _inventory(https_fleet, tmp_path / "i.yml", "ntlm", ansible_winrm_server_cert_validation="ignore")
    assert collect(inventory.guests["hci-vm-01"])["os"]["ubr"] == 5074
