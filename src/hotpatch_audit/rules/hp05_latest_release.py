"""HP-05 Latest release installed (sources: hotpatch-domain §4, §5; the release catalog)."""

from __future__ import annotations

from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.outcomes import Severity
from hotpatch_audit.rules.findings import Finding
from hotpatch_audit.rules.registry import ControlSpec, register
from hotpatch_audit.rules.updates import UpdateContext, installed_status

SPEC = register(
    ControlSpec(
        id="HP-05",
        title="Latest release installed",
        severity=Severity.HIGH,
        rationale="The newest release due (released + grace days) for the guest's OS, or a newer one, is installed.",
        refs=("https://learn.microsoft.com/windows/release-health/windows-server-release-info",),
        reads=("os.current_build", "os.ubr", "hotfixes"),
    )
)


def evaluate(facts: GuestFacts, ctx: UpdateContext) -> Finding:
    """The installed release is the latest due release of the guest's OS, or newer."""
    st = installed_status(facts, ctx)
    expected = st.expected
    if st.behind and expected is not None:
        return Finding(
            False,
            f"build {st.build} is not in the catalog and older than every release since the expected "
            f"{expected.describe()}: install the latest release",
        )
    if st.problem is not None or st.installed is None or expected is None:
        raise NotEvaluatedError(st.problem or f"build {st.build} could not be placed in the catalog")
    note = f" ({st.accepted_note})" if st.accepted_note else ""
    if st.installed.released >= expected.released:
        return Finding(
            True, f"installed {st.installed.describe()}{note}; expected as of {st.as_of}: {expected.describe()}"
        )
    return Finding(
        False,
        f"installed {st.installed.describe()}{note} is behind: expected {expected.describe()} as of {st.as_of}; "
        "install it",
    )
