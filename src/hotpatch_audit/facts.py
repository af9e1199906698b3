"""The facts of one guest (facts file schema_version 2, version 1 still read): typed model, validation, loading.

``null`` means the value does not exist on the guest; a fact that could not be *read* is also ``null`` and is
named in ``errors``. Controls ask :meth:`GuestFacts.unreadable` before judging a ``null``. A version-1 file
lacks the facts added in version 2 (VBS policy, HVCI, Credential Guard, the extra restart markers, the restart
history): :meth:`GuestFacts.unreadable` reports them as "not collected by this facts file", so a control that
needs them is ``error``, never judged on a value that was never read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from hotpatch_audit.errors import FactsError
from hotpatch_audit.validation import surely_valid

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)
ADDED_IN_VERSION_2 = (
    "security.vbs_policy",
    "security.hvci_enabled",
    "security.credential_guard",
    "reboot_pending.update_exe_volatile",
    "reboot_pending.pending_file_rename_2",
    "reboot_pending.domain_join",
    "reboot_pending.hostname_change",
    "history",
)


@dataclass(frozen=True)
class OsFacts:
    """Win32_OperatingSystem and the CurrentVersion registry key."""

    caption: str | None
    operating_system_sku: int | None
    edition_id: str | None
    installation_type: str | None
    current_build: int | None
    ubr: int | None
    display_version: str | None
    last_boot_up_time: datetime | None

    @property
    def build(self) -> str | None:
        """``CurrentBuild.UBR``, e.g. ``20348.5074``, when both parts are known."""
        if self.current_build is None or self.ubr is None:
            return None
        return f"{self.current_build}.{self.ubr}"


@dataclass(frozen=True)
class SecurityFacts:
    """Secure Boot state and virtualization-based security: the settings that switch it on and its runtime status.

    ``vbs_policy`` is the Group Policy value, ``hvci_enabled`` the memory integrity scenario's ``Enabled`` and
    ``credential_guard`` the ``LsaCfgFlags`` of Credential Guard (1 or 2 = on); each of them turns VSM on.
    """

    secure_boot_enabled: bool | None
    vbs_configured: int | None
    vbs_status: int | None
    vbs_policy: int | None = None
    hvci_enabled: int | None = None
    credential_guard: int | None = None


@dataclass(frozen=True)
class HotpatchFacts:
    """Hotpatch enrollment markers written when Hotpatch is enabled on WS2022."""

    hotpatch_table_size: int | None
    enrollment_package_name: str | None
    enrollment_package_version: str | None


@dataclass(frozen=True)
class RebootPendingFacts:
    """The pending-restart markers (the four of version 1 and the four added in version 2)."""

    component_based_servicing: bool | None
    windows_update: bool | None
    pending_file_rename: bool | None
    computer_rename: bool | None
    update_exe_volatile: bool | None = None
    pending_file_rename_2: bool | None = None
    domain_join: bool | None = None
    hostname_change: bool | None = None


@dataclass(frozen=True)
class Hotfix:
    """One Win32_QuickFixEngineering entry."""

    id: str
    description: str | None
    installed_on: date | None


@dataclass(frozen=True)
class SystemEvent:
    """One start, stop or restart event of the System event log.

    ``id``/``source``: 12 and 13 (Microsoft-Windows-Kernel-General: the OS started, shut down), 6005 and 6006
    (EventLog: the event log service started, stopped), 6008 (EventLog: the previous shutdown was unexpected)
    and 1074 (User32: a process asked for the restart, with its reason code and shutdown type).
    """

    time: datetime
    id: int
    source: str
    process: str | None = None
    reason_code: str | None = None
    shutdown_type: str | None = None


@dataclass(frozen=True)
class HistoryFacts:
    """What the System event log says about restarts over the last 365 days, and how far back it reaches."""

    log_start: datetime | None
    events: tuple[SystemEvent, ...] | None


NOT_COLLECTED = HistoryFacts(None, None)


@dataclass(frozen=True)
class ProbeError:
    """A fact that could not be read, and why."""

    probe: str
    message: str


@dataclass(frozen=True)
class GuestFacts:
    """Everything the controls may read about one guest."""

    guest: str
    collected_at: datetime
    collector_version: str
    os: OsFacts
    security: SecurityFacts
    hotpatch: HotpatchFacts
    reboot_pending: RebootPendingFacts
    hotfixes: tuple[Hotfix, ...] | None
    errors: tuple[ProbeError, ...]
    history: HistoryFacts = NOT_COLLECTED
    schema_version: int = SCHEMA_VERSION

    def unreadable(self, key_path: str) -> ProbeError | None:
        """The probe error covering `key_path` (the fact itself or a section it belongs to), if any.

        A fact that this file's schema version does not carry counts as unreadable.
        """
        for err in self.errors:
            if _covers(err.probe, key_path):
                return err
        if self.schema_version < 2 and any(_covers(added, key_path) for added in ADDED_IN_VERSION_2):
            message = (
                f"not collected by this facts file (schema_version {self.schema_version}): collect the guest "
                "again with this version of the suite"
            )
            return ProbeError(key_path, message)
        return None


def _covers(probe: str, key_path: str) -> bool:
    return key_path == probe or key_path.startswith(probe + ".")


@cache
def facts_schema() -> dict[str, Any]:
    """The JSON Schema of the facts file, shipped in the package."""
    text = resources.files("hotpatch_audit").joinpath("schemas/facts.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def parse_timestamp(text: str) -> datetime:
    """Parse a UTC ISO 8601 timestamp ending in ``Z``."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def parse_facts(data: Any, source: str) -> GuestFacts:
    """Validate a decoded facts document and build the typed model; FactsError names source and key path."""
    problems = []
    if not surely_valid(facts_schema(), data):
        validator = jsonschema.Draft202012Validator(facts_schema())
        problems = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.path))))
    if problems:
        first = problems[0]
        where = ".".join(str(p) for p in first.absolute_path) or "(top level)"
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        msg = f"{source}: {where}: {_short(first)}{more}"
        raise FactsError(msg)
    try:
        return _build(data)
    except ValueError as err:
        msg = f"{source}: invalid value: {err}"
        raise FactsError(msg) from err


def load_facts_file(path: Path, guest: str) -> GuestFacts:
    """Read ``<dir>/<guest>.json``; the file must exist, be JSON, match the schema and name this guest."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{path}: no facts file for guest '{guest}': collect it or remove the guest from the selection"
        raise FactsError(msg) from None
    except (OSError, UnicodeDecodeError) as err:
        msg = f"{path}: cannot read facts file: {err}"
        raise FactsError(msg) from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        msg = f"{path}:{err.lineno}: not valid JSON: {err.msg}"
        raise FactsError(msg) from err
    except RecursionError as err:
        msg = f"{path}: the JSON is nested too deeply to be a facts file"
        raise FactsError(msg) from err
    facts = parse_facts(data, str(path))
    if facts.guest != guest:
        msg = f"{path}: guest: the file is for '{facts.guest}', expected '{guest}'"
        raise FactsError(msg)
    return facts


def facts_filename(guest: str) -> str:
    """``<guest>.json``; a guest name that could leave its folder (separators, leading dot, NUL) is refused."""
    if not guest or any(c in guest for c in "/\\\0") or guest.startswith(".") or len(guest) > 255:
        msg = f"guest name {guest!r} cannot be used as a facts file name"
        raise FactsError(msg)
    return f"{guest}.json"


def facts_path(directory: Path, guest: str) -> Path:
    """Where the facts of `guest` live in `directory`: the one place a facts path is built."""
    return directory / facts_filename(guest)


def _short(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return str(error.message)
    if error.validator == "oneOf" and error.instance is not None:
        return f"{error.instance!r} is not a valid value (expected a UTC timestamp like 2026-05-20T10:00:00Z)"
    if error.validator == "pattern":
        return f"{error.instance!r} does not have the expected format"
    text = str(error.message)
    return text if len(text) <= 160 else text[:157] + "..."


def _build(d: dict[str, Any]) -> GuestFacts:
    o, s, h, r = d["os"], d["security"], d["hotpatch"], d["reboot_pending"]
    history = _history(d["history"]) if "history" in d else NOT_COLLECTED
    boot = o["last_boot_up_time"]
    hotfixes = None
    if d["hotfixes"] is not None:
        hotfixes = tuple(
            Hotfix(
                id=x["id"],
                description=x.get("description"),
                installed_on=date.fromisoformat(x["installed_on"]) if x.get("installed_on") else None,
            )
            for x in d["hotfixes"]
        )
    return GuestFacts(
        guest=d["guest"],
        collected_at=parse_timestamp(d["collected_at"]),
        collector_version=d["collector_version"],
        os=OsFacts(
            caption=o["caption"],
            operating_system_sku=o["operating_system_sku"],
            edition_id=o["edition_id"],
            installation_type=o["installation_type"],
            current_build=o["current_build"],
            ubr=o["ubr"],
            display_version=o["display_version"],
            last_boot_up_time=parse_timestamp(boot) if boot is not None else None,
        ),
        security=SecurityFacts(
            s["secure_boot_enabled"],
            s["vbs_configured"],
            s["vbs_status"],
            s.get("vbs_policy"),
            s.get("hvci_enabled"),
            s.get("credential_guard"),
        ),
        hotpatch=HotpatchFacts(h["hotpatch_table_size"], h["enrollment_package_name"], h["enrollment_package_version"]),
        reboot_pending=RebootPendingFacts(
            r["component_based_servicing"],
            r["windows_update"],
            r["pending_file_rename"],
            r["computer_rename"],
            r.get("update_exe_volatile"),
            r.get("pending_file_rename_2"),
            r.get("domain_join"),
            r.get("hostname_change"),
        ),
        hotfixes=hotfixes,
        errors=tuple(ProbeError(e["probe"], e["message"]) for e in d["errors"]),
        history=history,
        schema_version=d["schema_version"],
    )


def _history(h: dict[str, Any]) -> HistoryFacts:
    start = h["log_start"]
    events = None
    if h["events"] is not None:
        events = tuple(
            SystemEvent(
                time=parse_timestamp(e["time"]),
                id=e["id"],
                source=e["source"],
                process=e.get("process"),
                reason_code=e.get("reason_code"),
                shutdown_type=e.get("shutdown_type"),
            )
            for e in h["events"]
        )
    return HistoryFacts(parse_timestamp(start) if start is not None else None, events)
