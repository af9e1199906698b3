"""``python -m hotpatch_audit report RUN_DIR``: rebuild report.html from results.json and the stored facts.

An auditor can regenerate the view from the data. The page is built by the same pytest-html hooks as in the
run: every result is replayed as a test that ends the way the result says (``error`` as a setup error,
``skipped`` as a skip, ``waived`` as an expected failure), with the same properties and facts extra, so the
results table equals the original's. The data files are first checked against manifest.sha256; a report is
not rebuilt from changed data unless --no-verify is given. The manifest is left as the run sealed it, so
``verify`` lists a rebuilt report.html as changed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Generator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hotpatch_audit import __version__
from hotpatch_audit.errors import FactsError, HotpatchAuditError
from hotpatch_audit.facts import GuestFacts, facts_path, load_facts_file
from hotpatch_audit.outcomes import Outcome, Result
from hotpatch_audit.pytest_plugin.outcome import attach
from hotpatch_audit.report.inert import make_inert
from hotpatch_audit.run.integrity import MANIFEST, IntegrityError, verify
from hotpatch_audit.run.results import ResultsFileError, load_results, results_of

REPORT = "report.html"


class RerenderError(HotpatchAuditError):
    """The run directory cannot be rendered."""


class _Replayed(Exception):
    """A recorded failure or error, raised again so pytest reports it in the same phase."""


def _test_id(result: Result) -> str:
    return result.test or f"{result.control}[{result.guest}]"


def _decided_in_setup(result: Result) -> bool:
    return result.underlying in (Outcome.ERROR, Outcome.SKIPPED)


class ReplayItem(pytest.Item):
    """One recorded result, replayed."""

    def __init__(self, *, result: Result, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.result = result

    def setup(self) -> None:
        """Fail or skip here when the run decided the outcome in setup."""
        if self.result.outcome is Outcome.SKIPPED:
            pytest.skip(self.result.message)
        if _decided_in_setup(self.result):
            raise _Replayed(self.result.message)

    def runtest(self) -> None:
        """Fail here when the run decided a failure while evaluating."""
        if self.result.underlying is Outcome.FAILED:
            raise _Replayed(self.result.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """The recorded message, not a traceback of the replay."""
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the original test lived, for messages."""
        return self.path, None, self.nodeid


class Replay:
    """A pytest plugin that turns results.json back into test reports carrying the recorded results."""

    def __init__(
        self,
        doc: Mapping[str, Any],
        facts: Mapping[str, GuestFacts],
        facts_extra: Callable[[GuestFacts, tuple[str, ...]], dict[str, Any]],
    ) -> None:
        self.doc = doc
        self.facts = facts
        self.facts_extra = facts_extra
        self.reads = {c["id"]: tuple(c.get("reads", ())) for c in doc.get("controls", [])}

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> bool:
        """Collect one item per recorded result instead of any files."""
        session.items = [
            ReplayItem.from_parent(session, name=_test_id(r), nodeid=_test_id(r), result=r) for r in self._run_order()
        ]
        session.testscollected = len(session.items)
        session.config.hook.pytest_collection_finish(session=session)
        return True

    def _run_order(self) -> list[Result]:
        # A serial run goes file by file, check by check (defined in control id order), guest by guest; rows
        # with the same result keep this order in the report. (Under pytest-xdist the run's order varies.)
        guests = {g["guest"]: i for i, g in enumerate(self.doc.get("guests", []))}
        return sorted(
            results_of(self.doc),
            key=lambda r: (_test_id(r).split("::")[0], r.control, guests.get(r.guest, len(guests)), r.guest),
        )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Give the deciding report the recorded result and the facts extra."""
        report = yield
        r: Result | None = getattr(item, "result", None)
        if r is None or call.when != ("setup" if _decided_in_setup(r) else "call"):
            return report
        if r.outcome is not Outcome.SKIPPED:
            report.longrepr = r.message
        attach(report, r)
        reads = self.reads.get(r.control, ())
        if r.outcome is not Outcome.SKIPPED and r.guest in self.facts and reads:
            report.extras = [self.facts_extra(self.facts[r.guest], reads)]  # type: ignore[attr-defined]
        return report


def _facts(run_dir: Path, doc: Mapping[str, Any]) -> dict[str, GuestFacts]:
    """The facts the run judged: those of every guest whose facts it stored, read from the run's facts/ only."""
    out = {}
    for g in doc.get("guests", []):
        if g.get("facts"):
            try:
                out[g["guest"]] = load_facts_file(facts_path(run_dir / "facts", g["guest"]), g["guest"])
            except FactsError as err:
                msg = f"{run_dir}: the run judged facts that no longer load: {err}"
                raise RerenderError(msg) from err
    return out


def render_report(run_dir: Path, output: Path | None = None, note: str | None = None) -> Path:
    """Write the HTML report of `run_dir` (default ``RUN_DIR/report.html``) from its data; return its path.

    `note` is shown under the run header; by default it says when and by which version the page was rendered.
    """
    # Imported here: importing pytest-html before pytest.main() would keep pytest from rewriting its asserts.
    from hotpatch_audit.pytest_plugin.html import HtmlHooks, facts_extra

    try:
        doc = load_results(run_dir)
    except ResultsFileError as err:
        raise RerenderError(str(err)) from err
    target = (output or run_dir / REPORT).resolve()
    if note is None:
        note = (
            f"Re-rendered from results.json and facts/ on {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} by hotpatch-audit "
            f"{__version__}; the Environment table describes the machine that re-rendered it."
        )
    plugins = [Replay(doc, _facts(run_dir, doc), facts_extra), HtmlHooks(lambda: doc, run_dir, note)]
    saved = os.environ.pop("PYTEST_ADDOPTS", None)  # the replay must not inherit options meant for an audit
    try:
        with tempfile.TemporaryDirectory(prefix="hotpatch-report-") as tmp:
            ini = Path(tmp) / "pytest.ini"
            ini.write_text("[pytest]\n", encoding="utf-8")
            args = ["-c", str(ini), "--rootdir", tmp, "--noconftest", "-p", "no:cacheprovider", "-p", "no:terminal"]
            code = pytest.main([*args, "--html", str(target), "--self-contained-html", tmp], plugins=plugins)
    finally:
        if saved is not None:
            os.environ["PYTEST_ADDOPTS"] = saved
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not target.is_file():
        msg = f"{run_dir}: rendering the report failed (pytest exit code {int(code)})"
        raise RerenderError(msg)
    make_inert(target)
    return target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the report command."""
    parser.add_argument("run_dir", type=Path, help="the run directory with results.json and facts/")
    parser.add_argument("--output", type=Path, help=f"where to write the report (default RUN_DIR/{REPORT})")
    parser.add_argument("--no-verify", action="store_true", help=f"render even if files differ from {MANIFEST}")


def run(args: argparse.Namespace) -> int:
    """Verify the data, render; exit 0 when written, 1 when the data differs from the manifest, 2 on errors."""
    run_dir: Path = args.run_dir
    if not args.no_verify and (run_dir / MANIFEST).is_file():
        try:
            check = verify(run_dir, skip=frozenset({REPORT}))
        except IntegrityError as err:
            print(f"report: {err}")  # noqa: T201 - command-line output
            return 2
        if not check.ok:
            print(f"report: {run_dir} differs from {MANIFEST}; not rendering (--no-verify to render anyway):")  # noqa: T201
            for line in check.problems():
                print(f"  {line}")  # noqa: T201 - command-line output
            return 1
    try:
        target = render_report(run_dir, args.output)
    except RerenderError as err:
        print(f"report: {err}")  # noqa: T201 - command-line output
        return 2
    print(f"report: wrote {target}")  # noqa: T201 - command-line output
    if target == (run_dir / REPORT).resolve() and (run_dir / MANIFEST).is_file():
        print(f"report: {MANIFEST} still seals the run's original {REPORT}; verify lists the rebuilt one as changed")  # noqa: T201
    return 0
