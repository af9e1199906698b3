"""``tox -e demo``: serve the bundled simulated fleet on loopback, audit it live over NTLM, write the report.

The bundled release catalog ends with 2026-05, so the demo evaluates as of 2026-05-27 (after that month's
hotpatch plus the 14 grace days, before June's would be due): it never invents release data.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import pytest

from hotpatch_audit.rules.catalog import DATA_DIR_ENV
from hotpatch_audit.testing.simulator import DEMO_FLEET, serve_fleet

DEMO_AS_OF = "2026-05-27"
COMPLETED = (0, 1, 6)  # all compliant, some failed, some not evaluated: the audit itself ran to the end


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the demo command."""
    parser.add_argument("--fleet", type=Path, default=DEMO_FLEET, help="simulated fleet file (default: the demo)")
    parser.add_argument("--report-dir", type=Path, default=Path("reports"), help="where the run directory goes")
    parser.add_argument(
        "--checks", type=Path, default=Path("tests"), help="the folder of compliance checks (default: ./tests)"
    )
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments, e.g. -m readiness")


def run(args: argparse.Namespace) -> int:
    """Run the audit; exit 0 when it completed, whatever the guests' compliance (that is the report's job)."""
    checks: Path = args.checks
    if not any(checks.glob("test_*.py")):
        print(  # noqa: T201 - command-line output
            f"demo: no compliance checks in {checks.resolve()}: run the demo from the root of a hotpatch-audit "
            "checkout (it holds tests/), or name the checks folder with --checks DIR"
        )
        return 4
    with tempfile.TemporaryDirectory(prefix="hotpatch-demo-") as tmp, serve_fleet(args.fleet) as fleet:
        # Beside the run directories, so the report names an inventory that still exists after the demo.
        args.report_dir.mkdir(parents=True, exist_ok=True)
        inventory = fleet.write_inventory(args.report_dir / "demo-inventory.yml")
        # The demo's verdicts rest on the bundled catalog alone, whatever this user has imported.
        os.environ[DATA_DIR_ENV] = str(Path(tmp) / "no-user-catalog")
        code = pytest.main(
            [
                str(checks),
                "--inventory",
                str(inventory),
                "--as-of",
                DEMO_AS_OF,
                "--report-dir",
                str(args.report_dir),
                "-q",
                *args.pytest_args,
            ]
        )
    return 0 if code in COMPLETED else int(code)
