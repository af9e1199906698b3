"""A throw-away MIT Kerberos realm on loopback: database, principals, keytab and a running krb5kdc.

Every file lives in one temporary folder; the KDC listens on 127.0.0.1 only (UDP and TCP on one free port) and
is stopped when the context exits. Nothing here mocks GSSAPI: clients and acceptors in the test process use
the system's libgssapi_krb5, pointed at this realm by ``KRB5_CONFIG``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REALM = "HOTPATCH.TEST"
DOMAIN = "hotpatch.test"
TOOLS = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit", "kdestroy")
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"  # Debian's faketime package


def missing_tools() -> list[str]:
    """What this realm needs and does not find (Debian: krb5-kdc, krb5-admin-server, krb5-user, faketime)."""
    search = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    missing = [tool for tool in TOOLS if shutil.which(tool, path=search) is None]
    return missing if Path(FAKETIME_LIB).is_file() else [*missing, FAKETIME_LIB]


@dataclass(frozen=True)
class Realm:
    """A running realm: where its configuration, keytab and KDC are."""

    folder: Path
    port: int
    krb5_conf: Path
    env: dict[str, str]

    def keytab(self, service: str) -> Path:
        """The keytab holding the keys of service principal `service` alone, as a computer account has."""
        return self.folder / (service.replace("/", "_") + ".keytab")

    def principal(self, name: str) -> str:
        return f"{name}@{REALM}"

    def kadmin(self, query: str) -> None:
        """Run one kadmin.local query against the realm's database."""
        _run(["kadmin.local", "-r", REALM, "-q", query], self.env)

    def kinit(self, user: str, password: str, ccache: Path, *, lifetime: str = "1h") -> None:
        """Get a ticket-granting ticket for `user` into `ccache` (a file), as an operator does beforehand."""
        env = {**self.env, "KRB5CCNAME": f"FILE:{ccache}"}
        subprocess.run(
            ["kinit", "-l", lifetime, self.principal(user)],
            input=password + "\n",
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )


@contextlib.contextmanager
def running_realm(folder: Path, *, users: dict[str, str], services: list[str]) -> Iterator[Realm]:
    """A realm with `users` (name -> password) and the service principals `services`, one keytab each."""
    port = _free_port()
    krb5_conf, kdc_conf = _configure(folder, "", port)
    (folder / "kadm5.acl").write_text("", encoding="utf-8")
    env = {
        **os.environ,
        "KRB5_CONFIG": str(krb5_conf),
        "KRB5_KDC_PROFILE": str(kdc_conf),
        "PATH": os.environ.get("PATH", "") + ":/usr/sbin:/sbin",
    }
    env.pop("KRB5CCNAME", None)
    realm = Realm(folder, port, krb5_conf, env)
    _run(["kdb5_util", "-r", REALM, "create", "-s", "-P", "master-key-of-a-throw-away-realm"], env)
    for user, password in users.items():
        realm.kadmin(f"addprinc +requires_preauth -pw {password} {user}")  # as in Active Directory
    for service in services:
        realm.kadmin(f"addprinc -randkey {service}")
        realm.kadmin(f"ktadd -k {realm.keytab(service)} {service}")
    with _kdc(port, env):
        yield realm


@contextlib.contextmanager
def skewed_kdc(realm: Realm, offset: str, *, timesync: bool) -> Iterator[Path]:
    """A second KDC of the realm whose clock is off by `offset` (libfaketime, e.g. "+2h"); its krb5.conf.

    With `timesync`, clients adopt the KDC's clock (MIT's default, kdc_timesync): they get tickets, and the
    guest, on the true time, refuses them. Without, the KDC refuses the client.
    """
    port = _free_port()
    krb5_conf, kdc_conf = _configure(realm.folder, f"skewed{offset}{int(timesync)}-", port, timesync=timesync)
    env = {**realm.env, "KRB5_KDC_PROFILE": str(kdc_conf), "LD_PRELOAD": FAKETIME_LIB, "FAKETIME": offset}
    with _kdc(port, env):
        yield krb5_conf


def _configure(folder: Path, prefix: str, port: int, *, timesync: bool = True) -> tuple[Path, Path]:
    krb5_conf, kdc_conf = folder / f"{prefix}krb5.conf", folder / f"{prefix}kdc.conf"
    krb5_conf.write_text(
        f"""[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    kdc_timesync = {int(timesync)}
    forwardable = true
[realms]
    {REALM} = {{
        kdc = 127.0.0.1:{port}
    }}
[domain_realm]
    .{DOMAIN} = {REALM}
    {DOMAIN} = {REALM}
""",
        encoding="utf-8",
    )
    kdc_conf.write_text(
        f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{port}
    kdc_tcp_listen = 127.0.0.1:{port}
[realms]
    {REALM} = {{
        database_name = {folder}/principal
        key_stash_file = {folder}/stash
        acl_file = {folder}/kadm5.acl
        max_life = 10h
        supported_enctypes = aes256-cts-hmac-sha1-96:normal
    }}
[logging]
    kdc = FILE:{folder}/{prefix}kdc.log
""",
        encoding="utf-8",
    )
    return krb5_conf, kdc_conf


@contextlib.contextmanager
def _kdc(port: int, env: dict[str, str]) -> Iterator[None]:
    kdc = subprocess.Popen(["krb5kdc", "-n", "-r", REALM], env=env, stderr=subprocess.PIPE)
    try:
        _wait_listening(port, kdc)
        yield
    finally:
        kdc.send_signal(signal.SIGTERM)
        try:
            kdc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kdc.kill()
            kdc.wait()
        if kdc.stderr is not None:
            kdc.stderr.close()


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, kdc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if kdc.poll() is not None:
            error = kdc.stderr.read().decode(errors="replace") if kdc.stderr else ""
            raise RuntimeError(f"krb5kdc exited with {kdc.returncode}: {error.strip()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"krb5kdc did not listen on 127.0.0.1:{port} within 15 s")
