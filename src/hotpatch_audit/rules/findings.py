"""What a control's evaluation returns, and the three-valued conditions it is built from.

An evaluation returns a :class:`Finding` (compliant or not, with a one-line message naming the fact, its value
and what to do) or raises :class:`NotEvaluatedError` when the verdict depends on a fact that could not be read,
on an unknown build or on a stale catalog. A known failure wins over an unreadable fact, so a control is
``error`` only when the missing fact could change the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import GuestFacts

AZURE_EDITION_SKUS = {407: "Azure Edition", 408: "Azure Edition Core"}
HOTPATCH_BUILDS = {20348: "Windows Server 2022", 26100: "Windows Server 2025"}


@dataclass(frozen=True)
class Finding:
    """A control's verdict on one guest."""

    compliant: bool
    message: str


@dataclass(frozen=True)
class Condition:
    """One part of a verdict: holds (True), fails (False) or depends on a fact that could not be read (None)."""

    ok: bool | None
    message: str


def unread(facts: GuestFacts, key: str, label: str) -> Condition:
    """The condition on a fact that could not be read, naming the fact and why."""
    err = facts.unreadable(key)
    reason = err.message if err is not None else "no value"
    return Condition(None, f"{label} ({key}) could not be read: {reason}")


def combine(conditions: Sequence[Condition], passed: str) -> Finding:
    """Failed when any condition fails; error when none fails but one could not be judged; else `passed`."""
    failures = [c.message for c in conditions if c.ok is False]
    if failures:
        return Finding(False, "; ".join(failures))
    unknown = [c.message for c in conditions if c.ok is None]
    if unknown:
        raise NotEvaluatedError("; ".join(unknown))
    return Finding(True, passed)


def not_azure_edition(facts: GuestFacts) -> str | None:
    """Why an Azure-Edition-only control does not apply: the SKU is known and is not Azure Edition."""
    sku = facts.os.operating_system_sku
    if facts.unreadable("os.operating_system_sku") or sku in AZURE_EDITION_SKUS:
        return None
    shown = "not reported" if sku is None else str(sku)
    return f"not applicable: not an Azure Edition guest (OperatingSystemSKU {shown})"
