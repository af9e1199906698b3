"""The pytest plugin: options, guest parametrization, applicability and the run's evidence. Hooks only.

Each (guest, control) test's outcome is decided in :mod:`hotpatch_audit.pytest_plugin.outcome`; the fixtures
checks use are in :mod:`hotpatch_audit.pytest_plugin.fixtures`.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hotpatch_audit.collect.pool import Progress
from hotpatch_audit.errors import InputFileError
from hotpatch_audit.inputs.shard import Shard
from hotpatch_audit.inputs.waivers import WaiverBook, load_waivers
from hotpatch_audit.outcomes import EXIT_NOT_EVALUATED, Selection
from hotpatch_audit.pytest_plugin.early import pytest_load_initial_conftests
from hotpatch_audit.pytest_plugin.fixtures import SESSION, audit, facts, updates, winrm_host
from hotpatch_audit.pytest_plugin.lean import LeanRunner
from hotpatch_audit.pytest_plugin.outcome import decide
from hotpatch_audit.pytest_plugin.recorder import Recorder
from hotpatch_audit.rules.findings import not_azure_edition
from hotpatch_audit.rules.registry import Applies, ControlSpec, lookup, specs
from hotpatch_audit.run.integrity import MANIFEST, write_manifest
from hotpatch_audit.run.session import AuditOptions, AuditSession
from hotpatch_audit.run.signing import key_fingerprint, key_option, sign_manifest

# The fixtures and the early hook this plugin provides by importing them.
__all__ = ["audit", "facts", "pytest_load_initial_conftests", "updates", "winrm_host"]

DEFAULT_REPORT_CHARS = "fE"  # pytest's default -r
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
    group.addoption(
        "--workers",
        type=int,
        help="concurrent live collections (default: one per guest up to 256; collection waits on the guests)",
    )
    group.addoption(
        "--deadline", type=float, default=120.0, help="seconds per guest for live collection, retries included"
    )
    group.addoption(
        "--shard",
        help="audit only shard K of N (K/N), split stably by guest name; auto: K and N from the job engine "
        "(Kubernetes Indexed Job, Azure Pipelines parallel job, GitLab parallel:)",
    )
    group.addoption("--shard-count", type=int, help="with --shard auto on a Kubernetes Indexed Job: N (completions)")
    group.addoption("--waivers", type=Path, help="waiver file: approved, expiring exceptions (guests, control)")
    group.addoption(
        "--sign-key", type=key_option, metavar="KEY", help="sign manifest.sha256 with this Ed25519 private key"
    )


def _shard(config: pytest.Config) -> Shard | None:
    try:
        return Shard.resolve(config.getoption("shard"), config.getoption("shard_count"), os.environ)
    except ValueError as err:
        raise pytest.UsageError(str(err)) from None


def pytest_report_header(config: pytest.Config) -> str | None:
    """Name the shard this run audits, and where ``--shard auto`` found it."""
    session = config.stash.get(SESSION, None)
    shard = None if session is None else session.options.shard
    return None if shard is None else f"hotpatch-audit shard: {shard.describe()}"


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"--as-of: '{text}' is not a date YYYY-MM-DD"
        raise pytest.UsageError(msg) from None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Load and validate every input before any guest is contacted, and create the run directory."""
    config.addinivalue_line("markers", "control(id): the control a check verifies (hotpatch_audit.checks.control)")
    config.addinivalue_line("markers", "readiness: part of the pre-maintenance readiness gate (-m readiness)")
    inventory = config.getoption("inventory")
    if inventory is None:
        return
    workers = config.getoption("workers")
    if workers is not None and workers < 1:
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
        shard=_shard(config),
        collect_only=_no_evidence(config),
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
    if config.option.tbstyle == "auto" and config.option.reportchars == DEFAULT_REPORT_CHARS:
        # Control outcomes are findings, not test failures: the compliance findings section lists each on one
        # line, so pytest's per-test failure sections and short summary would only repeat them.
        config.option.tbstyle = "no"
        config.option.reportchars = ""
    recorder = Recorder(session, waivers)
    config.pluginmanager.register(AuditHooks(config, session, recorder), "hotpatch-audit")
    if _no_evidence(config):
        return
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        # pytest-xdist worker: the controller collected the facts into its run directory.
        session.adopt(Path(workerinput[RUN_DIR_KEY]), workerinput[FACTS_ERRORS_KEY])
        return
    try:
        run_dir = session.create_run_dir()
    except OSError as err:
        msg = f"--report-dir {options.report_dir}: cannot create the run directory there: {err.strerror or err}"
        raise pytest.UsageError(msg) from None
    recorder.run_dir = run_dir
    sign_key = config.getoption("sign_key")
    recorder.signer = key_fingerprint(sign_key) if sign_key is not None else None


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


class AuditHooks:
    """The hooks of one audit run, registered only when --inventory is given."""

    def __init__(self, config: pytest.Config, session: AuditSession, recorder: Recorder) -> None:
        self.config = config
        self.session = session
        self.recorder = recorder
        self.lean = LeanRunner(config, session, self.pytest_runtest_setup)

    def pytest_sessionstart(self) -> None:
        """Obtain every selected guest's facts once, before any test runs (on the controller only)."""
        if _no_evidence(self.config) or hasattr(self.config, "workerinput"):
            return
        try:
            if self.session.mode == "replay":
                self.session.acquire()
                return
            from hotpatch_audit.collect.collector import collect

            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            self.session.acquire(collect, _ProgressLine(reporter) if reporter is not None else None)
        except KeyboardInterrupt:
            self.recorder.ended = "interrupted while collecting facts"
            raise
        except Exception as err:
            self.recorder.ended = f"crashed while collecting facts: {type(err).__name__}: {err}"
            raise

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
            self.recorder.remember(ControlSpec.from_json(data))

    def pytest_collection_modifyitems(self) -> None:
        """Refuse a policy or waiver that names a site control no collected check declares (a typo, or a lost check)."""
        named = {*self.session.policy.disabled_controls, *(w.control for w in self.recorder.waivers.waivers)}
        unknown = sorted(c for c in named if lookup(c) is None)
        if unknown:
            msg = (
                f"{', '.join(unknown)}: named by the policy or waiver file, but no check declares "
                "it (@control(...) in the checks of this run)"
            )
            raise pytest.UsageError(msg)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """One test per (guest, control): parametrize ``guest`` with the selected inventory names."""
        if "guest" in metafunc.fixturenames:
            names = [g.name for g in self.session.guests]
            metafunc.parametrize("guest", names, ids=names)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> bool | None:
        """Run a check that needs only the audit's fixtures the lean way (same reports, far less cost)."""
        if not self.lean.eligible(item):
            return None
        self.lean.run(item)
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Skip controls the policy disables and controls that do not apply to this guest."""
        spec = _spec_of(item)
        if spec is None:
            return
        reason = self.session.policy.disabled_controls.get(spec.id)
        if reason is not None:
            pytest.skip(f"disabled by policy {self.session.policy.source}: {reason}")
        guest = _guest_of(item)
        if spec.applies is Applies.AZURE_EDITION and guest in self.session.facts:
            why = not_azure_edition(self.session.facts[guest])
            if why is not None:
                pytest.skip(why)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        """Decide the test's result (outcome module) and keep the control's specification for the results file."""
        report: pytest.TestReport = yield
        spec = _spec_of(item)
        if spec is None:
            return report
        guest = _guest_of(item)
        decide(report, call, item, spec, guest, self.recorder.waivers)
        self.recorder.remember(spec)
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput.setdefault(CONTROLS_KEY, {})[spec.id] = spec.as_json()
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record one result per test; runs on the controller, so it also works under xdist."""
        self.recorder.add(report)

    @pytest.hookimpl(tryfirst=True, specname="pytest_sessionfinish")
    def pytest_sessionfinish_settle(self, session: pytest.Session, exitstatus: int) -> None:
        """Settle what the run set out to do and how it ended, before any report is written from it."""
        if self.recorder.run_dir is None or hasattr(self.config, "workerinput"):
            return
        self.recorder.selection = self._selection()
        if self.recorder.ended is None:
            self.recorder.ended = _how_it_ended(session, exitstatus)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write results.json; exit 1 when a guest failed, 6 when one was not evaluated or the run is incomplete."""
        self.session.close()
        if _no_evidence(self.config) and not hasattr(self.config, "workerinput"):
            if not self.config.option.collectonly:
                session.exitstatus = EXIT_NOT_EVALUATED  # fixtures ran, no control did: nothing was proven
            return
        if self.recorder.run_dir is not None and not hasattr(self.config, "workerinput"):
            self.recorder.write()
            session.exitstatus = self.recorder.exit_status(session.exitstatus)

    def _selection(self) -> Selection:
        """The guests and controls this run set out to evaluate, and what narrowed it."""
        option = self.config.option
        markexpr = (option.markexpr or "").strip()
        control_set = "readiness" if markexpr == "readiness" else "all"
        declared = {s.id: s for s in specs()} | self.recorder.controls
        controls = tuple(sorted(c for c, s in declared.items() if control_set == "all" or s.readiness))
        filters = []
        if option.keyword:
            filters.append(f"-k {option.keyword!r}")
        if markexpr and control_set == "all":
            filters.append(f"-m {markexpr!r}")
        if getattr(option, "deselect", None):
            filters.append(f"--deselect {' '.join(option.deselect)}")
        narrowed = [a for a in self.config.args if "::" in a or Path(a).is_file()]
        if narrowed:
            filters.append(f"checks given: {' '.join(narrowed)}")
        if option.maxfail:
            filters.append(f"--maxfail {option.maxfail}")
        return Selection(tuple(g.name for g in self.session.guests), controls, control_set, tuple(filters))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """One line per finding, then the waivers that need attention (expiring, expired, matching nothing)."""
        if self.recorder.run_dir is None or hasattr(self.config, "workerinput"):
            return
        findings = self.recorder.finding_lines()
        if findings:
            terminalreporter.section("compliance findings", bold=True)
            for line in findings:
                terminalreporter.write_line(line)
            if any("internal error while evaluating" in line for line in findings):
                terminalreporter.write_line("(a suite bug: rerun with --tb=long for its traceback, and report it)")
        notes = self.recorder.waiver_notes()
        if notes:
            terminalreporter.section("waivers", yellow=True)
            for line in notes:
                terminalreporter.write_line(line)

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Seal the run directory with manifest.sha256, then end with the one-line compliance summary.

        Trylast: every other plugin has written what it writes in pytest_sessionfinish (a ``--junitxml`` or
        ``--html`` file the user asked for), so the run directory has its final bytes when the manifest is computed.
        """
        if self.recorder.run_dir is None or hasattr(config, "workerinput"):
            return
        if not self.recorder.written:
            # pytest never finished the session (interrupted or crashed while collecting facts): say so.
            self.recorder.ended = self.recorder.ended or "the run ended before its checks ran"
            self.recorder.write()
        digest = write_manifest(self.recorder.run_dir)
        sign_manifest(self.recorder.run_dir, config.getoption("sign_key"))
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"integrity: {MANIFEST} sha256 {digest}")
            reporter.write_line(self.recorder.summary_line())


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


def _no_evidence(config: pytest.Config) -> bool:
    """Runs that list or plan tests evaluate nothing, so they write no evidence."""
    option = config.option
    return bool(option.collectonly or getattr(option, "setuponly", False) or getattr(option, "setupplan", False))


def _how_it_ended(session: pytest.Session, exitstatus: int) -> str | None:
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        return "interrupted"
    if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
        return "crashed (internal error)"
    if session.shouldfail or session.shouldstop:
        return f"stopped early: {session.shouldfail or session.shouldstop}"
    return None


def _spec_of(item: pytest.Item) -> ControlSpec | None:
    marker = item.get_closest_marker("control")
    if marker is None:
        return None
    spec = lookup(str(marker.args[0]))
    if spec is None:
        msg = f"{item.nodeid}: control {marker.args[0]} is not registered: declare it with @control(...)"
        raise pytest.UsageError(msg)
    return spec


def _guest_of(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    return str(callspec.params["guest"]) if callspec is not None and "guest" in callspec.params else ""
