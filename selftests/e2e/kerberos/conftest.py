"""A loopback MIT KDC for the session, and the fleet it serves: every guest has its own HTTP/ service principal.

The realm's tools come from Debian's krb5-kdc, krb5-admin-server and krb5-user, the client libraries from the
kerberos extra (``tox -e kerberos``). Without them these tests are not collected, and ``tox -e kerberos``, which
runs nothing else, fails with "no tests ran": a missing KDC never passes.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from collections.abc import Iterator

import pytest

from e2e.kerberos.kdc import DOMAIN, Realm, missing_tools, running_realm
from e2e.live.livesupport import PASSWORD, PASSWORD_ENV
from e2e.live.pki import Pki, make_pki
from hotpatch_audit.testing.simulator import DEMO_FLEET, Fleet, RunningFleet, load_fleet, serve_fleet

# Guests in distinct states: compliant, not Azure Edition, and one failing control each.
GUESTS = ("hci-vm-01", "hci-vm-04", "hci-vm-05", "hci-vm-06", "hci-vm-07", "hci-vm-14")

if missing_tools() or importlib.util.find_spec("gssapi") is None:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def fleet() -> Fleet:
    demo = load_fleet(DEMO_FLEET)
    quick = (dataclasses.replace(g, faults=dataclasses.replace(g.faults, latency_ms=0)) for g in demo.guests)
    guests = tuple(g for g in quick if g.name in GUESTS)
    return Fleet(user=demo.user, password_env=PASSWORD_ENV, guests=guests)


@pytest.fixture(scope="session")
def realm(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Realm]:

    services = [f"HTTP/{g.name}.{DOMAIN}" for g in fleet.guests]
    with running_realm(tmp_path_factory.mktemp("realm"), users={fleet.user: PASSWORD}, services=services) as running:
        saved = {k: os.environ.get(k) for k in ("KRB5_CONFIG", "KRB5CCNAME")}
        # GSSAPI in this process (the simulator's acceptor, in-process audits) and in child audits use the realm.
        os.environ["KRB5_CONFIG"] = str(running.krb5_conf)
        os.environ["KRB5CCNAME"] = f"FILE:{running.folder}/no-such-cache"
        try:
            yield running
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture(scope="session")
def served(fleet: Fleet, realm: Realm) -> Iterator[RunningFleet]:
    keytabs = {g.name: realm.keytab(f"HTTP/{g.name}.{DOMAIN}") for g in fleet.guests}
    with serve_fleet(fleet, password=PASSWORD, password_env=PASSWORD_ENV, keytabs=keytabs) as running:
        yield running


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def served_https(fleet: Fleet, pki: Pki) -> Iterator[RunningFleet]:
    with serve_fleet(fleet, password=PASSWORD, password_env=PASSWORD_ENV, tls=pki.server_context()) as running:
        yield running
