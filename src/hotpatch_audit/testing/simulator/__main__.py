"""``python -m hotpatch_audit.testing.simulator``: serve a simulated fleet on loopback until SIGTERM or SIGINT.

Writes an Ansible inventory of the fleet (once every guest listens, so its appearance is the ready signal) and
removes it on exit. The password comes from the fleet's ``password_env`` variable (or ``--password-env``); the
audit reads the same variable, named in the inventory as ``hotpatch_password_env``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from hotpatch_audit.errors import InputFileError
from hotpatch_audit.testing.simulator.model import load_fleet
from hotpatch_audit.testing.simulator.server import DEMO_FLEET, serve_fleet

log = logging.getLogger("hotpatch_audit.testing.simulator")


def main(argv: list[str] | None = None) -> int:
    """Run the simulator; return the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m hotpatch_audit.testing.simulator",
        description="Serve a simulated fleet of Windows guests as WS-Management endpoints on loopback.",
    )
    parser.add_argument("--fleet", type=Path, default=DEMO_FLEET, help="fleet YAML file (default: the demo fleet)")
    parser.add_argument("--inventory-out", type=Path, required=True, help="where to write the Ansible inventory")
    parser.add_argument("--password-env", help="environment variable holding the password (default: the fleet's)")
    parser.add_argument("--transport", choices=("ntlm", "basic"), default="ntlm", help="transport in the inventory")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every HTTP request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(name)s: %(message)s")
    try:
        fleet = load_fleet(args.fleet)
    except InputFileError as err:
        log.error("%s", err)  # noqa: TRY400 - the message names file and line; a traceback adds nothing
        return 2
    env_name = args.password_env or fleet.password_env
    if env_name not in os.environ:
        if fleet.demo_password is None:
            log.error("set %s to the password the simulated guests accept", env_name)
            return 2
        log.warning("%s is not set: using the fleet's demo password (the audit must use the same)", env_name)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping on signal %d", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with serve_fleet(fleet, password_env=env_name) as running:
        path = running.write_inventory(args.inventory_out, transport=args.transport)
        log.info("serving %d guests on 127.0.0.1; inventory: %s", len(running.ports), path)
        try:
            while not stop.wait(0.5):
                pass
        finally:
            path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
