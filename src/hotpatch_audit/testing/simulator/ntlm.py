"""HTTP authentication of the simulated WS-Management endpoints: Basic, and NTLM with message encryption.

NTLM is bound to the TCP connection, so each connection gets its own :class:`ConnectionAuth`, holding a pyspnego
acceptor: NEGOTIATE is answered with a 401 carrying the CHALLENGE, AUTHENTICATE completes the context, and the
rest of the connection needs no header. Messages are then sealed with MS-WSMV framing
(``multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted"``). pyspnego's acceptor reads the
accepted credentials only from the file named by ``NTLM_USER_FILE``; :func:`ntlm_user_file` writes one to a
private temporary directory while the simulator runs, unless the variable is already set by the user. It uses
the smbpasswd line format (LM and NT hashes), which, unlike ``DOMAIN:USER:PASSWORD``, allows any character in
the password and keeps the clear text off the disk.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import struct
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import spnego
import spnego.exceptions
from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1  # the hashes pyspnego's own acceptor compares with

ENCRYPTED_TYPE = (
    'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"'
)
_BOUNDARY = b"--Encrypted Boundary"
_CHALLENGES = ("Negotiate", 'Basic realm="WSMAN"')

_users_lock = threading.Lock()
_users: dict[tuple[str, str], int] = {}  # (user, password) -> number of running fleets using it
_user_file: Path | None = None


@contextmanager
def ntlm_user_file(user: str, password: str) -> Iterator[None]:
    """Make pyspnego's acceptor accept `user`/`password` while the context is open."""
    global _user_file  # one process-wide file, as NTLM_USER_FILE is process-wide
    with _users_lock:
        if _user_file is None and "NTLM_USER_FILE" not in os.environ:
            _user_file = Path(tempfile.mkdtemp(prefix="hotpatch-sim-")) / "ntlm-users"
            os.environ["NTLM_USER_FILE"] = str(_user_file)
        if any(u == user and p != password for u, p in _users):
            # pyspnego takes the first line of a user: a second password for one user would fail as a 401.
            msg = f"a fleet already running in this process accepts user '{user}' with another password"
            raise ValueError(msg)
        _users[(user, password)] = _users.get((user, password), 0) + 1
        _write_users()
    try:
        yield
    finally:
        with _users_lock:
            _users[(user, password)] -= 1
            if not _users[(user, password)]:
                del _users[(user, password)]
            _write_users()
            if not _users and _user_file is not None:
                os.environ.pop("NTLM_USER_FILE", None)
                _user_file.unlink(missing_ok=True)
                _user_file.parent.rmdir()
                _user_file = None


def _write_users() -> None:
    if _user_file is not None:
        lines = (f"{u}:0:{lmowfv1(p).hex().upper()}:{ntowfv1(p).hex().upper()}:[U]:LCT-00000000\n" for u, p in _users)
        _user_file.write_text("".join(lines), encoding="utf-8")
        _user_file.chmod(0o600)


class ConnectionAuth:
    """The authentication state of one HTTP connection to one guest."""

    def __init__(self, user: str, password: str, *, refuse: bool, basic_allowed: bool) -> None:
        self._user, self._password, self._refuse, self._basic_allowed = user, password, refuse, basic_allowed
        self._ntlm: spnego.ContextProxy | None = None
        self.ntlm_done = False

    def check(self, header: str) -> tuple[bool, list[str]]:
        """(authenticated, WWW-Authenticate values for the 401 when not) for an Authorization header."""
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "basic":
            if not self._basic_allowed:
                return False, list(_CHALLENGES)  # Basic over plain http without AllowUnencrypted
            try:
                decoded = base64.b64decode(token, validate=True).decode("utf-8", errors="replace")
            except binascii.Error:
                return False, list(_CHALLENGES)
            user, _, password = decoded.partition(":")
            ok = user.lower() == self._user.lower() and hmac.compare_digest(password, self._password)
            return ok and not self._refuse, list(_CHALLENGES)
        if scheme.lower() in ("negotiate", "ntlm"):
            return self._ntlm_step(scheme, token)
        return self.ntlm_done, list(_CHALLENGES)

    def _ntlm_step(self, scheme: str, token: str) -> tuple[bool, list[str]]:
        if self._ntlm is None or self.ntlm_done:
            self._ntlm, self.ntlm_done = spnego.server(protocol="ntlm"), False
        try:
            out = self._ntlm.step(base64.b64decode(token))
        except spnego.exceptions.SpnegoError:
            self._ntlm = None  # wrong user or password
            return False, list(_CHALLENGES)
        if not self._ntlm.complete:
            return False, [f"{scheme} {base64.b64encode(out or b'').decode()}"]
        if self._refuse:
            self._ntlm = None
            return False, list(_CHALLENGES)
        self.ntlm_done = True
        return True, []

    def decrypt(self, body: bytes) -> bytes:
        """The SOAP message inside an MS-WSMV encrypted body."""
        if self._ntlm is None or not self.ntlm_done:
            raise ValueError("encrypted message without an NTLM context")
        parts = [p for p in body.split(_BOUNDARY + b"\r\n") if p]
        header, payload = parts[0], parts[1].removesuffix(_BOUNDARY + b"--\r\n")
        length = int(header.split(b"Length=")[1].strip())
        payload = payload.replace(b"\tContent-Type: application/octet-stream\r\n", b"", 1)
        signature_length = struct.unpack("<i", payload[:4])[0]
        plain = self._ntlm.unwrap(payload[4 : 4 + signature_length] + payload[4 + signature_length :]).data
        if len(plain) != length:
            raise ValueError("decrypted length does not match the announced Length")
        return plain

    def encrypt(self, plain: bytes) -> bytes:
        """`plain` sealed in the MS-WSMV framing pywinrm expects."""
        if self._ntlm is None:
            raise ValueError("no NTLM context to encrypt with")
        wrapped = self._ntlm.wrap(plain, encrypt=True).data
        signature, sealed = wrapped[:16], wrapped[16:]
        return (
            _BOUNDARY + b"\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=" + str(len(plain)).encode() + b"\r\n"
            + _BOUNDARY + b"\r\n\tContent-Type: application/octet-stream\r\n"
            + struct.pack("<i", len(signature)) + signature + sealed + _BOUNDARY + b"--\r\n"
        )  # fmt: skip
