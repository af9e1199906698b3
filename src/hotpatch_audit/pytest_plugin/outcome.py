"""The audit outcome each pytest report carries, with waivers applied.

A waived failure or error becomes what pytest calls an expected failure: the report is ``skipped`` with
``wasxfail`` = the waiver's reason, so pytest counts it as xfailed, JUnit writes ``<skipped type="pytest.xfail">``
and pytest-html shows an expected failure. What was waived stays in the properties (``waiver.*``).

Everything set here is plain data on the report, so it travels from pytest-xdist workers to the controller
like any report. The report that decides a test's outcome carries the full properties; the teardown report
repeats them, because JUnit writes a test case's ``<properties>`` from its teardown report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from hotpatch_audit.inputs.waivers import WaiverBook
from hotpatch_audit.run.results import ControlMeta

WAIVER_FIELDS = ("entry", "justification", "approved_by", "expires", "ticket", "underlying_outcome")
_DECIDED = pytest.StashKey[list[tuple[str, str]]]()


def outcome_of(report: pytest.TestReport) -> str | None:
    """The audit outcome a report carries, or None for phases that do not decide the outcome."""
    if report.skipped and hasattr(report, "wasxfail") and report.when in ("setup", "call"):
        return "waived"
    if report.when == "setup":
        if report.failed:
            return "error"
        return "skipped" if report.skipped else None
    if report.when == "call":
        return "passed" if report.passed else "failed"
    return None


def result_properties(
    guest: str,
    meta: ControlMeta,
    outcome: str,
    message: str,
    waiver: Mapping[str, Any] | None,
) -> list[tuple[str, str]]:
    """The user properties of a deciding report: guest, control, outcome, message and the waiver applied."""
    props = [*_identity(guest, meta), ("outcome", outcome)]
    if message:
        props.append(("message", message))
    if waiver is not None:
        props.extend((f"waiver.{k}", str(waiver[k])) for k in WAIVER_FIELDS if waiver.get(k) is not None)
    return props


def _identity(guest: str, meta: ControlMeta) -> list[tuple[str, str]]:
    return [("guest", guest), ("control", meta.id), ("title", meta.title), ("severity", meta.severity)]


def waiver_of(props: Mapping[str, str]) -> dict[str, Any] | None:
    """The applied waiver recorded in a report's properties, as results.json stores it."""
    if "waiver.justification" not in props:
        return None
    waiver: dict[str, Any] = {k: props.get(f"waiver.{k}") for k in WAIVER_FIELDS}
    waiver["entry"] = int(waiver["entry"]) if waiver["entry"] is not None else None
    return waiver


def annotate(
    report: pytest.TestReport, item: pytest.Item, book: WaiverBook, guest: str, meta: ControlMeta, message: str
) -> str | None:
    """Apply the waiver covering the test and attach the properties; return the outcome the report decides."""
    outcome = outcome_of(report)
    if outcome is None:
        carried = item.stash.get(_DECIDED, None) if report.when == "teardown" else None
        if carried is not None:
            report.user_properties.extend(carried)
            return None
        report.user_properties.extend(_identity(guest, meta))
        if message:
            report.user_properties.append(("message", message))
        return None
    if outcome == "skipped" and not message and isinstance(report.longrepr, tuple):
        message = str(report.longrepr[2]).removeprefix("Skipped: ").strip()  # why it does not apply
    waiver = None
    if outcome in ("failed", "error"):
        match = book.find(guest, meta.id)
        if match.active is not None:
            report.outcome = "skipped"
            report.wasxfail = match.active.reason()
            waiver = {**match.active.as_json(), "underlying_outcome": outcome}
            outcome = "waived"
        elif match.expired is not None:
            message = f"{message} (waiver #{match.expired.entry} expired on {match.expired.expires})"
    props = result_properties(guest, meta, outcome, message, waiver)
    report.user_properties.extend(props)
    item.stash[_DECIDED] = props
    return outcome
