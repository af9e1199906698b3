"""A simulated fleet of Windows Server Azure Edition guests, served as real WS-Management endpoints on loopback.

Each guest is modeled as Windows state (registry values, CIM classes, pending-restart markers, hotfixes) read
from a fleet YAML file, answers the audit's collector exactly as a real guest in that state would, and can
inject faults (closed port, refused credentials, latency, operation timeout, garbage or non-ASCII output, a
command line that is too long, denied reads). Run it alone with ``python -m hotpatch_audit simulate``, or in
process::

    with serve_fleet(DEMO_FLEET) as running:
        running.write_inventory(path)
"""

from hotpatch_audit.testing.simulator.model import (
    Faults,
    Fleet,
    FleetError,
    GuestState,
    Hotfix,
    PendingReboot,
    load_fleet,
)
from hotpatch_audit.testing.simulator.server import DEMO_FLEET, RunningFleet, serve_fleet

__all__ = [
    "DEMO_FLEET",
    "Faults",
    "Fleet",
    "FleetError",
    "GuestState",
    "Hotfix",
    "PendingReboot",
    "RunningFleet",
    "load_fleet",
    "serve_fleet",
]
