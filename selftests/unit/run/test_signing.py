"""Signed run directories: keys as operators keep them, signatures that break when the manifest is rewritten,
and the exit codes of ``verify --key``."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hotpatch_audit.run import integrity
from hotpatch_audit.run.integrity import write_manifest
from hotpatch_audit.run.signing import (
    PASSPHRASE_ENV,
    SIGNATURE,
    SignatureError,
    SigningError,
    fingerprint,
    key_fingerprint,
    key_option,
    load_private_key,
    load_public_key,
    sign_manifest,
    signer,
    verify_signature,
)

NONE = serialization.NoEncryption()


def write_key(path: Path, key: Ed25519PrivateKey, fmt: str = "openssh", passphrase: bytes | None = None) -> Path:
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else NONE
    private = serialization.PrivateFormat.OpenSSH if fmt == "openssh" else serialization.PrivateFormat.PKCS8
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, private, encryption))
    path.chmod(0o600)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    Path(f"{path}.pub").write_bytes(public + b" auditor@example\n")
    return path


def sealed_run(tmp: Path) -> Path:
    run_dir = tmp / "run"
    (run_dir / "facts").mkdir(parents=True)
    (run_dir / "results.json").write_text(json.dumps({"run": {"complete": True, "evidence": ["results.json"]}}))
    (run_dir / "facts" / "vm.json").write_text("{}")
    write_manifest(run_dir)
    return run_dir


def verify_cli(run_dir: Path, key: Path | None) -> int:
    return integrity.run(argparse.Namespace(run_dir=run_dir, key=key, allow_incomplete=False))


@pytest.fixture
def key(tmp_path: Path) -> Path:
    """A directory holding keys/audit (OpenSSH, mode 600) and keys/audit.pub."""
    (tmp_path / "keys").mkdir()
    write_key(tmp_path / "keys" / "audit", Ed25519PrivateKey.generate())
    return tmp_path


@pytest.mark.parametrize("fmt", ["openssh", "pkcs8"])
def test_signed_run_verifies_and_the_signature_file_is_not_a_manifest_entry(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "keys").mkdir(exist_ok=True)
    private = write_key(tmp_path / "keys" / "k", Ed25519PrivateKey.generate(), fmt)
    run_dir = sealed_run(tmp_path)
    signed_by = sign_manifest(run_dir, private)
    public = load_public_key(Path(f"{private}.pub"))
    assert signed_by == fingerprint(public) == key_fingerprint(private)
    assert verify_signature(run_dir, public) == signed_by
    assert signer(run_dir) == signed_by
    assert integrity.verify(run_dir).ok  # the .sig is written after the manifest and is not listed in it
    assert "PRIVATE" not in (run_dir / SIGNATURE).read_text()
    assert verify_cli(run_dir, Path(f"{private}.pub")) == integrity.EXIT_VERIFIED


def test_fingerprint_is_the_one_ssh_keygen_prints(key: Path) -> None:
    ssh_keygen = shutil.which("ssh-keygen")
    if ssh_keygen is None:
        pytest.skip("no ssh-keygen")
    listed = subprocess.run(
        [ssh_keygen, "-lf", f"{key / 'keys' / 'audit'}.pub"], capture_output=True, text=True, check=True
    )
    assert listed.stdout.split()[1] == fingerprint(load_public_key(Path(f"{key / 'keys' / 'audit'}.pub")))


def test_rewritten_results_and_manifest_fail_with_4_while_plain_verify_passes(
    key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private = key / "keys" / "audit"
    run_dir = sealed_run(key)
    sign_manifest(run_dir, private)
    (run_dir / "results.json").write_text(json.dumps({"run": {"complete": True, "evidence": ["results.json"]}, "x": 1}))
    write_manifest(run_dir)  # what a forger can do without the key
    assert verify_cli(run_dir, None) == integrity.EXIT_VERIFIED
    assert verify_cli(run_dir, Path(f"{private}.pub")) == integrity.EXIT_BAD_SIGNATURE
    assert "BAD SIGNATURE" in capsys.readouterr().out


def test_unsigned_run_other_key_and_changed_file(key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    private = key / "keys" / "audit"
    run_dir = sealed_run(key)
    assert verify_cli(run_dir, Path(f"{private}.pub")) == integrity.EXIT_BAD_SIGNATURE
    assert "not signed" in capsys.readouterr().out
    other = write_key(tmp_path / "keys" / "other", Ed25519PrivateKey.generate())
    sign_manifest(run_dir, other)
    assert verify_cli(run_dir, Path(f"{private}.pub")) == integrity.EXIT_BAD_SIGNATURE
    assert f"not by the given key {fingerprint(load_public_key(Path(f'{private}.pub')))}" in capsys.readouterr().out
    sign_manifest(run_dir, private)
    (run_dir / "facts" / "vm.json").write_text('{"changed": true}')
    assert verify_cli(run_dir, Path(f"{private}.pub")) == integrity.EXIT_MISMATCH  # signature good, a file is not


def test_unusable_public_keys_are_unverifiable(key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    private = key / "keys" / "audit"
    run_dir = sealed_run(key)
    sign_manifest(run_dir, private)
    assert verify_cli(run_dir, private) == integrity.EXIT_CANNOT_VERIFY
    assert "that is a private key" in capsys.readouterr().out
    assert verify_cli(run_dir, tmp_path / "missing.pub") == integrity.EXIT_CANNOT_VERIFY
    shipped = run_dir / "facts" / "key.pub"
    shutil.copyfile(f"{private}.pub", shipped)
    assert verify_cli(run_dir, shipped) == integrity.EXIT_CANNOT_VERIFY
    assert "inside the run directory" in capsys.readouterr().out


def test_tampered_signature_file_is_a_bad_signature(key: Path) -> None:
    private = key / "keys" / "audit"
    run_dir = sealed_run(key)
    sign_manifest(run_dir, private)
    doc = json.loads((run_dir / SIGNATURE).read_text())
    doc["signature"] = "not base64!"
    (run_dir / SIGNATURE).write_text(json.dumps(doc))
    with pytest.raises(SignatureError, match="not base64"):
        verify_signature(run_dir, load_public_key(Path(f"{private}.pub")))
    assert verify_cli(run_dir, Path(f"{private}.pub")) == integrity.EXIT_BAD_SIGNATURE


def test_private_key_readable_by_others_is_refused(key: Path) -> None:
    private = key / "keys" / "audit"
    private.chmod(0o640)
    with pytest.raises(SigningError, match=r"chmod 600"):
        load_private_key(private)
    with pytest.raises(argparse.ArgumentTypeError, match="let other users read"):
        key_option(str(private))


def test_encrypted_key_needs_its_passphrase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    private = write_key(tmp_path / "enc", Ed25519PrivateKey.generate(), "pkcs8", passphrase=b"correct horse")
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    with pytest.raises(SigningError, match=f"is encrypted: set its passphrase in {PASSPHRASE_ENV}"):
        load_private_key(private)
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(SigningError) as wrong:
        load_private_key(private)
    assert "wrong" not in str(wrong.value).replace("a wrong passphrase", "")  # the passphrase is never echoed
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    assert isinstance(load_private_key(private), Ed25519PrivateKey)


def test_other_algorithms_and_public_keys_are_refused_as_signing_keys(tmp_path: Path) -> None:
    ecdsa = tmp_path / "ecdsa"
    ecdsa.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, NONE
        )
    )
    ecdsa.chmod(0o600)
    with pytest.raises(SigningError, match="Ed25519 keys only"):
        load_private_key(ecdsa)
    private = write_key(tmp_path / "k", Ed25519PrivateKey.generate())
    public = Path(f"{private}.pub")
    public.chmod(0o600)
    with pytest.raises(SigningError, match="that is a public key"):
        load_private_key(public)


def test_key_files_that_are_not_keys_are_refused_fast(tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="not a regular file"):
        load_private_key(Path("/dev/null"))  # a device: without the check it would read as an empty key
    with pytest.raises(SignatureError, match="not a regular file"):
        load_public_key(tmp_path)
    big = tmp_path / "big.pub"
    big.write_bytes(b"ssh-ed25519 " + b"A" * 20000)
    with pytest.raises(SignatureError, match="larger than"):
        load_public_key(big)
