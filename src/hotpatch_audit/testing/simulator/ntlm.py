"""HTTP authentication of the simulated endpoints: Basic, client certificates, NTLM and Kerberos (encrypted).

NTLM and Kerberos are bound to the TCP connection, so each connection gets its own :class:`ConnectionAuth`,
holding a pyspnego acceptor: for NTLM, NEGOTIATE is answered with a 401 carrying the CHALLENGE and AUTHENTICATE
completes the context; for Kerberos, the AP-REQ completes it at once and the 200 carries the mutual
authentication token. The rest of the connection needs no header. Messages are then sealed with MS-WSMV
framing (``multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted"``).

The Kerberos acceptor is the system's GSSAPI (pyspnego's gssapi backend) with the keys of the guest's own
keytab: a ticket for another SPN, an expired ticket or a skewed clock fail inside GSSAPI exactly as on a domain
member, and the client gets a 401. pyspnego's acceptor reads the
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
# What pywinrm (and Windows' own client) sends instead of credentials when the TLS client certificate is them.
CERTIFICATE_AUTHORIZATION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"

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


def _kerberos_acceptor(keytab: Path) -> spnego.ContextProxy:
    """A Kerberos acceptor holding only the keys of `keytab`.

    Like a Windows host, it can decrypt tickets for its own service principals alone, so a ticket for another
    SPN fails inside GSSAPI.
    """
    import gssapi  # the kerberos extra: only a fleet served with keytabs needs it

    keys = gssapi.Credentials(usage="accept", store={b"keytab": str(keytab).encode()})
    # pyspnego takes a ready GSSAPI credential through this keyword only (its own negotiate proxy uses it).
    return spnego.server(protocol="kerberos", _gssapi_credential=keys)


class ConnectionAuth:
    """The authentication state of one HTTP connection to one guest."""

    def __init__(
        self,
        user: str,
        password: str,
        *,
        refuse: bool,
        basic_allowed: bool,
        keytab: Path | None = None,
        certificate_user: str | None = None,
        credssp_allowed: bool = False,
    ) -> None:
        self._user, self._password, self._refuse, self._basic_allowed = user, password, refuse, basic_allowed
        self._keytab, self._certificate_user, self._credssp_allowed = keytab, certificate_user, credssp_allowed
        self._context: spnego.ContextProxy | None = None
        self.done = False
        self.mechanism = "none"  # what authenticated the connection: ntlm, kerberos or credssp
        self.final_token: str | None = None
        self.delegated = False

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
        if scheme.lower() in ("negotiate", "ntlm", "kerberos"):
            return self._gss_step(scheme, token)
        if scheme.lower() == "credssp" and self._credssp_allowed:
            return self._credssp_step(token)
        if header == CERTIFICATE_AUTHORIZATION:
            # WinRM's certificate mapping: TLS has verified the chain and dates; the subject names the user.
            ok = self._certificate_user is not None and self._certificate_user.lower() == self._user.lower()
            return ok and not self._refuse, list(_CHALLENGES)
        return self.done, self._challenges()

    def _challenges(self) -> list[str]:
        return [*_CHALLENGES, "CredSSP"] if self._credssp_allowed else list(_CHALLENGES)

    def _credssp_step(self, token: str) -> tuple[bool, list[str]]:
        try:
            raw = base64.b64decode(token, validate=True)
        except binascii.Error:
            return False, self._challenges()
        if self._context is None or self.done or self.mechanism != "credssp":
            # pyspnego's CredSSP acceptor: its own inner TLS, then NTLM (NTLM_USER_FILE) inside it.
            self._context, self.mechanism, self.done = spnego.server(protocol="credssp"), "credssp", False
        try:
            out = self._context.step(raw)
        except spnego.exceptions.SpnegoError:
            self._context = None
            return False, self._challenges()
        if not self._context.complete:
            return False, [f"CredSSP {base64.b64encode(out or b'').decode()}"]
        # The delegated credentials are the password itself, as on a Windows host: check they are the user's.
        delegated = self._context.get_extra_info("client_credential")
        user = str(getattr(delegated, "username", ""))
        password = str(getattr(delegated, "password", ""))
        ok = user.lower() == self._user.lower() and hmac.compare_digest(password, self._password)
        self._context = None  # CredSSP over https needs no message encryption: nothing more to keep
        if not ok or self._refuse:
            return False, self._challenges()
        self.done = True
        return True, []

    def _gss_step(self, scheme: str, token: str) -> tuple[bool, list[str]]:
        try:
            raw = base64.b64decode(token, validate=True)
        except binascii.Error:
            return False, list(_CHALLENGES)
        if self._context is None or self.done:
            self.done = False
            if raw.startswith(b"NTLMSSP\0"):
                self._context, self.mechanism = spnego.server(protocol="ntlm"), "ntlm"
            elif self._keytab is not None:
                self._context, self.mechanism = _kerberos_acceptor(self._keytab), "kerberos"
            else:
                return False, list(_CHALLENGES)  # Kerberos to a guest outside the realm
        try:
            out = self._context.step(raw)
        # pyspnego ends a Kerberos acceptance GSSAPI refused (a ticket this guest cannot decrypt) with an
        # AttributeError, reading the flags of a context that was never established.
        except (spnego.exceptions.SpnegoError, AttributeError):
            self._context = None  # wrong password, wrong SPN, expired or skewed ticket
            return False, list(_CHALLENGES)
        if not self._context.complete:
            return False, [f"{scheme} {base64.b64encode(out or b'').decode()}"]
        if self._refuse:
            self._context = None
            return False, list(_CHALLENGES)
        self.done = True
        # The client forwarded its ticket-granting ticket (Kerberos delegation, for a second hop).
        self.delegated = self.mechanism == "kerberos" and bool(self._context.context_attr & spnego.ContextReq.delegate)
        # Kerberos ends with the acceptor's mutual-authentication token, sent on the 200.
        self.final_token = f"{scheme} {base64.b64encode(out).decode()}" if out else None
        return True, []

    def decrypt(self, body: bytes) -> bytes:
        """The SOAP message inside an MS-WSMV encrypted body."""
        if self._context is None or not self.done:
            raise ValueError("encrypted message without an authenticated context")
        parts = [p for p in body.split(_BOUNDARY + b"\r\n") if p]
        header, payload = parts[0], parts[1].removesuffix(_BOUNDARY + b"--\r\n")
        length = int(header.split(b"Length=")[1].strip())
        payload = payload.replace(b"\tContent-Type: application/octet-stream\r\n", b"", 1)
        signature_length = struct.unpack("<i", payload[:4])[0]
        signature, sealed = payload[4 : 4 + signature_length], payload[4 + signature_length :]
        plain = self._context.unwrap_winrm(signature, sealed)
        if len(plain) != length:
            raise ValueError("decrypted length does not match the announced Length")
        return plain

    def encrypt(self, plain: bytes) -> bytes:
        """`plain` sealed in the MS-WSMV framing pywinrm expects."""
        if self._context is None:
            raise ValueError("no authenticated context to encrypt with")
        wrapped = self._context.wrap_winrm(plain)
        signature, sealed = wrapped.header, wrapped.data
        return (
            _BOUNDARY + b"\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=" + str(len(plain)).encode() + b"\r\n"
            + _BOUNDARY + b"\r\n\tContent-Type: application/octet-stream\r\n"
            + struct.pack("<i", len(signature)) + signature + sealed + _BOUNDARY + b"--\r\n"
        )  # fmt: skip
