"""Helpers of the live self-tests: the test fleet, its password, and the facts a modeled guest must yield."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from hotpatch_audit.inputs.inventory import Guest
from hotpatch_audit.testing.simulator import DEMO_FLEET, Faults, Fleet, GuestState, load_fleet
from hotpatch_audit.testing.simulator.model import EVENT_SOURCES

# Distinctive, with every character a URL or a log line could mangle: it must never show up anywhere.
PASSWORD = "Zq7!sElF-tEsT@p4ss:w0rd/#?%s"
PASSWORD_ENV = "HOTPATCH_SELFTEST_PASSWORD"


def build_fleet() -> Fleet:
    """The demo fleet, faster, plus guests for the faults the demo leaves out; Basic over http allowed."""
    demo = load_fleet(DEMO_FLEET)
    base = demo.guest("hci-vm-01")
    guests = [
        dataclasses.replace(g, faults=dataclasses.replace(g.faults, latency_ms=min(g.faults.latency_ms, 50)))
        for g in demo.guests
    ]
    guests.append(dataclasses.replace(base, name="hci-vm-91", faults=Faults(operation_timeout=True)))
    device_guard = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\DeviceGuard"
    guests.append(dataclasses.replace(base, name="hci-vm-92", faults=Faults(access_denied=(device_guard,))))
    # The basic-transport tests talk plain http: opt in, as AllowUnencrypted on a real host.
    return Fleet(user=demo.user, password_env=PASSWORD_ENV, guests=tuple(guests), allow_unencrypted=True)


def guest_with(guest: Guest, **connection: Any) -> Guest:
    """`guest` with some connection settings replaced."""
    return dataclasses.replace(guest, connection=dataclasses.replace(guest.connection, **connection))


def expected_facts(state: GuestState) -> dict[str, Any]:
    """What collect() must return for a modeled guest (without collected_at), derived from the model alone."""
    reboot = state.reboot_pending
    return {
        "schema_version": 2,
        "guest": state.name,
        "collector_version": "2.0.0",
        "os": {
            "caption": state.caption,
            "operating_system_sku": state.sku,
            "edition_id": state.edition_id,
            "installation_type": state.installation_type,
            "current_build": int(state.build.split(".")[0]),
            "ubr": int(state.build.split(".")[1]),
            "display_version": state.display_version,
            "last_boot_up_time": state.last_boot.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "security": {
            "secure_boot_enabled": state.secure_boot,
            "vbs_configured": state.vbs_configured,
            "vbs_status": state.vbs_status,
            "vbs_policy": state.vbs_policy,
            "hvci_enabled": state.hvci_enabled,
            "credential_guard": state.credential_guard,
        },
        "hotpatch": {
            "hotpatch_table_size": state.hotpatch_table_size,
            "enrollment_package_name": state.enrollment_name,
            "enrollment_package_version": state.enrollment_version,
        },
        "reboot_pending": {
            "component_based_servicing": reboot.component_based_servicing,
            "windows_update": reboot.windows_update,
            "pending_file_rename": any(reboot.file_rename_operations),
            "computer_rename": reboot.new_computer_name is not None,
            "update_exe_volatile": True if reboot.update_exe_volatile else None,  # the value exists only when set
            "pending_file_rename_2": any(reboot.file_rename_operations_2),
            "domain_join": reboot.domain_join,
            "hostname_change": reboot.new_hostname is not None,
        },
        "history": {"log_start": _iso(state.system_log.start), "events": _events(state)},
        "hotfixes": [
            {"id": h.id, "description": h.description, "installed_on": h.installed_on and h.installed_on.isoformat()}
            for h in state.hotfixes
        ],
        "errors": [],
    }


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _events(state: GuestState) -> list[dict[str, Any]]:
    """The modeled System log events of the last 365 days, oldest first, as the facts file holds them."""
    since = (state.clock or datetime.now(UTC)) - timedelta(days=365)
    out = []
    for e in sorted(state.system_log.events, key=lambda e: (e.time, e.id)):
        if e.time < since:
            continue
        event: dict[str, Any] = {"time": _iso(e.time), "id": e.id, "source": EVENT_SOURCES[e.id]}
        if e.id == 1074:
            event.update(process=e.process, reason_code=e.reason_code, shutdown_type=e.shutdown_type)
        out.append(event)
    return out
