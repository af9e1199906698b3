"""The product's commands never load the simulator: an auditor's machine runs verify, merge and report alone."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # each case starts a Python interpreter

PRODUCT_COMMANDS = ("verify", "merge", "report")
PROBE = """
import importlib, sys
import hotpatch_audit.__main__ as main
for name in sys.argv[1:]:
    importlib.import_module(main.COMMANDS[name][0])
print("\\n".join(sorted(m for m in sys.modules if m.startswith(("hotpatch_audit.testing", "spnego._ntlm_raw")))))
"""


def _loaded(*commands: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *commands], capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.parametrize("commands", [(), *((c,) for c in PRODUCT_COMMANDS)], ids=["main", *PRODUCT_COMMANDS])
def test_product_commands_import_no_simulator(commands: tuple[str, ...]) -> None:
    assert _loaded(*commands) == []


def test_the_probe_sees_the_simulator_when_a_command_loads_it() -> None:
    assert "hotpatch_audit.testing.simulator" in _loaded("demo")
