# ruff: noqa: E501 - the table pins whole messages, as an auditor reads them
"""Placing a build in the bundled release catalog: the expected and installed release, or why it cannot be judged.

One row per branch and boundary: a release is due on released + grace days, the catalog is stale from the next
Patch Tuesday + grace days, a build older than every release since the expected one is behind, and a policy may
accept a private build as a catalog build.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from hotpatch_audit.calendar import Build
from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.inputs.policy import AcceptedBuild, Policy
from hotpatch_audit.rules.catalog import load_catalog
from hotpatch_audit.rules.updates import UpdateContext, assess, installed_status
from support import facts

CATALOG = load_catalog()
ACCEPTED = (
    AcceptedBuild(Build(20348, 5080), Build(20348, 5074), "private fix"),
    AcceptedBuild(Build(20348, 5081), Build(20348, 5075), "typo"),
)

# (build, as of, grace days, expected build, installed build, behind, problem or accepted note)
# fmt: off
CASES: list[tuple[str, str, int, str | None, str | None, bool, str | None]] = [
    ("20348.5074", "2026-05-27", 14, "20348.5074", "20348.5074", False, None),
    ("20348.5074", "2026-05-26", 14, "20348.5074", "20348.5074", False, None),
    ("20348.5074", "2026-05-25", 14, "20348.5020", "20348.5074", False, None),
    ("20348.5020", "2026-05-25", 14, "20348.5020", "20348.5020", False, None),
    ("20348.5139", "2026-05-27", 14, "20348.5074", "20348.5139", False, None),
    ("20348.5074", "2026-06-23", 14, None, None, False,
     "catalog is stale: no release for 2026-06 (Patch Tuesday 2026-06-09 + 14 days <= 2026-06-23) for OS build 20348: refresh it with 'python -m hotpatch_audit catalog update' "
     "(offline: 'python -m hotpatch_audit catalog update --from SAVED_PAGE'), or add that month's rows with "
     "--catalog FILE"),
    ("20348.5074", "2026-06-22", 14, "20348.5074", "20348.5074", False, None),
    ("20348.5074", "2026-06-09", 0, None, None, False,
     "catalog is stale: no release for 2026-06 (Patch Tuesday 2026-06-09 + 0 days <= 2026-06-09) for OS build 20348: refresh it with 'python -m hotpatch_audit catalog update' "
     "(offline: 'python -m hotpatch_audit catalog update --from SAVED_PAGE'), or add that month's rows with "
     "--catalog FILE"),
    ("20348.5074", "2026-06-08", 0, "20348.5074", "20348.5074", False, None),
    ("17763.1", "2026-05-27", 14, None, None, False, "the catalog has no releases for OS build 17763"),
    ("20348.2227", "2024-01-22", 14, None, None, False,
     "no release is due by 2024-01-22: the catalog starts with 20348.2227 (KB5034129, 2024-01 baseline, "
     "released 2024-01-09) and the grace period is 14 days"),
    ("20348.2227", "2024-01-23", 14, "20348.2227", "20348.2227", False, None),
    ("20348.5080", "2026-05-27", 14, "20348.5074", "20348.5074", False,
     "accepted by policy as 20348.5074: private fix"),
    ("20348.5081", "2026-05-27", 14, "20348.5074", None, False,
     "policy p.yml accepts 20348.5081 as 20348.5075, which is not in the catalog"),
    ("20348.5300", "2026-05-27", 14, "20348.5074", None, False,
     "build 20348.5300 is newer than the newest catalog release 20348.5139: catalog needs updating (--catalog)"),
    ("20348.5139", "2026-05-27", 14, "20348.5074", "20348.5139", False, None),
    ("20348.5100", "2026-05-27", 14, "20348.5074", None, False,
     "build 20348.5100 is unknown: it is not in the catalog (a preview or private build?)"),
    ("20348.5073", "2026-05-27", 14, "20348.5074", None, True, "build 20348.5073 is not in the catalog"),
    ("20348.5019", "2026-05-27", 14, "20348.5074", None, True, "build 20348.5019 is not in the catalog"),
    ("20348.5021", "2026-05-25", 14, "20348.5020", None, False,
     "build 20348.5021 is unknown: it is not in the catalog (a preview or private build?)"),
    ("20348.5019", "2026-05-25", 14, "20348.5020", None, True, "build 20348.5019 is not in the catalog"),
]
# fmt: on


@pytest.mark.parametrize(("build", "as_of", "grace", "expected", "installed", "behind", "problem"), CASES)
def test_assess(
    build: str,
    as_of: str,
    grace: int,
    expected: str | None,
    installed: str | None,
    behind: bool,
    problem: str | None,
) -> None:
    policy = Policy(grace_days=grace, accepted_builds=ACCEPTED, source="p.yml")
    status = assess(Build.parse(build), UpdateContext(CATALOG, policy, date.fromisoformat(as_of)))
    assert (status.build, status.as_of) == (Build.parse(build), date.fromisoformat(as_of))
    assert (str(status.expected.build) if status.expected else None) == expected
    assert (str(status.installed.build) if status.installed else None) == installed
    assert status.behind is behind
    assert (status.problem or status.accepted_note) == problem
    assert status.problem is None or status.accepted_note is None


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"os__current_build": None}, "CurrentBuild (os.current_build) could not be read: no value"),
        ({"os__ubr": None}, "UBR (os.ubr) could not be read: no value"),
        ({"unreadable": ("os.current_build",)}, "CurrentBuild (os.current_build) could not be read: Access is denied."),
    ],
)
def test_an_unreadable_build_cannot_be_placed(changes: dict[str, Any], problem: str) -> None:
    ctx = UpdateContext(CATALOG, Policy(), date(2026, 5, 27))
    with pytest.raises(NotEvaluatedError) as err:
        installed_status(facts(**changes), ctx)
    assert str(err.value) == problem
