"""A site control (``SITE-*``) registers like a built-in one: it can be waived and disabled, and a policy or
waiver naming a site control that no check declares stops the run."""

from __future__ import annotations

from pathlib import Path

from auditrun import audit, write_fleet

SITE_CHECK = '''
from hotpatch_audit.checks import GuestFacts, control


@control("SITE-01", title="Display version pinned", severity="low", azure_edition_only=False)
def test_display_version(facts: GuestFacts) -> None:
    """The site pins its guests to DisplayVersion 22H2."""
    assert facts.os.display_version == "22H2", f"DisplayVersion is {facts.os.display_version}, not 22H2"
'''


def _site(tmp: Path) -> str:
    path = tmp / "site" / "test_site.py"
    path.parent.mkdir()
    path.write_text(SITE_CHECK)
    return str(path)


def test_a_site_control_fails_then_is_waived_then_disabled(tmp_path: Path) -> None:
    write_fleet(tmp_path, {"vm-1": {}})
    check = _site(tmp_path)
    failed = audit(tmp_path, check)
    assert failed.code == 1, failed.output
    assert failed.outcome("vm-1", "SITE-01")["outcome"] == "failed"
    assert any(c["id"] == "SITE-01" and c["severity"] == "low" for c in failed.results["controls"])

    waivers = tmp_path / "waivers.yml"
    waivers.write_text(
        "waivers:\n  - guests: [vm-1]\n    control: SITE-01\n    justification: pinned next quarter\n"
        "    approved_by: CAB\n    expires: 2026-12-31\n"
    )
    waived = audit(tmp_path, check, "--waivers", str(waivers))
    assert waived.code == 0, waived.output
    result = waived.outcome("vm-1", "SITE-01")
    assert result["outcome"] == "waived"
    assert result["waiver"]["underlying_outcome"] == "failed"

    policy = tmp_path / "policy.yml"
    policy.write_text("disabled_controls:\n  - {control: SITE-01, reason: no pinning at this site}\n")
    disabled = audit(tmp_path, check, "--policy", str(policy))
    assert disabled.code == 0, disabled.output
    assert disabled.outcome("vm-1", "SITE-01")["outcome"] == "skipped"
    assert "no pinning at this site" in disabled.outcome("vm-1", "SITE-01")["message"]


def test_a_policy_naming_an_undeclared_site_control_stops_the_run(tmp_path: Path) -> None:
    write_fleet(tmp_path, {"vm-1": {}})
    policy = tmp_path / "policy.yml"
    policy.write_text("disabled_controls:\n  - {control: SITE-02, reason: typo of SITE-01}\n")
    run = audit(tmp_path, _site(tmp_path), "--policy", str(policy))
    assert run.code == 4, run.output
    assert "SITE-02: named by the policy or waiver file, but no check declares it" in run.output
    assert "Traceback" not in run.output
