"""Which release a guest has installed and which it should have (HP-05, HP-06).

``D`` is the as-of date and ``grace`` the policy's grace days. A release is due when ``released + grace <= D``;
the expected release is the newest due hotpatch-track release of the guest's OS; the installed release is the
row whose build equals ``CurrentBuild.UBR`` exactly. Builds compare as integers and the release type always
comes from the catalog, never from the number: in a hotpatch month the hotpatch build is *lower* than that
month's standard update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hotpatch_audit.calendar import Build, Month
from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.inputs.policy import Policy
from hotpatch_audit.rules.catalog import Catalog, Release
from hotpatch_audit.rules.findings import unread


@dataclass(frozen=True)
class UpdateContext:
    """What HP-05 and HP-06 need besides the facts."""

    catalog: Catalog
    policy: Policy
    as_of: date


@dataclass(frozen=True)
class UpdateStatus:
    """The outcome of placing a build in the catalog.

    ``problem`` is set when the catalog cannot judge the build at all (stale, nothing due, unknown build).
    ``behind`` is set when an unknown build is certainly older than the expected release.
    """

    build: Build
    as_of: date
    expected: Release | None
    installed: Release | None
    problem: str | None = None
    behind: bool = False
    accepted_note: str | None = None


def stale_month(catalog: Catalog, os_build: int, as_of: date, grace: int) -> Month | None:
    """The first month missing from the catalog whose Patch Tuesday + grace has passed, if any."""
    newest = catalog.newest_hotpatch_month(os_build)
    if newest is None:
        return None
    following = newest.next()
    return following if following.patch_tuesday + timedelta(days=grace) <= as_of else None


def assess(build: Build, ctx: UpdateContext) -> UpdateStatus:
    """Place `build` in the catalog as of ``ctx.as_of``."""
    grace, as_of = ctx.policy.grace_days, ctx.as_of
    rows = ctx.catalog.for_os(build.major)
    if not rows:
        return UpdateStatus(build, as_of, None, None, f"the catalog has no releases for OS build {build.major}")
    missing = stale_month(ctx.catalog, build.major, as_of, grace)
    if missing is not None:
        problem = (
            f"catalog is stale: no release for {missing} (Patch Tuesday {missing.patch_tuesday} + {grace} days "
            f"<= {as_of}): add that month's rows with --catalog"
        )
        return UpdateStatus(build, as_of, None, None, problem)
    due = [r for r in rows if r.on_hotpatch_track and r.released + timedelta(days=grace) <= as_of]
    if not due:
        first = rows[0]
        problem = (
            f"no release is due by {as_of}: the catalog starts with {first.describe()} "
            f"and the grace period is {grace} days"
        )
        return UpdateStatus(build, as_of, None, None, problem)
    expected = due[-1]
    installed, note = _installed(build, ctx)
    if installed is not None:
        return UpdateStatus(build, as_of, expected, installed, accepted_note=note)
    if note is not None:
        return UpdateStatus(build, as_of, expected, None, note)
    since = [r.build for r in rows if r.released >= expected.released]
    if build < min(since):
        return UpdateStatus(build, as_of, expected, None, f"build {build} is not in the catalog", behind=True)
    newest = max(r.build for r in rows)
    if build > newest:
        problem = f"build {build} is newer than the newest catalog release {newest}: catalog needs updating (--catalog)"
    else:
        problem = f"build {build} is unknown: it is not in the catalog (a preview or private build?)"
    return UpdateStatus(build, as_of, expected, None, problem)


def _installed(build: Build, ctx: UpdateContext) -> tuple[Release | None, str | None]:
    row = ctx.catalog.find(build)
    if row is not None:
        return row, None
    accepted = ctx.policy.accepted(build)
    if accepted is None:
        return None, None
    row = ctx.catalog.find(accepted.as_build)
    if row is None:
        return None, (f"policy {ctx.policy.source} accepts {build} as {accepted.as_build}, which is not in the catalog")
    return row, f"accepted by policy as {accepted.as_build}: {accepted.reason}"


def installed_status(facts: GuestFacts, ctx: UpdateContext) -> UpdateStatus:
    """Place the guest's ``CurrentBuild.UBR`` in the catalog; NotEvaluatedError when either part is unreadable."""
    major, ubr = facts.os.current_build, facts.os.ubr
    if major is None:
        raise NotEvaluatedError(unread(facts, "os.current_build", "CurrentBuild").message)
    if ubr is None:
        raise NotEvaluatedError(unread(facts, "os.ubr", "UBR").message)
    return assess(Build(major, ubr), ctx)
