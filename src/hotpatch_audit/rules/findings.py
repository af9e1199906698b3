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

# Every Azure-Edition-related product id of the Windows SDK (winnt.h PRODUCT_*), each handled on purpose:
# 407/408 are the hotpatch-capable Azure Edition guests; 409 (PRODUCT_DATACENTER_WS_SERVER_CORE_AZURE_EDITION)
# is an Azure Edition id that no Microsoft page names as a hotpatch image (which OS reports it is unconfirmed),
# so it is judged like the others but HP-01 cannot pass it; 406 is the Azure Stack HCI / Azure Local host OS,
# never a guest to audit.
AZURE_EDITION_SKUS = {407: "Azure Edition", 408: "Azure Edition Core"}
UNCONFIRMED_AZURE_EDITION_SKUS = {409: "PRODUCT_DATACENTER_WS_SERVER_CORE_AZURE_EDITION"}
HOST_OS_SKUS = {406: "PRODUCT_AZURESTACKHCI_SERVER_CORE, the Azure Stack HCI / Azure Local host OS"}
# EditionID of Azure Edition (ServerTurbine, ServerTurbineCor); third-party tools map 407/408 to these.
AZURE_EDITION_ID_PREFIX = "serverturbine"
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


def azure_edition_family(facts: GuestFacts) -> bool:
    """The guest says it is Azure Edition somewhere: its SKU, its EditionID or its caption."""
    sku, edition, caption = facts.os.operating_system_sku, facts.os.edition_id, facts.os.caption
    return (
        sku in AZURE_EDITION_SKUS
        or sku in UNCONFIRMED_AZURE_EDITION_SKUS
        or (edition or "").lower().startswith(AZURE_EDITION_ID_PREFIX)
        or "azure edition" in (caption or "").lower()
    )


def not_azure_edition(facts: GuestFacts) -> str | None:
    """Why an Azure-Edition-only control does not apply: the SKU is known and nothing says Azure Edition.

    A guest of the Azure Edition family with a SKU that is not 407/408 (409, or an id the SDK does not know yet)
    is judged, never skipped: HP-01 is ``error`` for it and the other controls show their real verdicts.
    """
    sku = facts.os.operating_system_sku
    if facts.unreadable("os.operating_system_sku") or azure_edition_family(facts):
        return None
    shown = "not reported" if sku is None else str(sku)
    host = f", {HOST_OS_SKUS[sku]}" if sku in HOST_OS_SKUS else ""
    return f"not applicable: not an Azure Edition guest (OperatingSystemSKU {shown}{host})"
