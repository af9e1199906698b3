"""Kerberos for the WinRM transport: Ansible's settings, managed kinit, and one-line causes for GSSAPI errors.

pywinrm authenticates with pykerberos, which only reads a ticket cache. Ansible's ``kinit_mode``:

* ``manual`` uses the operator's cache (``kinit`` beforehand; ``KRB5CCNAME`` or the default cache);
* ``managed`` (the default when a password is given) gets a ticket-granting ticket from the password into a
  private in-memory cache. The audit runs guests in threads, so the cache is not chosen through the
  process-wide ``KRB5CCNAME`` but through MIT's per-thread ``gss_krb5_ccache_name``, set around each command.

The ticket, the cache's content and the password never leave this module; errors name the cause and what to do.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

KINIT_MODES = ("managed", "manual")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class KerberosSettingsError(ValueError):
    """An Ansible Kerberos variable has a value the audit cannot use."""


class KerberosTicketError(Exception):
    """Managed kinit failed; the message is GSSAPI's or the KDC's, without the password."""


@dataclass(frozen=True)
class KerberosSettings:
    """How to authenticate one guest with Kerberos, from its Ansible variables."""

    kinit_mode: str
    service: str
    hostname: str
    delegation: bool

    @property
    def spn(self) -> str:
        """The service principal name the ticket is requested for, as Windows' setspn lists it."""
        return f"{self.service}/{self.hostname}"


def kerberos_settings(host: str, host_vars: Mapping[str, Any], *, has_password: bool) -> KerberosSettings:
    """The guest's Kerberos settings; raise KerberosSettingsError naming the variable for a bad value."""
    mode = host_vars.get("ansible_winrm_kinit_mode", "managed" if has_password else "manual")
    if mode not in KINIT_MODES:
        raise KerberosSettingsError(f"ansible_winrm_kinit_mode is {mode!r}: use managed or manual")
    service = host_vars.get("ansible_winrm_service", "HTTP")
    override = host_vars.get("ansible_winrm_kerberos_hostname_override")
    for label, value in (("ansible_winrm_service", service), ("ansible_winrm_kerberos_hostname_override", override)):
        if value is not None and (not isinstance(value, str) or not value or any(c in value for c in "/@ \t")):
            raise KerberosSettingsError(f"{label} is {value!r}: expected a bare name (no '/', '@' or spaces)")
    return KerberosSettings(
        kinit_mode=mode,
        service=service,
        hostname=override or host,
        delegation=_flag("ansible_winrm_kerberos_delegation", host_vars.get("ansible_winrm_kerberos_delegation")),
    )


def _flag(label: str, value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if str(value).lower() in _TRUE:
        return True
    if str(value).lower() in _FALSE:
        return False
    raise KerberosSettingsError(f"{label} is {value!r}: use true or false")


class ManagedTicket:
    """A ticket-granting ticket in a private memory cache, held until :meth:`destroy`."""

    def __init__(self, user: str, password: str, *, forwardable: bool) -> None:
        """Get `user`'s ticket from `password` (kinit_mode managed); raise KerberosTicketError if the KDC refuses."""
        import krb5  # the kerberos extra; connection_args has checked it is installed

        try:
            self._ctx = krb5.init_context()
            principal = krb5.parse_name_flags(self._ctx, user.encode("utf-8"))
            options = krb5.get_init_creds_opt_alloc(self._ctx)
            krb5.get_init_creds_opt_set_forwardable(options, forwardable)
            creds = krb5.get_init_creds_password(self._ctx, principal, options, password.encode("utf-8"))
            self._cache = krb5.cc_new_unique(self._ctx, b"MEMORY")
            krb5.cc_initialize(self._ctx, self._cache, principal)
            krb5.cc_store_cred(self._ctx, self._cache, creds)
        except krb5.Krb5Error as err:
            # Krb5Error's text is the KDC's or the library's message: it never holds the password.
            raise KerberosTicketError(str(err)) from None
        self.name: bytes = b"MEMORY:" + self._cache.name

    def destroy(self) -> None:
        """Remove the ticket from memory (a MEMORY cache otherwise lives as long as the process)."""
        import krb5

        krb5.cc_destroy(self._ctx, self._cache)


@contextlib.contextmanager
def thread_ccache(name: bytes | None) -> Iterator[None]:
    """Make GSSAPI calls of this thread use the cache `name` (None: leave the default) while the context is open."""
    if name is None:
        yield
        return
    from gssapi.raw import krb5_ccache_name

    krb5_ccache_name(name)
    try:
        yield
    finally:
        krb5_ccache_name(None)  # back to the process default (KRB5CCNAME), never to a stale name


# Patterns of GSSAPI and KDC messages (MIT and Heimdal wording), in the order they are checked, and their meaning.
_PROBLEMS = (
    (
        ("clock skew",),
        "clock-skew",
        "the auditor's clock and the domain's differ by more than the allowed skew (5 minutes): synchronise the "
        "clock (NTP) and retry",
    ),
    (
        ("server .* not found in kerberos database", "server principal unknown"),
        "unknown-spn",
        "the KDC knows no service principal {spn}: register it for the guest (setspn -S {spn} <computer>) or set "
        "ansible_winrm_kerberos_hostname_override to the name the SPN uses",
    ),
    (
        ("cannot contact any kdc", "cannot find kdc", "unable to reach any kdc", "cannot resolve network address"),
        "kdc-unreachable",
        "no KDC of the realm answered: check the [realms] kdc entries of krb5.conf (KRB5_CONFIG), DNS and the "
        "network path to port 88",
    ),
    (
        ("preauthentication failed", "password incorrect", "decrypt integrity check failed"),
        "wrong-password",
        "the KDC refused the password of '{user}' (kinit_mode managed): check the variable hotpatch_password_env "
        "names",
    ),
    (
        ("client .* not found in kerberos database", "client principal unknown"),
        "unknown-user",
        "the KDC knows no user '{user}': check ansible_user (user@REALM)",
    ),
    (
        ("expired",),
        "ticket-expired",
        "the Kerberos ticket has expired: run kinit {user} again (kinit_mode manual) or use kinit_mode managed",
    ),
    (
        ("no kerberos credentials", "no credentials cache", "credential cache is empty", "can't find client principal",
         "no credentials were supplied", "credentials cache file", "matching credential not found"),
        "no-ticket",
        "no Kerberos ticket for '{user}': run kinit {user} first (KRB5CCNAME names the cache; kinit_mode manual), "
        "or set hotpatch_password_env for kinit_mode managed",
    ),
)  # fmt: skip


def describe_kerberos(text: str, settings: KerberosSettings, user: str | None) -> tuple[str, str] | None:
    """(cause, one-line text) for a Kerberos failure message, or None if `text` is not one."""
    lowered = text.lower()
    for patterns, cause, advice in _PROBLEMS:
        if any(re.search(pattern, lowered) for pattern in patterns):
            return cause, "Kerberos: " + advice.format(spn=settings.spn, user=user or "<ansible_user>")
    return None
