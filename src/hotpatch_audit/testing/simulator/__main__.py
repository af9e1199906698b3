"""``python -m hotpatch_audit.testing.simulator``: the ``simulate`` command under the simulator's own name."""

from __future__ import annotations

import argparse
import sys

from hotpatch_audit.testing import simulate


def main(argv: list[str] | None = None) -> int:
    """Run the simulate command; return the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m hotpatch_audit.testing.simulator", description=simulate.__doc__.splitlines()[0]
    )
    simulate.add_arguments(parser)
    return simulate.run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
