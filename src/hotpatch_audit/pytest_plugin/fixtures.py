"""The fixtures a check may ask for: the audit run, the guest's facts, the update context, the guest's host."""

from __future__ import annotations

from typing import Any

import pytest

from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.rules.updates import UpdateContext
from hotpatch_audit.run.session import AuditSession

SESSION = pytest.StashKey[AuditSession]()


@pytest.fixture
def audit(request: pytest.FixtureRequest) -> AuditSession:
    """The current audit run: inventory, selection, catalog, policy and facts."""
    return request.config.stash[SESSION]


@pytest.fixture
def facts(audit: AuditSession, guest: str) -> GuestFacts:
    """The guest's facts; an ERROR on every control of a guest whose facts could not be obtained."""
    return audit.facts_for(guest)


@pytest.fixture
def winrm_host(audit: AuditSession, guest: str) -> Any:
    """The guest's testinfra Host for your own ``winrm_host.run(...)`` checks (live runs; one connection per guest)."""
    return audit.host(guest)


@pytest.fixture
def updates(audit: AuditSession, facts: GuestFacts) -> UpdateContext:
    """Release catalog, policy and as-of date for the update controls."""
    return audit.update_context(facts)
