"""The audit's vocabulary, typed: outcome, severity, guest status, one result, and the exit code they give.

Every stage reads these types: the pytest plugin decides a :class:`Result` once per test, and results.json,
JUnit properties, the HTML report, re-rendering and merging all read that same record; nothing parses an outcome
back out of strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# Exit codes of an audit run; pytest keeps 2 (interrupted), 3 (internal error), 4 (usage), 5 (nothing collected).
EXIT_COMPLIANT = 0
EXIT_NON_COMPLIANT = 1
EXIT_NOT_EVALUATED = 6


class Outcome(StrEnum):
    """What one (guest, control) test came to (fixed words)."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    WAIVED = "waived"


class Severity(StrEnum):
    """How much a failed control matters."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class GuestStatus(StrEnum):
    """A guest's verdict over all its results."""

    COMPLIANT = "compliant"
    NON_COMPLIANT = "non-compliant"
    NOT_EVALUATED = "not evaluated"


WAIVER_FIELDS = ("entry", "justification", "approved_by", "expires", "ticket", "underlying_outcome")


@dataclass(frozen=True)
class Result:
    """One test: one guest, one control, one outcome with its one-line message (and the waiver applied)."""

    guest: str
    control: str
    title: str
    severity: Severity
    outcome: Outcome
    message: str
    waiver: Mapping[str, Any] | None = None
    test: str = ""

    @property
    def underlying(self) -> Outcome:
        """The outcome before a waiver: what the control itself found."""
        if self.waiver is None:
            return self.outcome
        return Outcome(self.waiver["underlying_outcome"])

    def as_json(self) -> dict[str, Any]:
        """Plain data, as results.json stores it."""
        return {
            "guest": self.guest,
            "control": self.control,
            "title": self.title,
            "severity": str(self.severity),
            "outcome": str(self.outcome),
            "message": self.message,
            "waiver": dict(self.waiver) if self.waiver is not None else None,
            "test": self.test,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Result:
        """The inverse of :meth:`as_json`."""
        return cls(
            guest=data["guest"],
            control=data["control"],
            title=data["title"],
            severity=Severity(data["severity"]),
            outcome=Outcome(data["outcome"]),
            message=data["message"],
            waiver=data.get("waiver"),
            test=data.get("test", ""),
        )

    def properties(self) -> list[tuple[str, str]]:
        """The JUnit ``<properties>`` of the test: guest, control, title, severity, outcome, message, waiver."""
        props = [
            ("guest", self.guest),
            ("control", self.control),
            ("title", self.title),
            ("severity", str(self.severity)),
            ("outcome", str(self.outcome)),
        ]
        if self.message:
            props.append(("message", self.message))
        if self.waiver is not None:
            props.extend((f"waiver.{k}", str(self.waiver[k])) for k in WAIVER_FIELDS if self.waiver.get(k) is not None)
        return props


def guest_status(outcomes: Iterable[Outcome]) -> GuestStatus:
    """A failure makes a guest non-compliant; else an error, or nothing proven at all, leaves it not evaluated.

    Compliant needs at least one ``passed``: a guest whose every control was skipped, disabled or waived has
    proven nothing.
    """
    seen = set(outcomes)
    if Outcome.FAILED in seen:
        return GuestStatus.NON_COMPLIANT
    if Outcome.ERROR in seen or Outcome.PASSED not in seen:
        return GuestStatus.NOT_EVALUATED
    return GuestStatus.COMPLIANT


def exit_code(statuses: Iterable[GuestStatus]) -> int:
    """1 when any guest is non-compliant, else 6 when any is not evaluated (or there is none), else 0."""
    seen = set(statuses)
    if GuestStatus.NON_COMPLIANT in seen:
        return EXIT_NON_COMPLIANT
    if GuestStatus.NOT_EVALUATED in seen or not seen:
        return EXIT_NOT_EVALUATED
    return EXIT_COMPLIANT


@dataclass(frozen=True)
class Selection:
    """What a run set out to evaluate: every selected guest with each control of its control set.

    ``control_set`` is ``all`` or ``readiness`` (``-m readiness``, a declared set); ``filters`` names anything
    else that narrowed the run (``-k``, another ``-m``, check files or node ids given), which no declared set
    explains and which therefore leaves the run incomplete when it dropped an expected result.
    """

    guests: tuple[str, ...]
    controls: tuple[str, ...]
    control_set: str = "all"
    filters: tuple[str, ...] = ()

    def missing(self, results: Iterable[Result]) -> list[tuple[str, str]]:
        """The expected (guest, control) pairs that have no result, in guest then control order."""
        done = {(r.guest, r.control) for r in results}
        return [(g, c) for g in self.guests for c in self.controls if (g, c) not in done]

    def as_json(self, missing: int) -> dict[str, Any]:
        """Plain data for results.json ``run.selection``."""
        return {
            "control_set": self.control_set,
            "controls": list(self.controls),
            "guests": len(self.guests),
            "filters": list(self.filters),
            "missing": missing,
        }
