"""Command line: ``python -m hotpatch_audit <command>``; each command lives in its own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from hotpatch_audit import demo, integrity, merge, rerender

Command = tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]

COMMANDS: dict[str, Command] = {
    "demo": (demo.add_arguments, demo.run, "audit the bundled simulated fleet and write a report"),
    "merge": (merge.add_arguments, merge.run, "merge the run directories of shards into one"),
    "verify": (integrity.add_arguments, integrity.run, "check a run directory against its manifest.sha256"),
    "report": (rerender.add_arguments, rerender.run, "rebuild a run's report.html from results.json and facts/"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m hotpatch_audit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (add_arguments, _, help_text) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    return COMMANDS[args.command][1](args)


if __name__ == "__main__":
    sys.exit(main())
