"""Collect the run's results from the decided reports; write the evidence (results.json, junit.xml, report)."""

from __future__ import annotations

import getpass
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hotpatch_audit import __version__
from hotpatch_audit.calendar import Month
from hotpatch_audit.inputs.preflight import plaintext_basic_allowed
from hotpatch_audit.inputs.waivers import WaiverBook, notes_for_people
from hotpatch_audit.outcomes import GuestStatus, Outcome, Result, Selection, Severity, exit_code
from hotpatch_audit.pytest_plugin.outcome import DECIDING_PHASES, result_of
from hotpatch_audit.report.page import group_results, write_report
from hotpatch_audit.rules.registry import ControlSpec, lookup
from hotpatch_audit.rules.restarts import restarts
from hotpatch_audit.run.junit import write_junit
from hotpatch_audit.run.results import GuestVerdict, RunInfo, results_document, verdicts, write_json
from hotpatch_audit.run.session import AuditSession

# What every run directory holds besides the facts, written together from the same results.
EVIDENCE = ("results.json", "junit.xml", "report.html")


class Recorder:
    """Collects one Result per test and writes the results file."""

    def __init__(self, session: AuditSession, waivers: WaiverBook | None = None) -> None:
        self.session = session
        self.waivers = waivers or WaiverBook(None, session.started.date())
        self.run_dir: Path | None = None
        self.results: dict[str, Result] = {}
        self.controls: dict[str, ControlSpec] = {}
        self.selection: Selection | None = None
        self.ended: str | None = None  # why the run ended early (interrupted, crashed), None when it ran through
        self.durations: dict[str, float] = {}  # seconds per test (node id), every phase, for junit.xml
        self.written = False
        self.signer: str | None = None  # the fingerprint of the key that will sign the manifest, if any
        self._document: dict[str, Any] | None = None

    def remember(self, spec: ControlSpec) -> None:
        """Keep the specification of a control the run evaluated, for the results file."""
        self.controls[spec.id] = spec

    def add(self, report: pytest.TestReport) -> None:
        """Record the report's result if the report decides its test."""
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        result = result_of(report)
        if result is not None and report.when in DECIDING_PHASES:
            self.results.setdefault(report.nodeid, result)

    def ordered(self) -> list[Result]:
        """Every result by guest (inventory order), then control id, with each missing expected one as error."""
        order = {g.name: i for i, g in enumerate(self.session.guests)}
        results = [*self.results.values(), *self._unevaluated()]
        return sorted(results, key=lambda r: (order.get(r.guest, len(order)), r.guest, r.control))

    @property
    def complete(self) -> bool:
        """True when the run ended normally and every expected (guest, control) pair has a result."""
        return self.ended is None and self.selection is not None and not self._missing()

    def incomplete_reason(self) -> str | None:
        """Why the run is incomplete, or None."""
        if self.complete:
            return None
        if self.selection is None:
            return self.ended or "the run ended before its checks were collected"
        missing, total = len(self._missing()), len(self.selection.guests) * len(self.selection.controls)
        parts = [self.ended] if self.ended else []
        if missing:
            parts.append(f"{missing} of {total} expected results missing")
        if self.selection.filters:
            parts.append(f"selection narrowed by {'; '.join(self.selection.filters)}")
        return ", ".join(parts)

    def _missing(self) -> list[tuple[str, str]]:
        if self.selection is None:
            return [(g.name, "") for g in self.session.guests]
        return self.selection.missing(self.results.values())

    def _unevaluated(self) -> list[Result]:
        """An ``error`` result for each expected pair the run did not evaluate, saying why."""
        if self.selection is None:
            return []
        why = self.ended or (
            f"this run did not run its check ({'; '.join(self.selection.filters)})"
            if self.selection.filters
            else "no result was recorded for its check"
        )
        out = []
        for guest, control in self.selection.missing(self.results.values()):
            spec = self.controls.get(control) or lookup(control)
            title, severity = (spec.title, spec.severity) if spec is not None else (control, Severity.MEDIUM)
            out.append(Result(guest, control, title, severity, Outcome.ERROR, f"not evaluated: {why}"))
        return out

    def _verdicts(self, ordered: list[Result]) -> list[GuestVerdict]:
        """Per-guest verdicts over `ordered`, with the facts file or the reason facts are missing."""
        s = self.session
        details = {
            g.name: GuestVerdict(
                g.name,
                GuestStatus.NOT_EVALUATED,
                s.facts_ref(g.name),
                s.facts_errors.get(g.name),
                s.as_of(s.facts[g.name]).isoformat() if g.name in s.facts else None,
                self._restarts(g.name),
            )
            for g in s.guests
        }
        return verdicts([g.name for g in s.guests], ordered, details)

    def _restarts(self, guest: str) -> dict[str, Any] | None:
        facts = self.session.facts.get(guest)
        if facts is None:
            return None
        counted = restarts(facts, self.session.update_context(facts))
        return counted.as_json() if counted is not None else None

    def document(self) -> dict[str, Any]:
        """The results.json content, built once when the run has finished (the report shows the same)."""
        if self._document is None:
            self._document = self._build_document()
        return self._document

    def _build_document(self) -> dict[str, Any]:
        s = self.session
        run = RunInfo(
            id=s.run_id,
            started=s.started,
            finished=datetime.now(UTC),
            as_of=s.options.as_of.isoformat() if s.options.as_of else None,
            suite_version=__version__,
            inventory_sha256=s.inventory_sha256,
            catalog_newest=s.catalog.newest_months(),
            catalog_sha256=s.catalog.sha256,
            catalog_sources=s.catalog.sources,
            catalog_provenance=tuple(p.as_json() for p in s.catalog.provenance),
            policy=s.policy.summary(),
            limit=s.options.limit,
            mode=s.mode,
            operator=_operator(),
            host=socket.gethostname(),
            inventory=str(s.options.inventory),
            complete=self.complete,
            incomplete_reason=self.incomplete_reason(),
            selection=self.selection.as_json(len(self._missing())) if self.selection is not None else {},
            shard=str(s.options.shard) if s.options.shard is not None else None,
            evidence=EVIDENCE,
            next_baseline=self._next_baselines(),
            signer=self.signer,
            plaintext_basic=tuple(
                g.name
                for g in s.guests
                if s.mode == "live"
                and g.connection.transport == "basic"
                and g.connection.scheme == "http"
                and plaintext_basic_allowed(g)
            ),
        )
        waived: dict[int, int] = {}
        for r in self.results.values():
            if r.waiver is not None and r.waiver.get("entry") is not None:
                waived[r.waiver["entry"]] = waived.get(r.waiver["entry"], 0) + 1
        waivers = self.waivers.summary([g.name for g in s.guests], waived)
        controls = {**{c: spec for c in self._expected() if (spec := lookup(c)) is not None}, **self.controls}
        ordered = self.ordered()
        return results_document(run, list(controls.values()), self._verdicts(ordered), ordered, waivers)

    def _next_baselines(self) -> dict[str, str]:
        """Per OS, the next baseline month (released or planned) after the run's as-of month: the next restart."""
        s = self.session
        month = Month.of(s.options.as_of or s.started.date())
        out = {}
        for os_build in sorted({r.os for r in s.catalog.releases}):
            baseline = s.catalog.next_baseline(os_build, month)
            if baseline is not None:
                out[str(os_build)] = str(baseline)
        return out

    def _expected(self) -> tuple[str, ...]:
        return self.selection.controls if self.selection is not None else ()

    def write(self) -> Path:
        """Write ``results.json``, ``junit.xml`` and ``report.html`` (all from the same results) into the run dir."""
        if self.run_dir is None:
            msg = "results.json is written into the run directory, which this run has not created"
            raise RuntimeError(msg)
        path = self.run_dir / "results.json"
        write_json(path, self.document())
        write_junit(self.run_dir / "junit.xml", self.ordered(), self.durations, self.session.started)
        write_report(self.run_dir, self.document(), self.run_dir / "report.html")
        self.written = True
        return path

    def exit_status(self, pytest_status: int) -> int:
        """The run's exit code: pytest's own when it did not finish normally, else from the guests' verdicts.

        Interrupted (2), internal error (3), usage error (4) and nothing collected (5) keep pytest's code. A
        failure pytest saw outside the controls (say a teardown error) keeps at least 1. An incomplete run is
        never 0: its missing results leave guests not evaluated (6).
        """
        if pytest_status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            return pytest_status
        code = exit_code(self._statuses())
        return pytest_status if code == 0 else code

    def finding_lines(self) -> list[str]:
        """One line per non-passed, applicable result; a guest's errors with one cause as one line."""
        lines = []
        for group in group_results(self.document()["results"]):
            first = group[0]
            outcome, guest = first["outcome"], first["guest"]
            if outcome in ("passed", "skipped"):
                continue
            ids = ", ".join(r["control"] for r in group)
            what = first["control"] if len(group) == 1 else f"{len(group)} controls not evaluated ({ids}):"
            message = first["message"]
            if first.get("waiver"):
                w = first["waiver"]
                message = f"({w['underlying_outcome']}) {message} \u2014 waiver #{w.get('entry')} until {w['expires']}"
            lines.append(f"{outcome.upper():<7} {guest}  {what} {message}")
        return lines

    def _statuses(self) -> list[GuestStatus]:
        # From the finished document: the verdicts (and each guest's restart count) are worked out once.
        return [GuestStatus(g["status"]) for g in self.document()["guests"]]

    def waiver_notes(self) -> list[str]:
        """Waivers that need attention: expiring soon, expired, or matching nothing."""
        return notes_for_people(self.document()["waivers"])

    def summary_line(self) -> str:
        """``compliance: N guests, C compliant, F non-compliant, E not evaluated — <report>``."""
        statuses = self._statuses()
        where = self.run_dir / "report.html" if self.run_dir is not None else "no run directory"
        incomplete = "" if self.complete else f"INCOMPLETE ({self.incomplete_reason()}): "
        return (
            f"compliance: {incomplete}{len(statuses)} guests, {statuses.count(GuestStatus.COMPLIANT)} compliant, "
            f"{statuses.count(GuestStatus.NON_COMPLIANT)} non-compliant, "
            f"{statuses.count(GuestStatus.NOT_EVALUATED)} not evaluated \u2014 {where}"
        )


def _operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no USER/LOGNAME and no passwd entry, as in some containers
        return "unknown"
