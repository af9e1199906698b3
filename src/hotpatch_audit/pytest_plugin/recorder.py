"""Turn pytest reports into results and write the run's evidence (results.json and the summary line)."""

from __future__ import annotations

import getpass
import inspect
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hotpatch_audit import __version__
from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.inputs.waivers import WaiverBook, notes_for_people
from hotpatch_audit.pytest_plugin.outcome import outcome_of, waiver_of
from hotpatch_audit.run.results import (
    ControlMeta,
    GuestVerdict,
    Result,
    RunInfo,
    exit_code,
    results_document,
    timestamp,
    verdicts,
    write_json,
)
from hotpatch_audit.run.session import AuditSession


def control_meta(marker: pytest.Mark, item: pytest.Item) -> ControlMeta:
    """The metadata a check declares: its ``control`` marker plus its docstring as rationale."""
    func = getattr(item, "function", None)
    doc = inspect.getdoc(func) if func is not None else None
    kw = marker.kwargs
    return ControlMeta(
        id=str(marker.args[0]),
        title=str(kw.get("title", "")),
        severity=str(kw.get("severity", "medium")),
        rationale=" ".join((doc or "").split()),
        refs=tuple(kw.get("refs", ())),
        reads=tuple(kw.get("reads", ())),
        readiness=bool(kw.get("readiness", False)),
    )


def fact_values(facts: GuestFacts, keys: tuple[str, ...]) -> dict[str, Any]:
    """The values of the named facts (``section.field``), with the probe error when a fact was unreadable."""
    out: dict[str, Any] = {}
    for key in keys:
        section, _, name = key.partition(".")
        value = getattr(getattr(facts, section, None), name, None) if name else getattr(facts, section, None)
        if isinstance(value, datetime):
            value = timestamp(value)
        elif isinstance(value, tuple):
            value = [str(v) for v in value]
        err = facts.unreadable(key)
        out[key] = {"value": value, "unreadable": err.message} if err is not None else value
    return out


def one_line(text: str) -> str:
    """The first non-empty line, for messages."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


class Recorder:
    """Collects one Result per test and writes the results file."""

    def __init__(self, session: AuditSession, waivers: WaiverBook | None = None) -> None:
        self.session = session
        self.waivers = waivers or WaiverBook(None, session.started.date())
        self.run_dir: Path | None = None
        self.results: dict[str, Result] = {}
        self.controls: dict[str, ControlMeta] = {}
        self._document: dict[str, Any] | None = None

    def remember(self, meta: ControlMeta) -> None:
        """Keep a control's full metadata (from the check itself) for the results file."""
        self.controls[meta.id] = meta

    def add(self, report: pytest.TestReport) -> None:
        """Record the report if it decides a test's outcome."""
        props = {k: str(v) for k, v in report.user_properties}
        if "control" not in props or report.nodeid in self.results:
            return
        outcome = outcome_of(report)
        if outcome is None:
            return
        self.controls.setdefault(
            props["control"], ControlMeta(props["control"], props.get("title", ""), props.get("severity", "medium"))
        )
        self.results[report.nodeid] = Result(
            guest=props["guest"],
            control=props["control"],
            title=props.get("title", ""),
            severity=props.get("severity", "medium"),
            outcome=outcome,
            message=props.get("message") or ("" if outcome == "passed" else _message(report)),
            waiver=waiver_of(props),
            test=report.nodeid,
        )

    def ordered(self) -> list[Result]:
        """Results by guest (inventory order), then control id."""
        order = {g.name: i for i, g in enumerate(self.session.guests)}
        return sorted(self.results.values(), key=lambda r: (order.get(r.guest, len(order)), r.guest, r.control))

    def verdicts(self) -> list[GuestVerdict]:
        """Per-guest verdicts, with the facts file or the reason facts are missing."""
        s = self.session
        details = {
            g.name: GuestVerdict(
                g.name,
                "",
                s.facts_ref(g.name),
                s.facts_errors.get(g.name),
                s.as_of(s.facts[g.name]).isoformat() if g.name in s.facts else None,
            )
            for g in s.guests
        }
        return verdicts([g.name for g in s.guests], self.ordered(), details)

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
        )
        waived: dict[int, int] = {}
        for r in self.results.values():
            if r.waiver is not None and r.waiver.get("entry") is not None:
                waived[r.waiver["entry"]] = waived.get(r.waiver["entry"], 0) + 1
        waivers = self.waivers.summary([g.name for g in s.guests], waived)
        return results_document(run, list(self.controls.values()), self.verdicts(), self.ordered(), waivers)

    def write(self) -> Path:
        """Write ``results.json`` into the run directory."""
        assert self.run_dir is not None  # noqa: S101 - write() is only called once the run dir exists
        path = self.run_dir / "results.json"
        write_json(path, self.document())
        return path

    def exit_status(self, pytest_status: int) -> int:
        """The run's exit code from the recorded outcomes, when pytest finished normally (0 or 1).

        Interrupted, internal and usage errors and an empty collection keep pytest's code. A failure pytest saw
        outside the controls (say a teardown error) keeps 1.
        """
        if pytest_status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not self.results:
            return pytest_status
        code = exit_code(r.outcome for r in self.results.values())
        return pytest_status if code == 0 else code

    def waiver_notes(self) -> list[str]:
        """Waivers that need attention: expiring soon, expired, or matching nothing."""
        return notes_for_people(self.document()["waivers"])

    def summary_line(self, report_path: str | None) -> str:
        """``compliance: N guests, C compliant, F non-compliant, E not evaluated — <report>``."""
        statuses = [v.status for v in self.verdicts()]
        where = report_path or str(self.run_dir)
        return (
            f"compliance: {len(statuses)} guests, {statuses.count('compliant')} compliant, "
            f"{statuses.count('non-compliant')} non-compliant, {statuses.count('not evaluated')} not evaluated"
            f" \u2014 {where}"
        )


def _operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no USER/LOGNAME and no passwd entry, as in some containers
        return "unknown"


def _message(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return one_line(str(longrepr[2]).removeprefix("Skipped: "))
    return one_line(report.longreprtext)
