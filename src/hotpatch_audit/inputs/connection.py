"""A guest's WinRM connection from its Ansible variables, by the rules of ansible-core's ``winrm`` connection plugin.

Each setting reads a list of variables and the last one that is set (not null) wins, e.g. ``ansible_winrm_host``
over ``ansible_host`` and ``ansible_winrm_password`` over ``ansible_winrm_pass`` over ``ansible_password``. The
port defaults to 5986; the scheme, when not set, is http for port 5985 and https otherwise; the transport, when
not set, is kerberos for a ``user@domain`` user and basic otherwise; a transport list is tried in order, so the
first the suite speaks is used. Values that are malformed (a port of 70000, an infinite timeout) are errors of
the inventory; values the suite cannot use for this guest (a Jinja template, an Ansible Vault value, a transport
it does not speak) are the guest's problems, reported before any guest is contacted when the guest is audited.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urlunsplit

from hotpatch_audit.errors import InventoryError
from hotpatch_audit.inputs.hostnames import is_address
from hotpatch_audit.inputs.yamlsrc import Vaulted, printable

TRANSPORTS = ("ntlm", "kerberos", "credssp", "basic", "certificate")
# pywinrm's names for Basic authentication over https and over http.
_ALIASES = {"ssl": "basic", "plaintext": "basic"}
_OPTIONS: dict[str, tuple[str, ...]] = {
    "host": ("ansible_host", "ansible_winrm_host"),
    "user": ("ansible_user", "ansible_winrm_user"),
    "password": ("ansible_password", "ansible_winrm_pass", "ansible_winrm_password"),
    "port": ("ansible_port", "ansible_winrm_port"),
    "scheme": ("ansible_winrm_scheme",),
    "path": ("ansible_winrm_path",),
    "transport": ("ansible_winrm_transport",),
    "connection_timeout": ("ansible_winrm_connection_timeout",),
    "read_timeout": ("ansible_winrm_read_timeout_sec",),
    "operation_timeout": ("ansible_winrm_operation_timeout_sec",),
    "validation": ("ansible_winrm_server_cert_validation",),
    "ca_trust_path": ("ansible_winrm_ca_trust_path",),
    "cert_pem": ("ansible_winrm_cert_pem",),
    "cert_key_pem": ("ansible_winrm_cert_key_pem",),
    "plugin": ("ansible_connection",),
    "password_env": ("hotpatch_password_env",),
}
MAX_TIMEOUT_SEC = 86_400
PASSWORD_UNUSABLE = "the password is an Ansible Vault value or a Jinja template"  # noqa: S105 - a message
_SECRET_NAME = re.compile(r"pass|secret|token|credential|api_?key", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """Whether a variable called `name` holds a secret, so its value is never shown."""
    return _SECRET_NAME.search(name) is not None


class Secret:
    """A password that never shows itself in repr, str, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The clear text, for the transport only."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        # Pickled, the clear text would sit in a pipe or a file for anyone reading it; a worker process reads the
        # password from the variable hotpatch_password_env names instead.
        msg = "a password written in the inventory is never pickled: name an environment variable instead"
        raise TypeError(msg)


@dataclass(frozen=True)
class Origin:
    """Where a variable was set: ``file:line: key.path`` (or ``file: key.path`` for JSON)."""

    where: str
    key: str


@dataclass(frozen=True)
class Connection:
    """How to reach one guest over WinRM, from Ansible's connection variables."""

    host: str
    port: int
    scheme: str = "https"
    transport: str = "ntlm"
    user: str | None = None
    password: Secret | None = field(default=None, repr=False)
    password_env: str | None = None
    server_cert_validation: str = "validate"
    ca_trust_path: str | None = None
    cert_pem: str | None = None
    cert_key_pem: str | None = None
    read_timeout_sec: int = 30
    operation_timeout_sec: int = 20
    connection_plugin: str = "winrm"
    path: str = "/wsman"

    @property
    def endpoint(self) -> str:
        """The WS-Management URL, built as the winrm plugin builds it (an IPv6 address in brackets)."""
        host = self.host
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            pass
        else:
            host = f"[{host}]"
        return urlunsplit((self.scheme, f"{host}:{self.port}", self.path, "", ""))


class _Reader:
    """Reads one guest's settings; malformed values raise, unusable ones become problems."""

    def __init__(self, guest: str, merged: Mapping[str, Any], origins: Mapping[str, Origin]) -> None:
        self.guest = guest
        self.vars = merged
        self.origins = origins
        self.problems: list[str] = []

    def where(self, key: str, *, host: bool = True) -> str:
        origin = self.origins.get(key)
        if origin is None:
            return f"host '{printable(self.guest)}': {key}" if host else key
        return f"{origin.where} (host '{printable(self.guest)}')" if host else origin.where

    def bad(self, key: str, problem: str) -> InventoryError:
        return InventoryError(f"{self.where(key)}: {problem}")

    def pick(self, option: str) -> tuple[Any, str]:
        """The value of the last variable of `option` that is set, and its name."""
        value, name = None, _OPTIONS[option][0]
        for key in _OPTIONS[option]:
            if self.vars.get(key) is not None:
                value, name = self.vars[key], key
        return value, name

    def usable(self, option: str, *, secret: bool = False) -> tuple[Any, str]:
        """The value, or None with a problem when it is a Jinja template or an Ansible Vault value."""
        value, key = self.pick(option)
        if isinstance(value, Vaulted):
            if not secret:
                self.problems.append(
                    f"{self.where(key, host=False)}: the value is encrypted with Ansible Vault, which the audit "
                    "does not decrypt: write the value itself"
                )
            return None, key
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            if not secret:
                shown = printable(value[:60])
                self.problems.append(
                    f"{self.where(key, host=False)}: '{shown}' is a Jinja template, which the audit does not "
                    "render (nor does ansible-inventory --list): write the value itself; Ansible shows the value "
                    f"it uses with: ansible HOST -i INVENTORY -m ansible.builtin.debug -a var={key}"
                )
            return None, key
        return value, key

    def text(self, option: str) -> str | None:
        value, key = self.usable(option)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.bad(key, f"must be a string, found {type(value).__name__}")
        return str(value)

    def number(self, option: str, low: int, high: int) -> int | None:
        value, key = self.usable(option)
        if value is None:
            return None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.bad(key, f"must be a whole number, found {str(value)[:40]!r}")
        if not low <= value <= high:
            raise self.bad(key, f"must be between {low} and {high}, found {value}")
        return value

    def transport(self, user: str | None) -> str:
        value, key = self.usable("transport")
        if value is None:
            # The plugin's guess: a UPN is a domain account (Kerberos), anything else Basic.
            return "kerberos" if user and "@" in user else "basic"
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise self.bad(key, "must be a transport name or a list of them")
        names = [i.strip() for i in items if i.strip()]
        known = {*TRANSPORTS, *_ALIASES}
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise self.bad(key, f"'{(unknown or [''])[0]}' is not a WinRM transport ({', '.join(sorted(known))})")
        return _ALIASES.get(names[0], names[0])


def resolve_connection(
    guest: str, merged: Mapping[str, Any], origins: Mapping[str, Origin]
) -> tuple[Connection, tuple[str, ...]]:
    """The guest's connection and the problems that keep it from being audited live (empty when none)."""
    r = _Reader(guest, merged, origins)
    host = r.text("host") or guest
    port = r.number("port", 1, 65535) or 5986
    scheme_value, scheme_key = r.usable("scheme")
    if scheme_value is not None and scheme_value not in ("http", "https"):
        raise r.bad(scheme_key, f"must be http or https, found {str(scheme_value)[:40]!r}")
    scheme = scheme_value or ("http" if port == 5985 else "https")
    user = r.text("user")
    validation = (r.text("validation") or "validate").lower()
    if validation not in ("validate", "ignore"):
        raise r.bad("ansible_winrm_server_cert_validation", f"must be validate or ignore, found '{validation}'")
    read_timeout, op_timeout = _timeouts(r)
    path = r.text("path") or "/wsman"
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not is_address(bare):
        where = r.where(r.pick("host")[1], host=False)
        r.problems.append(f"{where}: '{printable(host[:60])}' is not a host name or IP address")
    if any(c.isspace() or c in "?#" for c in path):
        r.problems.append(f"{r.where('ansible_winrm_path', host=False)}: '{printable(path[:60])}' is not a URL path")
    password_value, _ = r.usable("password", secret=True)
    password_env = r.text("password_env")
    if isinstance(password_value, bool) or not isinstance(password_value, str | int | None):
        raise r.bad(r.pick("password")[1], f"must be a string, found {type(password_value).__name__}")
    unusable = password_value is None and r.pick("password")[0] is not None
    if unusable and password_env is None:
        r.problems.append(
            f"{r.where(r.pick('password')[1], host=False)}: {PASSWORD_UNUSABLE}, which the audit does not "
            "decrypt or render: put the password in an environment variable and name that variable in "
            "hotpatch_password_env"
        )
    plugin = r.text("plugin") or "winrm"
    if plugin not in ("winrm", "ansible.builtin.winrm"):
        r.problems.append(
            f"{r.where('ansible_connection', host=False)}: '{plugin}' is not supported: the audit speaks WinRM"
        )
    connection = Connection(
        host=host,
        port=port,
        scheme=scheme,
        transport=r.transport(user),
        user=user,
        password=Secret(str(password_value)) if password_value is not None else None,
        password_env=password_env,
        server_cert_validation=validation,
        ca_trust_path=r.text("ca_trust_path"),
        cert_pem=r.text("cert_pem"),
        cert_key_pem=r.text("cert_key_pem"),
        read_timeout_sec=read_timeout,
        operation_timeout_sec=op_timeout,
        connection_plugin="winrm" if plugin == "ansible.builtin.winrm" else plugin,
        path=path,
    )
    return connection, tuple(r.problems)


def _timeouts(r: _Reader) -> tuple[int, int]:
    """``ansible_winrm_connection_timeout`` sets both (read = operation + 10 s), else pywinrm's 30 s and 20 s."""
    both = r.number("connection_timeout", 1, MAX_TIMEOUT_SEC)
    if both is not None:
        return both + 10, both
    read_timeout = r.number("read_timeout", 1, MAX_TIMEOUT_SEC) or 30
    op_timeout = r.number("operation_timeout", 1, MAX_TIMEOUT_SEC) or 20
    if read_timeout <= op_timeout:
        raise r.bad(
            "ansible_winrm_read_timeout_sec",
            f"({read_timeout}) must be greater than ansible_winrm_operation_timeout_sec ({op_timeout})",
        )
    return read_timeout, op_timeout
