r"""A simulated guest's Windows state as registry keys and CIM instances, and the collector run against it.

:class:`WindowsView` turns a :class:`GuestState` into the HKLM keys and CIM classes the real guest would have.
:func:`run_collector` interprets the probe list carried by the collector script exactly as the PowerShell
engine does (same probe kinds, same "absent is null, unreadable is an errors entry" rule) and prints what
Windows PowerShell 5.1 would: base64 of UTF-8 JSON written the ``ConvertTo-Json -Compress`` way, with
``\/Date(ms)\/`` for CIM dates, one-element lists unwrapped, empty lists as null and a string ``CurrentBuild``.
A guest in Constrained Language Mode prints what the engine's fallback prints there: ``json:`` and the JSON with
every non-ASCII character escaped.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hotpatch_audit.testing.simulator.model import EVENT_SOURCES, GuestState

_PROBES = re.compile(r"ConvertFrom-Json @'\r?\n(.*?)\r?\n'@", re.DOTALL)
_CIMV2 = "root\\cimv2"
_CURRENT_VERSION = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
_CONTROL = "HKLM\\SYSTEM\\CurrentControlSet\\Control"
_CIM_DENIED = "Access denied "  # CimException's message for WBEM_E_ACCESS_DENIED (with its trailing space)
_REGISTRY_DENIED = "Requested registry access is not allowed."
_LOG_DENIED = "Attempted to perform an unauthorized operation."  # Get-WinEvent's UnauthorizedAccessException
_CIM_NOT_FOUND = "Not found "  # CimException's message for WBEM_E_NOT_FOUND from a broken provider
_TCPIP = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters"


class ReadFailure(Exception):
    """A read that Windows refuses (the probe gets an errors entry)."""


@dataclass(frozen=True)
class PsDate:
    r"""A .NET DateTime, which ConvertTo-Json writes as \/Date(ms since the epoch, UTC)\/."""

    when: datetime


class WindowsView:
    """The registry and CIM classes of one modeled guest (key paths and class names are case-insensitive)."""

    def __init__(self, state: GuestState) -> None:
        self.state = state
        self.registry: dict[str, dict[str, Any]] = {}
        self.cim: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._denied = {item.lower() for item in state.faults.access_denied}
        self._not_found = {item.lower() for item in state.faults.provider_not_found}
        self._build()

    def _key(self, path: str, **values: Any) -> None:
        parts = path.split("\\")
        for depth in range(1, len(parts) + 1):  # a key's parents exist too
            self.registry.setdefault("\\".join(parts[:depth]).lower(), {})
        self.registry[path.lower()].update({k.lower(): v for k, v in values.items() if v is not None})

    def _build(self) -> None:
        s, reboot = self.state, self.state.reboot_pending
        self._key(
            _CURRENT_VERSION,
            EditionID=s.edition_id,
            InstallationType=s.installation_type,
            CurrentBuild=s.current_build,
            CurrentBuildNumber=s.current_build,
            UBR=s.ubr,
            DisplayVersion=s.display_version,
        )
        self._key(f"{_CONTROL}\\DeviceGuard", EnableVirtualizationBasedSecurity=s.vbs_configured)
        if s.hvci_enabled is not None:
            hvci = f"{_CONTROL}\\DeviceGuard\\Scenarios\\HypervisorEnforcedCodeIntegrity"
            self._key(hvci, Enabled=s.hvci_enabled)
        self._key(
            "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\DeviceGuard", EnableVirtualizationBasedSecurity=s.vbs_policy
        )
        self._key(f"{_CONTROL}\\Lsa", LsaCfgFlags=s.credential_guard)
        if s.secure_boot is not None:
            self._key(f"{_CONTROL}\\SecureBoot\\State", UEFISecureBootEnabled=int(s.secure_boot))
        self._key(f"{_CONTROL}\\Session Manager\\Memory Management", HotPatchTableSize=s.hotpatch_table_size)
        if s.enrollment_name is not None or s.enrollment_version is not None:
            enrollment = f"{_CURRENT_VERSION}\\Update\\TargetingInfo\\DynamicInstalled\\Hotpatch.amd64"
            self._key(enrollment, Name=s.enrollment_name, Version=s.enrollment_version)
        servicing = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion"
        self._key(f"{servicing}\\Component Based Servicing")
        self._key(f"{servicing}\\WindowsUpdate\\Auto Update")
        if reboot.component_based_servicing:
            self._key(f"{servicing}\\Component Based Servicing\\RebootPending")
        if reboot.windows_update:
            self._key(f"{servicing}\\WindowsUpdate\\Auto Update\\RebootRequired")
        self._key(
            f"{_CONTROL}\\Session Manager",
            PendingFileRenameOperations=list(reboot.file_rename_operations) or None,
            PendingFileRenameOperations2=list(reboot.file_rename_operations_2) or None,
        )
        self._key("HKLM\\SOFTWARE\\Microsoft\\Updates", UpdateExeVolatile=1 if reboot.update_exe_volatile else None)
        self._key("HKLM\\SYSTEM\\CurrentControlSet\\Services\\Netlogon", JoinDomain=1 if reboot.domain_join else None)
        hostname = s.computer_name.lower()
        self._key(_TCPIP, Hostname=hostname, **{"NV Hostname": (reboot.new_hostname or hostname)})
        self._key(f"{_CONTROL}\\ComputerName\\ActiveComputerName", ComputerName=s.computer_name)
        self._key(f"{_CONTROL}\\ComputerName\\ComputerName", ComputerName=reboot.new_computer_name or s.computer_name)
        os_row = {
            "Caption": s.caption,
            "OperatingSystemSKU": s.sku,
            "BuildNumber": s.current_build,
            "LastBootUpTime": PsDate(s.last_boot),
        }
        self.cim[(_CIMV2, "win32_operatingsystem")] = [os_row]
        if s.vbs_status is not None:
            guard = ("root\\microsoft\\windows\\deviceguard", "win32_deviceguard")
            self.cim[guard] = [{"VirtualizationBasedSecurityStatus": s.vbs_status}]
        self.cim[(_CIMV2, "win32_quickfixengineering")] = [
            {
                "HotFixID": h.id,
                "Description": h.description,
                # InstalledOn is a string property of the class, written M/D/YYYY.
                "InstalledOn": f"{h.installed_on.month}/{h.installed_on.day}/{h.installed_on.year}"
                if h.installed_on
                else "",
            }
            for h in s.hotfixes
        ]

    def open_key(self, path: str) -> dict[str, Any] | None:
        """The values of an HKLM key, None when it does not exist; ReadFailure when access is denied."""
        if path.lower() in self._denied:
            raise ReadFailure(_REGISTRY_DENIED)
        return self.registry.get(path.lower())

    def value(self, path: str, name: str) -> Any:
        """A registry value; a REG_MULTI_SZ comes back as a list."""
        key = self.open_key(path)
        return None if key is None else key.get(name.lower())

    def check_log(self, log: str) -> None:
        """ReadFailure when reading the event log `log` is denied (its name listed in ``access_denied``)."""
        if log.lower() in self._denied:
            raise ReadFailure(_LOG_DENIED)

    def rows(self, namespace: str, cim_class: str) -> list[dict[str, Any]]:
        """The instances of a CIM class; none when the class or namespace does not exist."""
        if cim_class.lower() in self._denied:
            raise ReadFailure(_CIM_DENIED)
        if cim_class.lower() in self._not_found:
            raise ReadFailure(_CIM_NOT_FOUND)
        return self.cim.get((namespace.lower(), cim_class.lower()), [])


def _unroll(value: Any) -> Any:
    """What PowerShell's pipeline makes of a function's list output: nothing is null, one item is the item."""
    if isinstance(value, list):
        if not value:
            return None
        return value[0] if len(value) == 1 else value
    return value


def _differ(view: WindowsView, p: dict[str, Any]) -> bool:
    return bool(view.value(p["key"], p["name"]) != view.value(p["other_key"], p.get("other_name") or p["name"]))


def _any_value(view: WindowsView, p: dict[str, Any]) -> bool:
    return any(view.value(p["key"], name) is not None for name in p["names"])


def _events(view: WindowsView, p: dict[str, Any]) -> Any:
    """Get-WinEvent's rows for the probe's providers and ids over its last `days` days, newest first."""
    view.check_log(p["log"])
    log = view.state.system_log
    since = (view.state.clock or datetime.now(UTC)) - timedelta(days=int(p["days"]))
    rows = [
        {
            "TimeCreated": PsDate(e.time),
            "Id": e.id,
            "ProviderName": EVENT_SOURCES[e.id],
            # User32 1074's insertion strings: process, computer, reason text, reason code, type, comment, user.
            "Data": [e.process, view.state.computer_name, "", e.reason_code, e.shutdown_type, "", "SYSTEM"]
            if e.id == 1074
            else [],
        }
        for e in sorted(log.events, key=lambda e: e.time, reverse=True)
        if e.id in p["ids"] and EVENT_SOURCES[e.id] in p["providers"] and e.time >= since
    ]
    return _unroll(rows)


def _first_property(view: WindowsView, p: dict[str, Any]) -> Any:
    rows = view.rows(p["namespace"], p["cim_class"])
    return rows[0].get(p["property"]) if rows else None


def _instances(view: WindowsView, p: dict[str, Any]) -> Any:
    rows = view.rows(p["namespace"], p["cim_class"])
    return _unroll([{name: row.get(name) for name in p["properties"]} for row in rows])


def _oldest(view: WindowsView, p: dict[str, Any]) -> PsDate:
    view.check_log(p["log"])
    return PsDate(view.state.system_log.start)


_READERS: dict[str, Callable[[WindowsView, dict[str, Any]], Any]] = {
    "registry_value": lambda view, p: _unroll(view.value(p["key"], p["name"])),
    "registry_key_exists": lambda view, p: view.open_key(p["key"]) is not None,
    "registry_values_differ": _differ,
    "cim_property": _first_property,
    "cim_instances": _instances,
    "registry_any_value": _any_value,
    "event_log": _events,
    "event_log_oldest": _oldest,
}


def probe_list(script: str) -> dict[str, Any] | None:
    """The probe document a collector script carries, or None when `script` is not the collector."""
    match = _PROBES.search(script)
    if match is None:
        return None
    doc = json.loads(match.group(1))
    return doc if isinstance(doc, dict) else None


def run_collector(view: WindowsView, spec: dict[str, Any]) -> str:
    """What the collector engine prints on this guest (one base64 line, without the newline)."""
    values: dict[str, Any] = {}
    errors = []
    for probe in spec.get("probes", []):
        values[probe["fact"]] = None
        reader = _READERS.get(probe.get("read", ""))
        if reader is None:
            errors.append({"probe": probe["fact"], "message": f"unknown probe kind '{probe.get('read')}'"})
            continue
        try:
            values[probe["fact"]] = reader(view, probe)
        except ReadFailure as err:
            errors.append({"probe": probe["fact"], "message": str(err)})
    document = {"collector_version": spec.get("collector_version"), "values": values, "errors": errors}
    if view.state.language_mode == "ConstrainedLanguage":
        return "json:" + _ascii_escaped(ps_json(document))
    return base64.b64encode(ps_json(document).encode("utf-8")).decode("ascii")


def _ascii_escaped(text: str) -> str:
    r"""Every character above 0x7E as \uXXXX of its UTF-16 code units, as the engine's fallback writes it."""
    out = []
    for char in text:
        if ord(char) <= 0x7E:
            out.append(char)
            continue
        units = char.encode("utf-16-le")
        out.extend(f"\\u{int.from_bytes(units[i : i + 2], 'little'):04x}" for i in range(0, len(units), 2))
    return "".join(out)


def ps_json(value: Any) -> str:
    """``ConvertTo-Json -Compress`` of Windows PowerShell 5.1 for the value types the collector produces."""
    if isinstance(value, PsDate):
        return f'"\\/Date({round(value.when.timestamp() * 1000)})\\/"'
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{ps_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(ps_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
