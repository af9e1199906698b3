"""A throw-away certificate authority: a server certificate for 127.0.0.1 and client certificates for users."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Pki:
    """Files of a CA and of the certificates it issued."""

    folder: Path
    ca: Path

    def client(self, user: str, *, expired: bool = False, issuer: str = "ca") -> tuple[Path, Path]:
        """A client-authentication certificate whose subject is `user`, and its key (PEM files)."""
        ca_key, ca_cert = _load(self.folder, issuer)
        now = dt.datetime.now(dt.UTC)
        start, end = (now - dt.timedelta(days=10), now - dt.timedelta(days=1)) if expired else (now, now)
        if not expired:
            start, end = now - dt.timedelta(hours=1), now + dt.timedelta(days=1)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        label = f"client-{user}-{issuer}{'-expired' if expired else ''}"
        return _write(self.folder, label, cert, key)

    def server_context(self) -> ssl.SSLContext:
        """The guests' TLS context: the server certificate, and client certificates checked against the CA."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(self.ca))
        context.load_cert_chain(self.folder / "server.pem", self.folder / "server.key")
        context.verify_mode = ssl.CERT_OPTIONAL  # NTLM and Basic clients send none
        # In TLS 1.3 the server judges the client certificate after the client's handshake ends, so the client
        # sees the refusal as an alert or as a bare EOF, by timing; in TLS 1.2 always as the alert.
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        return context


def make_pki(folder: Path) -> Pki:
    """A CA, a second CA the guests do not trust, and a server certificate for 127.0.0.1."""
    for name in ("ca", "rogue-ca"):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"hotpatch self-test {name}")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=30))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        _write(folder, name, cert, key)
    ca_key, ca_cert = _load(folder, "ca")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hotpatch-sim")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(folder, "server", server, key)
    (folder / "server.pem").write_bytes((folder / "server.crt").read_bytes())
    return Pki(folder, folder / "ca.crt")


def _write(folder: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    (folder / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{name}.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / f"{name}.crt", folder / f"{name}.key"


def _load(folder: Path, name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = serialization.load_pem_private_key((folder / f"{name}.key").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key, x509.load_pem_x509_certificate((folder / f"{name}.crt").read_bytes())
