"""What the catalog says about the hotpatch track month by month: which rows are hotpatches, which months had one.

Shared by HP-03 (a hotpatch installed proves enrollment) and HP-08 (a standard update taken in a hotpatch month
is an avoidable restart).
"""

from __future__ import annotations

from hotpatch_audit.calendar import Month
from hotpatch_audit.rules.catalog import Catalog, Release


def is_hotpatch(row: Release) -> bool:
    """A release only an enrolled guest receives: a hotpatch, or a hotpatch-track out-of-band release."""
    return row.track == "hotpatch" and row.type in ("hotpatch", "oob")


def is_standard(row: Release) -> bool:
    """A release of the standard track only (monthly cumulative or out-of-band): it restarts the guest."""
    return row.track == "standard"


def hotpatch_months(catalog: Catalog, os_build: int) -> list[Month]:
    """Months whose Patch Tuesday release on the hotpatch track was a hotpatch (not a baseline), oldest first."""
    return sorted({r.month for r in catalog.for_os(os_build) if r.type == "hotpatch"})
