"""CredSSP over HTTPS: pyspnego's CredSSP acceptor in the simulator, requests-credssp in the audit."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from e2e.live.livesupport import PASSWORD, PASSWORD_ENV, expected_facts
from e2e.live.pki import Pki
from hotpatch_audit.collect.collector import collect
from hotpatch_audit.collect.transport import CollectionFailure
from hotpatch_audit.inputs.inventory import Guest, load_inventory
from hotpatch_audit.testing.simulator import Fleet, RunningFleet

pytestmark = pytest.mark.e2e


def credssp_guest(running: RunningFleet, pki: Pki, tmp_path: Path) -> Guest:
    path = running.write_inventory(
        tmp_path / "inventory.yml", transport="credssp", ansible_winrm_ca_trust_path=str(pki.ca)
    )
    return load_inventory(path).guests["hci-vm-01"]


def test_credssp_collects(served_https: RunningFleet, pki: Pki, fleet: Fleet, tmp_path: Path) -> None:
    before = served_https.counts("hci-vm-01").get("credssp-handshake", 0)
    facts = collect(credssp_guest(served_https, pki, tmp_path))
    facts.pop("collected_at")
    assert facts == expected_facts(fleet.guest("hci-vm-01"))
    assert served_https.counts("hci-vm-01")["credssp-handshake"] == before + 1


# requests-credssp raises the refusal from inside its response hook, before it releases the connection: the
# socket is left to the garbage collector. Collect it here, so its ResourceWarning cannot fail a later test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_credssp_wrong_password(
    served_https: RunningFleet, pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    with pytest.raises(CollectionFailure) as caught:
        collect(credssp_guest(served_https, pki, tmp_path))
    assert str(caught.value).startswith(
        "hci-vm-01: credentials refused (SEC_E_LOGON_DENIED) for user 'auditor' over credssp"
    )
    assert "not-the-password" not in str(caught.value)
    assert PASSWORD not in str(caught.value)
    del caught
    gc.collect()
