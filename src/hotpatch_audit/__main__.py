"""Command line: ``python -m hotpatch_audit <command>``; each command lives in its own module.

The table names modules, not objects: a command's module (and what it imports) is loaded only when that
command runs, so ``verify`` on an auditor's machine never imports the simulator or the transport.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name: (module with add_arguments(parser) and run(args) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("hotpatch_audit.testing.demo", "audit the bundled simulated fleet and write a report"),
    "merge": ("hotpatch_audit.report.merge", "merge the run directories of shards into one"),
    "verify": ("hotpatch_audit.run.integrity", "check a run directory against its manifest.sha256"),
    "report": ("hotpatch_audit.report.rerender", "rebuild a run's report.html from results.json and facts/"),
    "catalog": ("hotpatch_audit.rules.catalog_command", "update the release catalog from Microsoft; cross-check it"),
    "trend": ("hotpatch_audit.report.trend", "compliance across the sealed runs of a reports directory, as a page"),
    "simulate": ("hotpatch_audit.testing.simulate", "serve a simulated fleet on loopback for rehearsals, until Ctrl-C"),
    "inventory": ("hotpatch_audit.inputs.inventory_command", "show the guests an inventory and --limit select"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one command; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m hotpatch_audit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = next((a for a in args if not a.startswith("-")), None)
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            importlib.import_module(module).add_arguments(command)
    parsed = parser.parse_args(args)
    code: int = importlib.import_module(COMMANDS[parsed.command][0]).run(parsed)
    return code


if __name__ == "__main__":
    sys.exit(main())
