"""The simulated fleet: each guest modeled as Windows state plus injected faults, loaded from a fleet YAML file.

A fleet file has ``user``, ``password_env`` (the environment variable holding the password; the simulator and
the audit both read it), an optional ``demo_password`` (loopback use only, when the variable is unset), an
optional ``allow_unencrypted`` (like WinRM's ``AllowUnencrypted``: Basic authentication over plain http is
refused unless it is true), optional ``clock`` (the guests' current time for time-relative reads such as "the
System log's last 365 days"; default: the real time), optional ``templates`` and ``guests``. A guest names a
template and overrides any of its keys::

    guests:
      hci-vm-04:
        template: ws2022-core
        groups: [ws2022]
        sku: 8
        faults: {latency_ms: 200}

Unknown keys are errors naming file, line and key, so a typo never silently models a different guest.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hotpatch_audit.errors import InputFileError
from hotpatch_audit.inputs.yamlsrc import Path_, YamlDocument, YamlSourceError, load_yaml

GUEST_KEYS = frozenset(
    {
        "template", "groups", "computer_name", "caption", "sku", "edition_id", "installation_type", "build",
        "display_version", "vbs_configured", "vbs_status", "secure_boot", "hotpatch_table_size", "enrollment",
        "last_boot", "reboot_pending", "hotfixes", "faults", "vbs_policy", "hvci_enabled", "credential_guard",
        "language_mode", "event_log",
    }
)  # fmt: skip
FAULT_KEYS = frozenset(
    {
        "port_closed", "credentials_refused", "latency_ms", "operation_timeout", "garbage_output",
        "non_ascii_output", "command_line_too_long", "access_denied", "provider_not_found",
    }
)  # fmt: skip
REBOOT_KEYS = frozenset(
    {
        "component_based_servicing", "windows_update", "file_rename_operations", "new_computer_name",
        "update_exe_volatile", "file_rename_operations_2", "domain_join", "new_hostname",
    }
)  # fmt: skip
EVENT_KEYS = frozenset({"time", "id", "process", "reason_code", "shutdown_type"})
# The provider of each System log event id the simulator models.
EVENT_SOURCES = {
    12: "Microsoft-Windows-Kernel-General",
    13: "Microsoft-Windows-Kernel-General",
    6005: "EventLog",
    6006: "EventLog",
    6008: "EventLog",
    1074: "User32",
}
LANGUAGE_MODES = ("FullLanguage", "ConstrainedLanguage")


class FleetError(InputFileError):
    """The fleet file is malformed."""


@dataclass(frozen=True)
class Hotfix:
    """One Win32_QuickFixEngineering row."""

    id: str
    description: str
    installed_on: date | None


@dataclass(frozen=True)
class PendingReboot:
    """The pending-restart markers, as the registry holds them."""

    component_based_servicing: bool = False
    windows_update: bool = False
    file_rename_operations: tuple[str, ...] = ()
    new_computer_name: str | None = None  # ComputerName\ComputerName differs from ActiveComputerName
    update_exe_volatile: bool = False  # HKLM\SOFTWARE\Microsoft\Updates UpdateExeVolatile = 1
    file_rename_operations_2: tuple[str, ...] = ()  # PendingFileRenameOperations2
    domain_join: bool = False  # Netlogon JoinDomain is set
    new_hostname: str | None = None  # Tcpip\Parameters "NV Hostname" differs from Hostname


@dataclass(frozen=True)
class Event:
    """One System log event (its provider follows from the id, see EVENT_SOURCES)."""

    time: datetime
    id: int
    process: str | None = None
    reason_code: str | None = None
    shutdown_type: str | None = None


@dataclass(frozen=True)
class EventLog:
    """The System log: when its oldest event was written, and the start/stop/restart events in it."""

    start: datetime
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Faults:
    """What goes wrong on this guest, on purpose."""

    port_closed: bool = False  # nothing listens: connection refused
    credentials_refused: bool = False  # every authentication ends in HTTP 401
    latency_ms: int = 0  # every command runs this long
    operation_timeout: bool = False  # commands never finish: Receive answers OperationTimeout forever
    garbage_output: bool = False  # the collector prints something that is not base64 JSON
    non_ascii_output: bool = False  # the collector prints localized non-ASCII text instead
    command_line_too_long: bool = False  # cmd.exe refuses every command line
    access_denied: tuple[str, ...] = ()  # CIM class names, HKLM key paths or event log names whose reads are denied
    provider_not_found: tuple[str, ...] = ()  # CIM classes whose broken provider answers NotFound


@dataclass(frozen=True)
class GuestState:
    r"""One simulated guest: what its registry and CIM classes hold, and its faults.

    ``None`` means the value (or, for ``vbs_status``, the Win32_DeviceGuard class; for ``secure_boot``, the
    SecureBoot\State key; for the enrollment fields, the Hotpatch.amd64 key) does not exist on the guest.
    """

    name: str
    groups: tuple[str, ...] = ()
    computer_name: str = "WIN-SIM"
    caption: str | None = None
    sku: int | None = None
    edition_id: str | None = None
    installation_type: str | None = None
    build: str = "20348.0"
    display_version: str | None = None
    vbs_configured: int | None = None
    vbs_status: int | None = None
    secure_boot: bool | None = None
    hotpatch_table_size: int | None = None
    enrollment_name: str | None = None
    enrollment_version: str | None = None
    last_boot: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    reboot_pending: PendingReboot = field(default_factory=PendingReboot)
    hotfixes: tuple[Hotfix, ...] = ()
    faults: Faults = field(default_factory=Faults)
    vbs_policy: int | None = None
    hvci_enabled: int | None = None
    credential_guard: int | None = None
    language_mode: str = "FullLanguage"  # ConstrainedLanguage: WDAC/AppLocker lock PowerShell down
    event_log: EventLog | None = None  # None: a log whose only restart is the last boot
    clock: datetime | None = None  # the guest's "now" for time-relative reads (the event log's last N days)

    @property
    def system_log(self) -> EventLog:
        """The System log; by default it reaches back 400 days and records the last boot."""
        if self.event_log is not None:
            return self.event_log
        boot = Event(self.last_boot, 12)
        return EventLog(self.last_boot - timedelta(days=400), (boot,))

    @property
    def current_build(self) -> str:
        """``CurrentBuild`` (REG_SZ), e.g. ``20348``."""
        return self.build.split(".")[0]

    @property
    def ubr(self) -> int:
        """``UBR`` (REG_DWORD), e.g. 5074."""
        return int(self.build.split(".")[1])


@dataclass(frozen=True)
class Fleet:
    """All simulated guests and the credentials they accept."""

    user: str
    password_env: str
    guests: tuple[GuestState, ...]
    demo_password: str | None = field(default=None, repr=False)
    allow_unencrypted: bool = False  # WinRM's AllowUnencrypted: off by default, as on a real host

    def guest(self, name: str) -> GuestState:
        """The guest called `name`."""
        for state in self.guests:
            if state.name == name:
                return state
        raise KeyError(name)


def load_fleet(path: Path) -> Fleet:
    """Load and validate a fleet file; raise FleetError naming file, line and key on any problem."""
    try:
        doc = load_yaml(path)
    except YamlSourceError as err:
        raise FleetError(str(err)) from err
    data = doc.data
    if not isinstance(data, dict):
        raise FleetError(f"{path}: the fleet file must be a mapping with user, password_env and guests")
    _only(doc, (), data, {"user", "password_env", "demo_password", "allow_unencrypted", "templates", "guests", "clock"})
    allow_unencrypted = data.get("allow_unencrypted", False)
    if not isinstance(allow_unencrypted, bool):
        raise FleetError(f"{doc.where(('allow_unencrypted',))}: must be true or false")
    clock = data.get("clock")
    if clock is not None and not isinstance(clock, datetime):
        raise FleetError(f"{doc.where(('clock',))}: must be a timestamp like 2026-05-27T06:00:00Z")
    templates = data.get("templates") or {}
    guests = data.get("guests")
    if not isinstance(guests, dict) or not guests:
        raise FleetError(f"{doc.where(('guests',))}: must map guest names to their state")
    states = []
    for name, body in guests.items():
        at: Path_ = ("guests", name)
        merged = dict(_template(doc, templates, body, at))
        merged.update({k: v for k, v in (body or {}).items() if k != "template"})
        state = _guest(doc, name, merged, at)
        states.append(dataclasses.replace(state, clock=_utc(clock)) if clock is not None else state)
    return Fleet(
        user=_text(doc, ("user",), data.get("user")),
        password_env=_text(doc, ("password_env",), data.get("password_env")),
        guests=tuple(states),
        demo_password=str(data["demo_password"]) if data.get("demo_password") is not None else None,
        allow_unencrypted=allow_unencrypted,
    )


def _template(doc: YamlDocument, templates: Any, body: Any, at: Path_) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise FleetError(f"{doc.where(at)}: a guest must be a mapping of state keys")
    name = body.get("template")
    if name is None:
        return {}
    if not isinstance(templates, dict) or not isinstance(templates.get(name), dict):
        raise FleetError(f"{doc.where((*at, 'template'))}: unknown template '{name}'")
    _only(doc, ("templates", name), templates[name], GUEST_KEYS - {"template"})
    return dict(templates[name])


def _guest(doc: YamlDocument, name: str, v: dict[str, Any], at: Path_) -> GuestState:
    _only(doc, at, v, GUEST_KEYS)
    enrollment = v.get("enrollment") or {}
    reboot = v.get("reboot_pending") or {}
    _only(doc, (*at, "reboot_pending"), reboot, REBOOT_KEYS)
    _only(doc, (*at, "enrollment"), enrollment, {"name", "version"})
    mode = v.get("language_mode", "FullLanguage")
    if mode not in LANGUAGE_MODES:
        raise FleetError(f"{doc.where((*at, 'language_mode'))}: must be one of {', '.join(LANGUAGE_MODES)}")
    if v.get("build") is None:
        raise FleetError(f"{doc.where(at)}: guest '{name}' has no build (e.g. build: \"20348.5074\")")
    build = str(v["build"])
    if build.count(".") != 1 or not all(part.isdigit() for part in build.split(".")):
        raise FleetError(f"{doc.where((*at, 'build'))}: build must look like 20348.5074, found '{build}'")
    last_boot = v.get("last_boot", GuestState.last_boot)
    if not isinstance(last_boot, datetime):
        raise FleetError(f"{doc.where((*at, 'last_boot'))}: must be a timestamp like 2026-04-15T02:10:00Z")
    return GuestState(
        name=name,
        groups=tuple(str(g) for g in v.get("groups") or ()),
        computer_name=str(v.get("computer_name") or name.upper()),
        caption=v.get("caption"),
        sku=v.get("sku"),
        edition_id=v.get("edition_id"),
        installation_type=v.get("installation_type"),
        build=build,
        display_version=None if v.get("display_version") is None else str(v["display_version"]),
        vbs_configured=v.get("vbs_configured"),
        vbs_status=v.get("vbs_status"),
        secure_boot=v.get("secure_boot"),
        hotpatch_table_size=v.get("hotpatch_table_size"),
        enrollment_name=enrollment.get("name"),
        enrollment_version=None if enrollment.get("version") is None else str(enrollment["version"]),
        last_boot=last_boot if last_boot.tzinfo else last_boot.replace(tzinfo=UTC),
        reboot_pending=PendingReboot(
            component_based_servicing=bool(reboot.get("component_based_servicing", False)),
            windows_update=bool(reboot.get("windows_update", False)),
            file_rename_operations=tuple(str(x) for x in reboot.get("file_rename_operations") or ()),
            new_computer_name=reboot.get("new_computer_name"),
            update_exe_volatile=bool(reboot.get("update_exe_volatile", False)),
            file_rename_operations_2=tuple(str(x) for x in reboot.get("file_rename_operations_2") or ()),
            domain_join=bool(reboot.get("domain_join", False)),
            new_hostname=reboot.get("new_hostname"),
        ),
        hotfixes=tuple(_hotfix(doc, (*at, "hotfixes", i), h) for i, h in enumerate(v.get("hotfixes") or ())),
        faults=_faults(doc, (*at, "faults"), v.get("faults") or {}),
        vbs_policy=v.get("vbs_policy"),
        hvci_enabled=v.get("hvci_enabled"),
        credential_guard=v.get("credential_guard"),
        language_mode=mode,
        event_log=_event_log(doc, (*at, "event_log"), v["event_log"]) if v.get("event_log") else None,
    )


def _event_log(doc: YamlDocument, at: Path_, raw: Any) -> EventLog:
    _only(doc, at, raw, {"start", "events"})
    start = raw.get("start")
    if not isinstance(start, datetime):
        raise FleetError(f"{doc.where((*at, 'start'))}: must be a timestamp like 2025-04-01T00:00:00Z")
    events = []
    for i, item in enumerate(raw.get("events") or ()):
        where = (*at, "events", i)
        _only(doc, where, item, EVENT_KEYS)
        when = item.get("time")
        if not isinstance(when, datetime):
            raise FleetError(f"{doc.where((*where, 'time'))}: must be a timestamp like 2026-04-15T02:10:00Z")
        if item.get("id") not in EVENT_SOURCES:
            known = ", ".join(str(k) for k in EVENT_SOURCES)
            raise FleetError(f"{doc.where((*where, 'id'))}: must be one of the modeled event ids {known}")
        events.append(
            Event(
                _utc(when), item["id"], item.get("process"),
                None if item.get("reason_code") is None else str(item["reason_code"]), item.get("shutdown_type"),
            )
        )  # fmt: skip
    return EventLog(_utc(start), tuple(events))


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _faults(doc: YamlDocument, at: Path_, faults: Any) -> Faults:
    _only(doc, at, faults, FAULT_KEYS)
    for key in FAULT_KEYS - {"latency_ms", "access_denied", "provider_not_found"}:
        if not isinstance(faults.get(key, False), bool):
            raise FleetError(f"{doc.where((*at, key))}: must be true or false")
    latency = faults.get("latency_ms", 0)
    if isinstance(latency, bool) or not isinstance(latency, int) or latency < 0:
        raise FleetError(f"{doc.where((*at, 'latency_ms'))}: must be a whole number of milliseconds")
    denied = faults.get("access_denied", [])
    if not isinstance(denied, list) or not all(isinstance(item, str) for item in denied):
        where = doc.where((*at, "access_denied"))
        raise FleetError(f"{where}: must list CIM class names, HKLM key paths or event log names")
    not_found = faults.get("provider_not_found", [])
    if not isinstance(not_found, list) or not all(isinstance(item, str) for item in not_found):
        raise FleetError(f"{doc.where((*at, 'provider_not_found'))}: must list CIM class names")
    return Faults(
        provider_not_found=tuple(not_found),
        port_closed=faults.get("port_closed", False),
        credentials_refused=faults.get("credentials_refused", False),
        latency_ms=latency,
        operation_timeout=faults.get("operation_timeout", False),
        garbage_output=faults.get("garbage_output", False),
        non_ascii_output=faults.get("non_ascii_output", False),
        command_line_too_long=faults.get("command_line_too_long", False),
        access_denied=tuple(denied),
    )


def _hotfix(doc: YamlDocument, at: Path_, item: Any) -> Hotfix:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise FleetError(f"{doc.where(at)}: a hotfix needs id, description and installed_on")
    _only(doc, at, item, {"id", "description", "installed_on"})
    installed = item.get("installed_on")
    if installed is not None and not isinstance(installed, date):
        raise FleetError(f"{doc.where((*at, 'installed_on'))}: must be a date like 2026-05-13")
    return Hotfix(item["id"], str(item.get("description") or ""), installed)


def _only(doc: YamlDocument, at: Path_, mapping: Any, allowed: frozenset[str] | set[str]) -> None:
    if not isinstance(mapping, dict):
        raise FleetError(f"{doc.where(at)}: must be a mapping")
    for key in mapping:
        if key not in allowed:
            raise FleetError(
                f"{doc.where((*at, key))}: unknown key '{key}' (expected one of {', '.join(sorted(allowed))})"
            )


def _text(doc: YamlDocument, at: Path_, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise FleetError(f"{doc.where(at)}: must be a non-empty string")
    return value
