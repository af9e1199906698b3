"""Fixtures for the live self-tests: the demo fleet plus test-only faults, served once per session on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.live.livesupport import PASSWORD, PASSWORD_ENV, build_fleet
from hotpatch_audit.inputs.inventory import Inventory, load_inventory
from hotpatch_audit.testing.simulator import Fleet, RunningFleet, serve_fleet


@pytest.fixture(scope="session")
def fleet() -> Fleet:
    return build_fleet()


@pytest.fixture(scope="session")
def running(fleet: Fleet) -> Iterator[RunningFleet]:
    with serve_fleet(fleet, password=PASSWORD, password_env=PASSWORD_ENV) as served:
        yield served


def _inventory(running: RunningFleet, path: Path, transport: str, **extra: Any) -> Inventory:
    return load_inventory(running.write_inventory(path, transport=transport, **extra))


@pytest.fixture(scope="session")
def ntlm_inventory(running: RunningFleet, tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    # Short timeouts keep the operation-timeout test fast (its deadline is 3 x the operation timeout).
    extra = {"ansible_winrm_operation_timeout_sec": 1, "ansible_winrm_read_timeout_sec": 5}
    return _inventory(running, tmp_path_factory.mktemp("inv") / "ntlm.yml", "ntlm", **extra)


@pytest.fixture(scope="session")
def basic_inventory(running: RunningFleet, tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    return _inventory(running, tmp_path_factory.mktemp("inv") / "basic.yml", "basic")
