"""A live run whose settings cannot work stops with one usage error (exit 4) before any guest is contacted."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import REPO

CASES = {
    "missing password": ("    ansible_user: auditor\n", ["3 of 3 selected guests", "needs a password"]),
    "templated host": (
        "    ansible_user: auditor\n    ansible_password: pw\n    ansible_winrm_host: '{{ sim_ip }}'\n",
        [
            ":5: all.vars.ansible_winrm_host: '{{ sim_ip }}' is a Jinja",
            "ansible.builtin.debug -a var=ansible_winrm_host",
        ],
    ),
    "vaulted password": (
        "    ansible_user: auditor\n    ansible_password: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n      3338\n",
        [":4: all.vars.ansible_password: the password is an Ansible Vault value", "hotpatch_password_env"],
    ),
    "unsupported transport": (
        "    ansible_user: auditor\n    ansible_password: pw\n    ansible_connection: psrp\n",
        [":5: all.vars.ansible_connection: 'psrp' is not supported"],
    ),
}


@pytest.fixture
def listener() -> Iterator[tuple[int, list[int]]]:
    """A loopback port that counts the connections it is offered."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[int] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(1)
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()


@pytest.mark.parametrize("case", sorted(CASES))
def test_unusable_settings_stop_the_run_before_any_connection(
    tmp_path: Path, listener: tuple[int, list[int]], case: str
) -> None:
    port, accepted = listener
    variables, expected = CASES[case]
    inventory = tmp_path / "inv.yml"
    inventory.write_text(
        f"all:\n  vars:\n{variables}    ansible_host: 127.0.0.1\n    ansible_port: {port}\n"
        "  hosts:\n    vm-1:\n    vm-2:\n    vm-3:\n",
        encoding="utf-8",
    )
    reports = tmp_path / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--inventory", str(inventory), "--report-dir", str(reports)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 4, output
    for text in expected:
        assert text.replace(":4:", f"{inventory}:4:").replace(":5:", f"{inventory}:5:") in output
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output
    assert not reports.exists()
    assert accepted == []
