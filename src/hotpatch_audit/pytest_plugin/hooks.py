"""The pytest plugin: options, guest parametrization, fixtures, outcome mapping and evidence. Hooks only.

Outcome mapping: a failed assert is ``failed``; NotEvaluatedError raised while evaluating and FactsError
raised by the ``facts`` fixture are ``error`` (reported as a setup error so pytest, JUnit and the HTML report
all count an error); applicability and policy give ``skipped``.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hotpatch_audit.collect.pool import Progress
from hotpatch_audit.errors import HotpatchAuditError, InputFileError
from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.inputs.shard import Shard
from hotpatch_audit.inputs.waivers import WaiverBook, load_waivers
from hotpatch_audit.pytest_plugin.early import pytest_load_initial_conftests  # noqa: F401 - a hook of this plugin
from hotpatch_audit.pytest_plugin.outcome import annotate
from hotpatch_audit.pytest_plugin.recorder import Recorder, control_meta, one_line
from hotpatch_audit.rules.controls import is_not_azure_edition
from hotpatch_audit.rules.updates import UpdateContext
from hotpatch_audit.run.integrity import MANIFEST, write_manifest
from hotpatch_audit.run.results import ControlMeta
from hotpatch_audit.run.session import AuditOptions, AuditSession

SESSION = pytest.StashKey[AuditSession]()
RUN_DIR_KEY = "hotpatch_run_dir"
FACTS_ERRORS_KEY = "hotpatch_facts_errors"
WAIVER_DATE_KEY = "hotpatch_waiver_date"
CONTROLS_KEY = "hotpatch_controls"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the audit options."""
    group = parser.getgroup("hotpatch", "Hotpatch compliance audit")
    group.addoption("--inventory", type=Path, help="Ansible YAML inventory of the guests to audit")
    group.addoption("--limit", help="Ansible host pattern: names, groups, globs, a,b lists, !exclude, &intersect")
    group.addoption("--facts-dir", type=Path, help="replay: read DIR/<guest>.json instead of connecting")
    group.addoption("--report-dir", type=Path, default=Path("reports"), help="where run directories are created")
    group.addoption("--as-of", type=_date, help="evaluate as of YYYY-MM-DD (default: each guest's collected_at)")
    group.addoption("--catalog", action="append", type=Path, default=[], help="extra release catalog (repeatable)")
    group.addoption("--policy", type=Path, help="policy file: grace days, disabled controls, accepted builds")
    group.addoption("--workers", type=int, default=32, help="concurrent live collections (default 32)")
    group.addoption(
        "--deadline", type=float, default=120.0, help="seconds per guest for live collection, retries included"
    )
    group.addoption("--shard", type=_shard, help="audit only shard K of N (K/N), split stably by guest name")
    group.addoption("--waivers", type=Path, help="waiver file: approved, expiring exceptions (guests, control)")


def _shard(text: str) -> Shard:
    try:
        return Shard.parse(text)
    except ValueError as err:
        raise pytest.UsageError(str(err)) from None


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"--as-of: '{text}' is not a date YYYY-MM-DD"
        raise pytest.UsageError(msg) from None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Load and validate every input before any guest is contacted; point pytest-html and JUnit at the run dir."""
    config.addinivalue_line("markers", "control(id, title, severity, ...): the Hotpatch control a check verifies")
    config.addinivalue_line("markers", "readiness: part of the pre-maintenance readiness gate (-m readiness)")
    inventory = config.getoption("inventory")
    if inventory is None:
        return
    workers = config.getoption("workers")
    if workers < 1:
        msg = f"--workers must be at least 1, not {workers}"
        raise pytest.UsageError(msg)
    options = AuditOptions(
        inventory=inventory,
        limit=config.getoption("limit"),
        facts_dir=config.getoption("facts_dir"),
        report_dir=config.getoption("report_dir"),
        as_of=config.getoption("as_of"),
        catalogs=tuple(config.getoption("catalog")),
        policy=config.getoption("policy"),
        workers=workers,
        deadline_sec=config.getoption("deadline"),
        shard=config.getoption("shard"),
        collect_only=config.option.collectonly,
    )
    if options.facts_dir is not None and not options.facts_dir.is_dir():
        msg = f"--facts-dir {options.facts_dir}: not a directory"
        raise pytest.UsageError(msg)
    try:
        session = AuditSession.load(options)
        waivers = _waivers(config, session)
    except InputFileError as err:
        raise pytest.UsageError(str(err)) from None
    config.stash[SESSION] = session
    recorder = Recorder(session, waivers)
    config.pluginmanager.register(AuditHooks(config, session, recorder), "hotpatch-audit")
    if config.option.collectonly:
        return
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        # pytest-xdist worker: the controller collected the facts into its run directory.
        session.adopt(Path(workerinput[RUN_DIR_KEY]), workerinput[FACTS_ERRORS_KEY])
        return
    run_dir = session.create_run_dir()
    if getattr(config.option, "htmlpath", "missing") is None:
        config.option.htmlpath = str(run_dir / "report.html")
        config.option.self_contained_html = True
    if getattr(config.option, "xmlpath", "missing") is None:
        config.option.xmlpath = str(run_dir / "junit.xml")
    recorder.run_dir = run_dir
    if config.pluginmanager.hasplugin("html"):
        from hotpatch_audit.pytest_plugin.html import HtmlHooks

        config.pluginmanager.register(HtmlHooks(recorder.document, run_dir), "hotpatch-html")


def _waivers(config: pytest.Config, session: AuditSession) -> WaiverBook:
    """The waiver file resolved against the inventory, judged on --as-of or else the day the run started.

    pytest-xdist workers take the controller's day, so a run that spans midnight judges every waiver alike.
    """
    path = config.getoption("waivers")
    workerinput = getattr(config, "workerinput", {})
    started = date.fromisoformat(workerinput.get(WAIVER_DATE_KEY, session.started.date().isoformat()))
    as_of = session.options.as_of or started
    return WaiverBook.resolve(load_waivers(path) if path is not None else None, session.inventory, as_of)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse to run checks without an inventory."""
    if config.stash.get(SESSION, None) is None and any(i.get_closest_marker("control") for i in items):
        msg = "the compliance checks need --inventory PATH (and --facts-dir DIR to replay recorded facts)"
        raise pytest.UsageError(msg)


@pytest.fixture
def audit(request: pytest.FixtureRequest) -> AuditSession:
    """The current audit run: inventory, selection, catalog, policy and facts."""
    return request.config.stash[SESSION]


@pytest.fixture
def facts(audit: AuditSession, guest: str) -> GuestFacts:
    """The guest's facts; an ERROR on every control of a guest whose facts could not be obtained."""
    return audit.facts_for(guest)


@pytest.fixture
def winrm_host(audit: AuditSession, guest: str) -> Any:
    """The guest's testinfra Host for your own ``winrm_host.run(...)`` checks (live runs; one connection per guest)."""
    return audit.host(guest)


@pytest.fixture
def updates(audit: AuditSession, facts: GuestFacts) -> UpdateContext:
    """Release catalog, policy and as-of date for the update controls."""
    return audit.update_context(facts)


class AuditHooks:
    """The hooks of one audit run, registered only when --inventory is given."""

    def __init__(self, config: pytest.Config, session: AuditSession, recorder: Recorder) -> None:
        self.config = config
        self.session = session
        self.recorder = recorder
        self.html = config.pluginmanager.hasplugin("html")

    def pytest_sessionstart(self) -> None:
        """Obtain every selected guest's facts once, before any test runs (on the controller only)."""
        if self.config.option.collectonly or hasattr(self.config, "workerinput"):
            return
        if self.session.mode == "replay":
            self.session.acquire()
            return
        from hotpatch_audit.collect.collector import collect

        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        self.session.acquire(collect, _ProgressLine(reporter) if reporter is not None else None)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Hand the run directory and the collection errors to each pytest-xdist worker."""
        node.workerinput[RUN_DIR_KEY] = str(self.session.run_dir)
        node.workerinput[FACTS_ERRORS_KEY] = dict(self.session.facts_errors)
        node.workerinput[WAIVER_DATE_KEY] = self.recorder.waivers.as_of.isoformat()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any) -> None:
        """Take the control metadata a pytest-xdist worker saw."""
        for data in getattr(node, "workeroutput", {}).get(CONTROLS_KEY, {}).values():
            self.recorder.remember(ControlMeta.from_json(data))

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """One test per (guest, control): parametrize ``guest`` with the selected inventory names."""
        if "guest" in metafunc.fixturenames:
            names = [g.name for g in self.session.guests]
            metafunc.parametrize("guest", names, ids=names)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Skip controls the policy disables and controls that do not apply to this guest."""
        marker = item.get_closest_marker("control")
        if marker is None:
            return
        reason = self.session.policy.disabled_controls.get(marker.args[0])
        if reason is not None:
            pytest.skip(f"disabled by policy {self.session.policy.source}: {reason}")
        guest = _guest_of(item)
        if marker.kwargs.get("azure_edition_only") and guest in self.session.facts:
            why = is_not_azure_edition(self.session.facts[guest])
            if why is not None:
                pytest.skip(why)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        """Map exceptions to outcomes, keep messages to one line, attach guest, control and the facts read."""
        report: pytest.TestReport = yield
        marker = item.get_closest_marker("control")
        if marker is None:
            return report
        guest = _guest_of(item)
        meta = control_meta(marker, item)
        message = _classify(report, call)
        outcome = annotate(report, item, self.recorder.waivers, guest, meta, message)
        if outcome not in (None, "skipped") and guest in self.session.facts and meta.reads and self.html:
            from hotpatch_audit.pytest_plugin.html import facts_extra

            extra = facts_extra(self.session.facts[guest], meta.reads)
            report.extras = [*getattr(report, "extras", []), extra]  # type: ignore[attr-defined]
        self.recorder.remember(meta)
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput.setdefault(CONTROLS_KEY, {})[meta.id] = meta.as_json()
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record one result per test; runs on the controller, so it also works under xdist."""
        self.recorder.add(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write results.json; exit 1 when a control failed, 6 when none failed but some were not evaluated."""
        self.session.close()
        if self.recorder.run_dir is not None and not hasattr(self.config, "workerinput"):
            self.recorder.write()
            session.exitstatus = self.recorder.exit_status(session.exitstatus)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """List the waivers that need attention: expiring within 14 days, expired, or matching nothing."""
        if self.recorder.run_dir is None or hasattr(self.config, "workerinput"):
            return
        notes = self.recorder.waiver_notes()
        if notes:
            terminalreporter.section("waivers", yellow=True)
            for line in notes:
                terminalreporter.write_line(line)

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Seal the run directory with manifest.sha256, then end with the one-line compliance summary.

        Trylast: pytest-html writes report.html and JUnit writes junit.xml in pytest_sessionfinish, so every
        file has its final bytes when the manifest is computed.
        """
        if self.recorder.run_dir is None or hasattr(config, "workerinput"):
            return
        digest = write_manifest(self.recorder.run_dir)
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"integrity: {MANIFEST} sha256 {digest}")
            reporter.write_line(self.recorder.summary_line(config.option.htmlpath))


class _ProgressLine:
    """The live collection progress: rewritten in place on a terminal, one line every 5 s in a log."""

    def __init__(self, reporter: Any) -> None:
        self.reporter = reporter
        self.tty = reporter.isatty() if callable(getattr(reporter, "isatty", None)) else reporter.isatty
        self.last = 0.0

    def __call__(self, progress: Progress) -> None:
        finished = progress.done == progress.total
        if self.tty:
            self.reporter.rewrite(progress.line(), bold=finished)
            if finished:
                self.reporter.write_line("")
        elif finished or progress.elapsed - self.last >= 5:
            self.last = progress.elapsed
            self.reporter.write_line(progress.line())


def _classify(report: pytest.TestReport, call: pytest.CallInfo[None]) -> str:
    """Set the report's phase and text so the outcome is right, and return the one-line message.

    A failed assert is a failure. Anything else raised while evaluating (NotEvaluatedError, or a bug) means
    the control could not be evaluated: it becomes a setup error, so pytest, JUnit and pytest-html count an
    error rather than a failure.
    """
    excinfo = call.excinfo
    if excinfo is None or excinfo.errisinstance(pytest.skip.Exception):
        return ""
    exc = excinfo.value
    if isinstance(exc, AssertionError) and call.when == "call":
        return one_line(str(exc)) or "assertion failed"
    if isinstance(exc, HotpatchAuditError):
        message = one_line(str(exc))
    else:
        message = f"internal error while evaluating: {type(exc).__name__}: {one_line(str(exc))}"
    report.longrepr = f"{type(exc).__name__}: {exc}" if isinstance(exc, HotpatchAuditError) else report.longrepr
    if call.when == "call":
        report.when = "setup"
    return message


def _guest_of(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    return str(callspec.params["guest"]) if callspec is not None and "guest" in callspec.params else ""
