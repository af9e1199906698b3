"""``python -m hotpatch_audit report RUN_DIR``: rebuild report.html from results.json and the stored facts.

An auditor can regenerate the view from the data: the run renders its report with the same function from the
same data, so the pages differ only in the re-render note. The data files are first checked against
manifest.sha256; a report is not rebuilt from changed data unless --no-verify is given. The manifest is left as
the run sealed it, so ``verify`` lists a rebuilt report.html as changed.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from hotpatch_audit import __version__
from hotpatch_audit.errors import HotpatchAuditError
from hotpatch_audit.report.page import write_report
from hotpatch_audit.run.integrity import MANIFEST, IntegrityError, verify
from hotpatch_audit.run.results import ResultsFileError, load_results

REPORT = "report.html"


class RerenderError(HotpatchAuditError):
    """The run directory cannot be rendered."""


def render_report(run_dir: Path, output: Path | None = None, note: str | None = None) -> Path:
    """Write the HTML report of `run_dir` (default ``RUN_DIR/report.html``) from its data; return its path.

    `note` is shown under the run header; by default it says when and by which version the page was rendered.
    """
    try:
        doc = load_results(run_dir)
    except ResultsFileError as err:
        raise RerenderError(str(err)) from err
    if note is None:
        note = (
            f"Re-rendered from results.json and facts/ on {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} by hotpatch-audit "
            f"{__version__}."
        )
    try:
        return write_report(run_dir, doc, (output or run_dir / REPORT).resolve(), note)
    except OSError as err:
        msg = f"{run_dir}: cannot write the report: {err}"
        raise RerenderError(msg) from err


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
