"""``tox -e demo``: audit the bundled example fleet and write a run directory.

The bundled release catalog ends with 2026-05, so the demo evaluates as of 2026-05-27 (after that month's
hotpatch plus the 14 grace days, before June's would be due): it never invents release data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

DEMO_AS_OF = "2026-05-27"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the demo command."""
    parser.add_argument("--report-dir", type=Path, default=Path("reports"), help="where the run directory goes")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments, e.g. -m readiness")


def run(args: argparse.Namespace) -> int:
    """Run the audit; exit 0 when the audit completed, whatever the guests' compliance (that is the report's)."""
    root = Path.cwd()
    code = pytest.main(
        [
            str(root / "tests"),
            "--inventory",
            str(root / "inventories" / "example.yml"),
            "--facts-dir",
            str(root / "inventories" / "example-facts"),
            "--as-of",
            DEMO_AS_OF,
            "--report-dir",
            str(args.report_dir),
            "-q",
            *args.pytest_args,
        ]
    )
    return 0 if code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) else int(code)
