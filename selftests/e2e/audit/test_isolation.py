"""The self-tests and the compliance run never see each other."""

import subprocess
import sys

import pytest

from support import REPO


def test_compliance_plugin_is_not_loaded_here(pytestconfig: pytest.Config) -> None:
    assert not pytestconfig.pluginmanager.hasplugin("hotpatch_audit.pytest_plugin.hooks")


def test_compliance_run_collects_only_the_checks() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "--inventory", "inventories/example.yml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    ids = [line for line in out.stdout.splitlines() if "::" in line]
    assert ids, out.stdout + out.stderr
    assert all(line.startswith("tests/") for line in ids)
