"""Signed evidence: an Ed25519 signature of ``manifest.sha256`` in ``manifest.sha256.sig``.

The manifest binds every file of a run directory to its digest; the signature binds the manifest to a key the
auditor holds the public half of, so rewriting ``results.json`` and regenerating the manifest is noticed.
The signature covers the manifest's exact bytes, so it can also be checked without this suite
(``openssl pkeyutl -verify -rawin``). Keys are read where the operator keeps them and never copied into a run
directory; only the key's fingerprint (OpenSSH's ``SHA256:…`` form, as ``ssh-keygen -l`` prints it) is written.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hotpatch_audit.errors import HotpatchAuditError

SIGNATURE = "manifest.sha256.sig"
FORMAT = "hotpatch-audit-signature/1"
PASSPHRASE_ENV = "HOTPATCH_SIGN_KEY_PASSPHRASE"  # noqa: S105 - the variable's name, not its value
_KEY_BYTES = 16 * 1024  # an Ed25519 key file is well under 1 KiB, even encrypted and with a comment
_MANIFEST = "manifest.sha256"  # integrity imports this module, so the name is repeated rather than imported


class SigningError(HotpatchAuditError):
    """A key cannot be used, or a signature cannot be made."""


class SignatureError(HotpatchAuditError):
    """A run directory's signature is missing, malformed, by another key, or does not match its manifest."""


@dataclass(frozen=True)
class Signature:
    """What ``manifest.sha256.sig`` says: who signed which manifest."""

    fingerprint: str
    manifest_sha256: str
    signature: bytes


def fingerprint(key: Ed25519PublicKey) -> str:
    """OpenSSH's fingerprint of a public key: ``SHA256:`` and the unpadded base64 of its wire-format digest."""
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from an OpenSSH or PEM (PKCS#8) file that only its owner can read.

    A key that group or others may read is refused, as ssh refuses it: a key others could have copied no
    longer shows who signed. Encrypted keys are opened with the passphrase in HOTPATCH_SIGN_KEY_PASSPHRASE.
    """
    mode, data = _read_key(path, "--sign-key", SigningError)
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        msg = (
            f"--sign-key {path}: permissions {stat.filemode(mode)} let other users read the private key, so a "
            f"signature would not show who signed: restrict it with 'chmod 600 {path}'"
        )
        raise SigningError(msg)
    passphrase = os.environ.get(PASSPHRASE_ENV)
    secret = passphrase.encode("utf-8") if passphrase else None
    try:
        openssh = b"-----BEGIN OPENSSH PRIVATE KEY-----" in data
        key: object = (
            serialization.load_ssh_private_key(data, secret)
            if openssh
            else serialization.load_pem_private_key(data, secret)
        )
    except TypeError as err:
        # cryptography says TypeError both for a missing and for an unneeded passphrase.
        need = "is encrypted: set its passphrase in" if secret is None else "is not encrypted: unset"
        msg = f"--sign-key {path}: the key {need} {PASSPHRASE_ENV}"
        raise SigningError(msg) from err
    except UnsupportedAlgorithm as err:
        msg = (
            f"--sign-key {path}: {err}: an encrypted OpenSSH key needs the bcrypt package ('pip install bcrypt'); "
            "or use an encrypted PEM key ('openssl genpkey -algorithm ed25519 -aes256')"
        )
        raise SigningError(msg) from err
    except ValueError as err:
        hint = (
            " (that is a public key: give the private one)"
            if data.lstrip().startswith((b"ssh-", b"-----BEGIN PUB"))
            else ""
        )
        msg = (
            f"--sign-key {path}: not a readable OpenSSH or PEM private key{hint}, or a wrong passphrase; "
            f"create one with 'ssh-keygen -t ed25519 -f KEY'"
        )
        raise SigningError(msg) from err
    if not isinstance(key, Ed25519PrivateKey):
        kind = type(key).__name__.removesuffix("PrivateKey")
        msg = f"--sign-key {path}: a {kind} key: evidence is signed with Ed25519 keys only"
        raise SigningError(msg)
    return key


def key_fingerprint(path: Path) -> str:
    """The fingerprint of the private key at `path`: what a report written before signing shows as its signer."""
    return fingerprint(load_private_key(path).public_key())


def key_option(text: str) -> Path:
    """Argument type of ``--sign-key``: the key is checked when the command line is read, not after the audit."""
    path = Path(text)
    try:
        load_private_key(path)
    except SigningError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix(f"--sign-key {path}: ")) from err
    return path


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from an OpenSSH line (``ssh-ed25519 AAAA…``, as in ``KEY.pub``) or a PEM file."""
    _, data = _read_key(path, "--key", SignatureError)
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(data)
        else:
            key = serialization.load_ssh_public_key(data.strip())
    except (ValueError, UnsupportedAlgorithm) as err:
        private = b"PRIVATE KEY" in data
        hint = (
            "that is a private key: give its public half (KEY.pub)" if private else "not an OpenSSH or PEM public key"
        )
        msg = f"--key {path}: {hint}"
        raise SignatureError(msg) from err
    if not isinstance(key, Ed25519PublicKey):
        kind = type(key).__name__.removesuffix("PublicKey")
        msg = f"--key {path}: a {kind} key: evidence is signed with Ed25519 keys only"
        raise SignatureError(msg)
    return key


def _read_key(path: Path, option: str, error: type[HotpatchAuditError]) -> tuple[int, bytes]:
    """A key file's mode and bytes; a device, FIFO or oversized file is refused before it is read."""
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            msg = f"{option} {path}: not a regular file"
            raise error(msg)
        with path.open("rb") as f:
            data = f.read(_KEY_BYTES + 1)
    except OSError as err:
        msg = f"{option} {path}: cannot read the key: {err.strerror or err}"
        raise error(msg) from err
    if len(data) > _KEY_BYTES:
        msg = f"{option} {path}: larger than {_KEY_BYTES} bytes: not an Ed25519 key file"
        raise error(msg)
    return mode, data


def sign_manifest(run_dir: Path, key_path: Path | None) -> str | None:
    """Sign ``run_dir/manifest.sha256`` with the key at `key_path` (nothing when None); return the fingerprint."""
    if key_path is None:
        return None
    key = load_private_key(key_path)
    manifest = (run_dir / _MANIFEST).read_bytes()
    signer = fingerprint(key.public_key())
    document = {
        "format": FORMAT,
        "signed_file": _MANIFEST,
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        "algorithm": "ed25519",
        "key_fingerprint": signer,
        "signature": base64.b64encode(key.sign(manifest)).decode(),
    }
    (run_dir / SIGNATURE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8", newline="\n")
    return signer


def read_signature(run_dir: Path) -> Signature | None:
    """The run's ``manifest.sha256.sig``, or None when the run is not signed; SignatureError when unreadable."""
    path = run_dir / SIGNATURE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        msg = f"{path}: not a readable signature file: {err}"
        raise SignatureError(msg) from err
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("algorithm") != "ed25519":
        msg = f"{path}: not a {FORMAT} Ed25519 signature"
        raise SignatureError(msg)
    fields = {k: doc.get(k) for k in ("key_fingerprint", "manifest_sha256", "signature")}
    bad = [k for k, v in fields.items() if not isinstance(v, str) or not v]
    if bad:
        msg = f"{path}: missing or empty: {', '.join(bad)}"
        raise SignatureError(msg)
    try:
        raw = base64.b64decode(str(fields["signature"]), validate=True)
    except binascii.Error as err:
        msg = f"{path}: signature: not base64"
        raise SignatureError(msg) from err
    return Signature(str(fields["key_fingerprint"]), str(fields["manifest_sha256"]), raw)


def signer(run_dir: Path) -> str | None:
    """The fingerprint of the key that signed the run (as the signature file states it), for a report header."""
    try:
        found = read_signature(run_dir)
    except SignatureError:
        return None
    return None if found is None else found.fingerprint


def verify_signature(run_dir: Path, key: Ed25519PublicKey) -> str:
    """Check that `key` signed the run's manifest as it is now; return the fingerprint, else SignatureError."""
    found = read_signature(run_dir)
    expected = fingerprint(key)
    if found is None:
        msg = f"{run_dir}: no {SIGNATURE}: the run is not signed (it was audited without --sign-key)"
        raise SignatureError(msg)
    if found.fingerprint != expected:
        msg = f"{run_dir}: signed by {found.fingerprint}, not by the given key {expected}"
        raise SignatureError(msg)
    manifest = (run_dir / _MANIFEST).read_bytes()
    try:
        key.verify(found.signature, manifest)
    except InvalidSignature as err:
        msg = f"{run_dir}: BAD SIGNATURE: {_MANIFEST} is not the manifest {expected} signed (it was rewritten)"
        raise SignatureError(msg) from err
    return expected
