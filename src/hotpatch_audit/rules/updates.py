"""Which release a guest has installed and which it should have (HP-05, HP-06).

``D`` is the as-of date and ``grace`` the policy's grace days. A release is due when ``released + grace <= D``;
the expected release is the newest due Patch Tuesday hotpatch-track release of the guest's OS (an out-of-band
release fixes a named problem and is never expected of every guest); the installed release is the row whose
build equals ``CurrentBuild.UBR`` exactly, told apart by the installed KBs when one build carries two. Builds
compare as integers and the release type always comes from the catalog, never from the number: in a hotpatch
month the hotpatch build is *lower* than that month's standard update.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from hotpatch_audit.calendar import Build, Month
from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.inputs.policy import Policy
from hotpatch_audit.rules.catalog import REFRESH_COMMAND, Catalog, Release
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
    next_baseline: Month | None = None


def stale_month(catalog: Catalog, os_build: int, as_of: date, grace: int) -> Month | None:
    """The first month missing from the catalog whose Patch Tuesday + grace has passed, if any.

    A hole counts like the end: rows of later months cannot say what a guest should have installed in between.
    """
    gap = catalog.first_gap(os_build)
    if gap is None:
        return None
    return gap if gap.patch_tuesday + timedelta(days=grace) <= as_of else None


def assess(build: Build, ctx: UpdateContext, installed_kbs: Collection[str] | None = None) -> UpdateStatus:
    """Place `build` in the catalog as of ``ctx.as_of``; `installed_kbs` tell apart two KBs of one build."""
    grace, as_of = ctx.policy.grace_days, ctx.as_of
    rows = ctx.catalog.for_os(build.major)
    if not rows:
        return UpdateStatus(build, as_of, None, None, f"the catalog has no releases for OS build {build.major}")
    missing = stale_month(ctx.catalog, build.major, as_of, grace)
    if missing is not None:
        problem = (
            f"catalog is stale: no release for {missing} (Patch Tuesday {missing.patch_tuesday} + {grace} days "
            f"<= {as_of}) for OS build {build.major}: refresh it with '{REFRESH_COMMAND}' "
            f"(offline: '{REFRESH_COMMAND} --from SAVED_PAGE'), or add that month's rows with --catalog FILE"
        )
        return UpdateStatus(build, as_of, None, None, problem)
    due = [r for r in rows if r.on_hotpatch_track and r.monthly and r.released + timedelta(days=grace) <= as_of]
    if not due:
        first = rows[0]
        problem = (
            f"no release is due by {as_of}: the catalog starts with {first.describe()} "
            f"and the grace period is {grace} days"
        )
        return UpdateStatus(build, as_of, None, None, problem)
    expected = due[-1]
    next_baseline = ctx.catalog.next_baseline(build.major, expected.month)
    installed, note = _installed(build, ctx, installed_kbs)
    if installed is not None:
        return UpdateStatus(build, as_of, expected, installed, accepted_note=note, next_baseline=next_baseline)
    if note is not None:
        return UpdateStatus(build, as_of, expected, None, note, next_baseline=next_baseline)
    since = [r.build for r in rows if r.released >= expected.released]
    if build < min(since):
        return UpdateStatus(build, as_of, expected, None, f"build {build} is not in the catalog", behind=True)
    newest = max(r.build for r in rows)
    if build > newest:
        problem = f"build {build} is newer than the newest catalog release {newest}: catalog needs updating (--catalog)"
    else:
        problem = f"build {build} is unknown: it is not in the catalog (a preview or private build?)"
    return UpdateStatus(build, as_of, expected, None, problem)


def _installed(
    build: Build, ctx: UpdateContext, installed_kbs: Collection[str] | None
) -> tuple[Release | None, str | None]:
    rows = ctx.catalog.find_all(build)
    if rows:
        return _one_of(build, rows, installed_kbs)
    accepted = ctx.policy.accepted(build)
    if accepted is None:
        return None, None
    rows = ctx.catalog.find_all(accepted.as_build)
    if not rows:
        return None, (f"policy {ctx.policy.source} accepts {build} as {accepted.as_build}, which is not in the catalog")
    row, problem = _one_of(accepted.as_build, rows, installed_kbs)
    if row is None:
        return None, problem
    return row, f"accepted by policy as {accepted.as_build}: {accepted.reason}"


def _one_of(
    build: Build, rows: list[Release], installed_kbs: Collection[str] | None
) -> tuple[Release | None, str | None]:
    """The row of `build` the guest has: the only one, or the one whose KB the guest lists as installed."""
    if len(rows) == 1:
        return rows[0], None
    kbs = {kb.upper() for kb in installed_kbs or ()}
    matching = [r for r in rows if r.kb in kbs]
    if len(matching) == 1:
        return matching[0], None
    named = " and ".join(f"{r.kb} ({'hotpatch' if r.on_hotpatch_track else 'standard'} track)" for r in rows)
    listed = "list both" if matching else "list neither"
    return None, f"build {build} is {named}; the guest's installed updates {listed}, so its release cannot be told"


def installed_status(facts: GuestFacts, ctx: UpdateContext) -> UpdateStatus:
    """Place the guest's ``CurrentBuild.UBR`` in the catalog; NotEvaluatedError when either part is unreadable."""
    major, ubr = facts.os.current_build, facts.os.ubr
    if major is None:
        raise NotEvaluatedError(unread(facts, "os.current_build", "CurrentBuild").message)
    if ubr is None:
        raise NotEvaluatedError(unread(facts, "os.ubr", "UBR").message)
    # The installed KBs tell apart a build that Microsoft shipped under two KBs on different tracks.
    return assess(Build(major, ubr), ctx, installed_kbs=[h.id for h in facts.hotfixes or ()])
