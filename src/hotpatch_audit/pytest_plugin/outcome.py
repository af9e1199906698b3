"""Where a test's outcome is decided, once, as a typed :class:`~hotpatch_audit.outcomes.Result`.

A failed assert while evaluating is ``failed``; anything else raised while evaluating (NotEvaluatedError, or a
suite bug) and a FactsError from the ``facts`` fixture is ``error``, reported as a setup error so pytest, JUnit
and pytest-html all count an error; a skip is ``skipped``. A waived failure or error becomes what pytest calls
an expected failure (``wasxfail`` = the waiver's reason), with the underlying outcome kept in the result.

The result travels on the report as plain data (so pytest-xdist carries it to the controller) and as JUnit
properties; the teardown report repeats the properties, because JUnit writes a test case's ``<properties>`` from
its teardown report. The recorder, the HTML rows and the re-rendered report all read :func:`result_of`.
"""

from __future__ import annotations

import re

import pytest

from hotpatch_audit.errors import HotpatchAuditError
from hotpatch_audit.inputs.waivers import WaiverBook, waiver_reason
from hotpatch_audit.outcomes import Outcome, Result
from hotpatch_audit.rules.registry import ControlSpec

ATTR = "hotpatch_result"
DECIDING_PHASES = ("setup", "call")
_DECIDED = pytest.StashKey[Result]()


def result_of(report: pytest.TestReport) -> Result | None:
    """The result a report carries (its deciding report, or the teardown that repeats it)."""
    data = getattr(report, ATTR, None)
    return Result.from_json(data) if data is not None else None


def attach(report: pytest.TestReport, result: Result) -> None:
    """Make `report` carry `result`: as data, as JUnit properties, and as pytest's own outcome for a waiver."""
    setattr(report, ATTR, result.as_json())
    report.user_properties.extend(result.properties())
    if result.outcome is Outcome.WAIVED and report.when in DECIDING_PHASES and result.waiver is not None:
        report.outcome = "skipped"
        report.wasxfail = waiver_reason(result.waiver)


def shed(report: pytest.TestReport) -> None:
    """Take the result back off `report` once every plugin has logged it (the recorder keeps it as a Result).

    pytest's terminal keeps every report until the run ends; at 90,000 tests the copies of the results they would
    carry come to over 100 MiB.
    """
    data = report.__dict__.pop(ATTR, None)
    if data is not None:
        report.user_properties = [p for p in report.user_properties if p not in Result.from_json(data).properties()]


def decide(
    report: pytest.TestReport,
    call: pytest.CallInfo[None],
    item: pytest.Item,
    spec: ControlSpec,
    guest: str,
    book: WaiverBook,
) -> Result | None:
    """Decide the test's result when this phase decides it, make the report say so, and return it."""
    message = _classify(report, call)
    outcome = _phase_outcome(report)
    if outcome is None:
        carried = item.stash.get(_DECIDED, None) if report.when == "teardown" else None
        if carried is not None:
            attach(report, carried)
        return None
    waiver = None
    if outcome in (Outcome.FAILED, Outcome.ERROR):
        match = book.find(guest, spec.id)
        if match.active is not None:
            waiver = {**match.active.as_json(), "underlying_outcome": str(outcome)}
            outcome = Outcome.WAIVED
        elif match.expired is not None:
            message = f"{message} (waiver #{match.expired.entry} expired on {match.expired.expires})"
    result = Result(guest, spec.id, spec.title, spec.severity, outcome, message, waiver, report.nodeid)
    attach(report, result)
    item.stash[_DECIDED] = result
    return result


_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """The first non-empty line, without terminal escapes or control characters a guest's text may carry."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return _CONTROL.sub("", line).replace("\t", " ")


def _phase_outcome(report: pytest.TestReport) -> Outcome | None:
    if report.when == "setup":
        if report.failed:
            return Outcome.ERROR
        return Outcome.SKIPPED if report.skipped else None
    if report.when == "call":
        return Outcome.PASSED if report.passed else Outcome.FAILED
    return None


def _classify(report: pytest.TestReport, call: pytest.CallInfo[None]) -> str:
    """The one-line message of the phase, setting the report's phase and text so the outcome is right."""
    excinfo = call.excinfo
    if excinfo is None:
        return ""
    if excinfo.errisinstance(pytest.skip.Exception):
        longrepr = report.longrepr
        reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(excinfo.value)
        return one_line(reason.removeprefix("Skipped: "))
    exc = excinfo.value
    if isinstance(exc, AssertionError) and call.when == "call":
        message = one_line(str(exc)) or "assertion failed"
        report.longrepr = message
        return message
    if isinstance(exc, HotpatchAuditError):
        message = one_line(str(exc)) or type(exc).__name__
        report.longrepr = f"{type(exc).__name__}: {message}"
    else:
        # A suite bug: keep pytest's traceback for whoever fixes it.
        message = f"internal error while evaluating: {type(exc).__name__}: {one_line(str(exc))}"
    if call.when == "call":
        report.when = "setup"
    return message
