r"""Live collection: run the probe engine on a guest, decode its output into the facts file (schema_version 2).

The probes are data (``collect/probes.yml``); :func:`build_script` inserts them, as JSON, into the generic
PowerShell 5.1 engine ``collector.ps1``. The engine prints base64 of UTF-8 JSON holding one raw value per probe
plus the probes that could not be read; under Constrained Language Mode, where .NET calls are blocked, it prints
``json:`` and the same JSON with non-ASCII characters escaped. The raw values keep Windows PowerShell 5.1's
``ConvertTo-Json`` habits, which :func:`facts_from_output` normalises: ``\/Date(ms)\/`` dates, one-element
lists unwrapped to a scalar, empty lists turned into ``null``, numbers sent as strings (REG_SZ ``CurrentBuild``)
and ETS wrappers such as ``{"value": ..., "DisplayHint": ...}``. A value of an unexpected shape is ``null`` plus
an ``errors`` entry, so one odd value never hides the others.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml

from hotpatch_audit.collect.powershell import CommandOutput, PowerShellRunner
from hotpatch_audit.collect.transport import CollectionFailure, open_transport
from hotpatch_audit.facts import SCHEMA_VERSION
from hotpatch_audit.inputs.inventory import Guest

PROBES_PLACEHOLDER = "__HOTPATCH_AUDIT_PROBES__"
CONSTRAINED_PREFIX = "json:"
# The System log events the history keeps: (provider, id). 1074 data: process, computer, reason text, reason code,
# shutdown type, comment, user (the order of User32 1074's insertion strings; no Microsoft page lists it).
HISTORY_EVENTS = {
    ("Microsoft-Windows-Kernel-General", 12),
    ("Microsoft-Windows-Kernel-General", 13),
    ("EventLog", 6005),
    ("EventLog", 6006),
    ("EventLog", 6008),
    ("User32", 1074),
}
_DOTNET_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_DMTF = re.compile(r"^(\d{14})\.\d{6}([+-]\d{3})$")
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


class _BadValue(ValueError):
    """A raw value that does not have the shape its probe promises."""


@dataclass(frozen=True)
class Probe:
    """One entry of the probe list: the fact it fills, how it is read (by the engine) and normalised."""

    fact: str
    read: str
    as_: str


@cache
def probe_document() -> dict[str, Any]:
    """The bundled probe list as loaded from ``collect/probes.yml``."""
    text = resources.files("hotpatch_audit").joinpath("collect/probes.yml").read_text(encoding="utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def probes() -> tuple[Probe, ...]:
    """The bundled probes, in facts-file order."""
    return tuple(Probe(p["fact"], p["read"], p["as"]) for p in probe_document()["probes"])


@cache
def build_script() -> str:
    """The collector: the generic engine with the probe list inserted as compact JSON."""
    engine = resources.files("hotpatch_audit").joinpath("collect/collector.ps1").read_text(encoding="utf-8")
    payload = json.dumps(probe_document(), separators=(",", ":"), ensure_ascii=True)
    return engine.replace(PROBES_PLACEHOLDER, payload)


def collect(guest: Guest, *, deadline_sec: float | None = None) -> dict[str, Any]:
    """Collect the facts of `guest` over its own WinRM connection; raise CollectionError on any failure."""
    with open_transport(guest, deadline_sec=deadline_sec) as transport:
        return collect_with(transport, guest.name, deadline_sec=deadline_sec)


def collect_with(transport: PowerShellRunner, guest_name: str, *, deadline_sec: float | None = None) -> dict[str, Any]:
    """Collect the facts through an already open transport (the live path keeps one per guest)."""
    output = transport.run_powershell(build_script(), deadline_sec=deadline_sec)
    return facts_from_output(guest_name, output, datetime.now(UTC))


def facts_from_output(guest_name: str, output: CommandOutput, collected_at: datetime) -> dict[str, Any]:
    """The facts document for what the collector printed; raise CollectionFailure when it is unusable."""
    if output.rc != 0:
        detail = output.error_text() or "no error output"
        raise CollectionFailure(f"{guest_name}: collector exited with code {output.rc}: {_clip(detail)}", cause="exit")
    raw = _decode(guest_name, output.stdout)
    errors: list[dict[str, str]] = [_error_entry(guest_name, e) for e in _as_list(raw.get("errors"))]
    values = raw["values"]
    facts: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "guest": guest_name,
        "collected_at": _iso(collected_at),
        "collector_version": str(raw.get("collector_version") or "unknown"),
    }
    failed = {e["probe"] for e in errors}
    for probe in probes():
        section, _, key = probe.fact.rpartition(".")
        target = facts.setdefault(section, {}) if section else facts
        value: Any = None
        if probe.fact not in values:
            errors.append({"probe": probe.fact, "message": "missing from the collector output"})
        elif probe.fact not in failed:
            try:
                value = _NORMALISE[probe.as_](values[probe.fact], errors)
            except _BadValue as err:
                errors.append({"probe": probe.fact, "message": str(err)})
        target[key] = value
    facts["errors"] = errors
    return facts


def _decode(guest_name: str, stdout: bytes) -> dict[str, Any]:
    text = stdout.decode("utf-8", errors="replace").strip()
    try:
        ascii_text = stdout.decode("ascii").strip()
    except UnicodeDecodeError as err:
        reason = f"byte 0x{err.object[err.start]:02x} at offset {err.start} is not ASCII"
        raise _malformed(guest_name, reason, text) from err
    if not ascii_text:
        raise _malformed(guest_name, "the output is empty", "")
    try:
        if ascii_text.startswith(CONSTRAINED_PREFIX):
            data = json.loads(ascii_text.removeprefix(CONSTRAINED_PREFIX))
        else:
            data = json.loads(base64.b64decode(ascii_text, validate=True).decode("utf-8"))
    except ValueError as err:  # binascii.Error, UnicodeDecodeError and JSONDecodeError are all ValueErrors
        raise _malformed(guest_name, _first_line(err), text) from err
    except RecursionError as err:
        raise _malformed(guest_name, "the JSON document is nested too deeply", text) from err
    if not isinstance(data, dict) or not isinstance(data.get("values"), dict):
        raise _malformed(guest_name, "the JSON document has no 'values' object", text)
    return data


def _malformed(guest_name: str, reason: str, text: str) -> CollectionFailure:
    start = f"; output starts {text[:40]!r}" if text else ""
    return CollectionFailure(
        f"{guest_name}: collector output is not valid base64 JSON: {reason}{start}", cause="malformed-output"
    )


def _error_entry(guest_name: str, item: Any) -> dict[str, str]:
    if not isinstance(item, dict) or not isinstance(item.get("probe"), str):
        raise _malformed(guest_name, f"an errors entry is not {{probe, message}}: {_clip(repr(item))}", "")
    return {"probe": item["probe"], "message": _clip(" ".join(str(item.get("message") or "").split()))}


def _as_list(value: Any) -> list[Any]:
    """PowerShell 5.1 sends an empty list as null and a one-element list as its element."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _unwrap(value: Any) -> Any:
    """An ETS-wrapped object ({"value": x, "DisplayHint": ...}) stands for x."""
    if isinstance(value, dict):
        for key in value:
            if key.lower() == "value":
                return value[key]
    return value


def _as_string(value: Any, _errors: list[dict[str, str]]) -> str | None:
    value = _unwrap(value)
    if value is None or isinstance(value, str):
        return value.strip() if isinstance(value, str) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _BadValue(f"expected text, found {_clip(repr(value))}")


def _as_int(value: Any, _errors: list[dict[str, str]]) -> int | None:
    value = _unwrap(value)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise _BadValue(f"expected a number, found {_clip(repr(value))}")


def _as_bool(value: Any, _errors: list[dict[str, str]]) -> bool | None:
    value = _unwrap(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return value.strip().lower() in ("1", "true")
    raise _BadValue(f"expected a flag, found {_clip(repr(value))}")


def _as_nonempty(value: Any, _errors: list[dict[str, str]]) -> bool:
    return any(isinstance(item, str) and item.strip() for item in _as_list(_unwrap(value)))


def _as_datetime(value: Any, _errors: list[dict[str, str]]) -> str | None:
    value = _unwrap(value)
    if value is None:
        return None
    when = _parse_datetime(value) if isinstance(value, str) else None
    if when is None:
        raise _BadValue(f"expected a date and time, found {_clip(repr(value))}")
    return _iso(when)


def _parse_datetime(text: str) -> datetime | None:
    r"""A CIM datetime as PowerShell prints it: \/Date(ms)\/ (ConvertTo-Json), DMTF (WMI) or ISO 8601."""
    text = text.strip()
    if match := _DOTNET_DATE.match(text):
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)  # the offset is display-only
    if match := _DMTF.match(text):
        local = datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        return local - timedelta(minutes=int(match.group(2)))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _as_hotfixes(value: Any, errors: list[dict[str, str]]) -> list[dict[str, Any]]:
    hotfixes = []
    for item in _as_list(value):
        if not isinstance(item, dict) or not isinstance(item.get("HotFixID"), str):
            raise _BadValue(f"expected hotfix objects with a HotFixID, found {_clip(repr(item))}")
        installed = item.get("InstalledOn")
        day = _parse_installed_on(_unwrap(installed))
        if day is None and installed not in (None, ""):
            message = f"{item['HotFixID']}: InstalledOn {_clip(repr(installed))} is not a date"
            errors.append({"probe": "hotfixes", "message": message})
        description = item.get("Description")
        hotfixes.append(
            {
                "id": item["HotFixID"].strip(),
                "description": description.strip() if isinstance(description, str) else None,
                "installed_on": day.isoformat() if day else None,
            }
        )
    return hotfixes


def _as_events(value: Any, _errors: list[dict[str, str]]) -> list[dict[str, Any]]:
    events = []
    for item in _as_list(value):
        if not isinstance(item, dict):
            raise _BadValue(f"expected event objects, found {_clip(repr(item))}")
        source, event_id = item.get("ProviderName"), _as_int(item.get("Id"), _errors)
        if (source, event_id) not in HISTORY_EVENTS:
            continue
        when = _parse_datetime(str(_unwrap(item.get("TimeCreated")) or ""))
        if when is None:
            raise _BadValue(f"event {event_id} of {source} has no readable TimeCreated: {_clip(repr(item))}")
        event: dict[str, Any] = {"time": _iso(when), "id": event_id, "source": source}
        if event_id == 1074:
            data = [str(d).strip() if d is not None else None for d in _as_list(item.get("Data"))]
            data += [None] * (5 - len(data))
            event.update(process=data[0] or None, reason_code=data[3] or None, shutdown_type=data[4] or None)
        events.append(event)
    return sorted(events, key=lambda e: (e["time"], e["id"]))


def _parse_installed_on(value: Any) -> date | None:
    """Win32_QuickFixEngineering.InstalledOn is a string: M/D/YYYY, YYYYMMDD, or a hex FILETIME on old systems."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if match := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):
        month, day, year = (int(g) for g in match.groups())
        return _date(year, month, day)
    if match := re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", text):
        return _date(*(int(g) for g in match.groups()))
    if re.fullmatch(r"[0-9A-Fa-f]{15,16}", text):
        return (_FILETIME_EPOCH + timedelta(microseconds=int(text, 16) // 10)).date()
    when = _parse_datetime(text)
    return when.date() if when else None


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


_NORMALISE = {
    "string": _as_string,
    "int": _as_int,
    "bool": _as_bool,
    "nonempty": _as_nonempty,
    "datetime": _as_datetime,
    "hotfixes": _as_hotfixes,
    "events": _as_events,
}


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _first_line(err: BaseException) -> str:
    return _clip(" ".join(str(err).split()))


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
