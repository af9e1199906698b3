"""``python -m hotpatch_audit simulate``: serve a rehearsal fleet of simulated guests on loopback until stopped.

The fleet runs until Ctrl-C or SIGTERM. Once every guest listens it writes an Ansible inventory of the fleet
(atomically, so its appearance is the ready signal), prints where, and which environment variable holds the
password the guests accept; the audit reads the same variable, named in the inventory as
``hotpatch_password_env``. The inventory is removed on exit.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from hotpatch_audit.errors import InputFileError
from hotpatch_audit.testing.demo import DEMO_AS_OF
from hotpatch_audit.testing.simulator.model import Fleet, load_fleet
from hotpatch_audit.testing.simulator.server import DEMO_FLEET, serve_fleet

USAGE_ERROR = 4  # as pytest's usage error: the command line or an input file is wrong


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the simulate command."""
    parser.add_argument("--fleet", type=Path, default=DEMO_FLEET, help="fleet file (default: the bundled demo fleet)")
    parser.add_argument(
        "--inventory-out",
        type=Path,
        help="where to write the fleet's inventory (default: a new private temporary directory)",
    )
    parser.add_argument(
        "--password-env", help="environment variable holding the guests' password (default: the fleet's password_env)"
    )
    parser.add_argument(
        "--transport",
        choices=("ntlm", "basic"),
        default="ntlm",
        help="authentication the inventory asks for (default: ntlm with message encryption)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every HTTP request the guests serve")


def run(args: argparse.Namespace) -> int:
    """Serve the fleet until SIGINT or SIGTERM; 0 after a clean stop, 4 when the fleet cannot be served."""
    try:
        fleet = load_fleet(args.fleet)
    except InputFileError as err:
        return _refuse(str(err))
    env_name: str = args.password_env or fleet.password_env
    problem = _problem(fleet, env_name, args.transport)
    if problem:
        return _refuse(problem)
    preset = env_name in os.environ  # serve_fleet exports the demo password into this process when it is not
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    private_dir: Path | None = None
    if args.inventory_out is None:
        private_dir = Path(tempfile.mkdtemp(prefix="hotpatch-sim-"))
        target = private_dir / "inventory.yml"
    else:
        target = args.inventory_out
    try:
        with serve_fleet(fleet, password_env=env_name) as running:
            path = running.write_inventory(target, transport=args.transport)
            try:
                _announce(fleet, args, path.resolve(), env_name, preset=preset)
                while not stop.wait(0.5):
                    pass
            finally:
                path.unlink(missing_ok=True)
    finally:
        if private_dir is not None:
            shutil.rmtree(private_dir, ignore_errors=True)
    print("simulated fleet stopped", flush=True)  # noqa: T201 - command-line output
    return 0


def _problem(fleet: Fleet, env_name: str, transport: str) -> str | None:
    if env_name not in os.environ and fleet.demo_password is None:
        return f"set {env_name} to the password the simulated guests should accept (the audit reads it too)"
    if transport == "basic" and not fleet.allow_unencrypted:
        return (
            "--transport basic over http needs 'allow_unencrypted: true' in the fleet file: like a real host "
            "(WinRM's AllowUnencrypted is false by default), the simulated guests refuse Basic over plain http"
        )
    return None


def _announce(fleet: Fleet, args: argparse.Namespace, inventory: Path, env_name: str, *, preset: bool) -> None:
    transport = "NTLM with message encryption" if args.transport == "ntlm" else "Basic, unencrypted"
    if preset:
        password = f"{env_name} (set it to the same value in the shell that runs the audit)"
    else:
        password = (
            f"{env_name} is not set, so the guests accept the fleet's demo_password ({args.fleet}); "
            f"set {env_name} to that value in the shell that runs the audit"
        )
    as_of = f" --as-of {DEMO_AS_OF}" if args.fleet == DEMO_FLEET else ""
    print(  # noqa: T201 - command-line output
        f"serving {len(fleet.guests)} simulated guests on 127.0.0.1 over http ({transport})\n"
        f"inventory: {inventory}\n"
        f"password variable: {password}\n"
        f"audit it: pytest tests --inventory {inventory}{as_of}\n"
        "stop with Ctrl-C",
        flush=True,
    )


def _refuse(message: str) -> int:
    print(f"simulate: {message}", file=sys.stderr)  # noqa: T201 - command-line output
    return USAGE_ERROR
