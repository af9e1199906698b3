"""A policy file is read completely or refused with the file, line, key and the fix; its summary is the evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hotpatch_audit.errors import PolicyError
from hotpatch_audit.inputs.policy import load_policy

KEYS = "(expected accepted_builds, disabled_controls, grace_days)"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "grace", "disabled", "accepted"),
    [
        ("", 14, {}, []),
        ("disabled_controls:\naccepted_builds:\n", 14, {}, []),
        ("grace_days: 0\n", 0, {}, []),
        ("grace_days: 120\n", 120, {}, []),
        (
            "disabled_controls:\n  - {control: SITE-01, reason: covered elsewhere}\n",
            14,
            {"SITE-01": "covered elsewhere"},
            [],
        ),
        (
            "accepted_builds:\n  - {build: '20348.5080', as: '20348.5074', reason: private fix}\n",
            14,
            {},
            [{"build": "20348.5080", "as": "20348.5074", "reason": "private fix"}],
        ),
    ],
)
def test_a_valid_policy_and_its_summary(
    tmp_path: Path, text: str, grace: int, disabled: dict[str, str], accepted: list[dict[str, Any]]
) -> None:
    path = _write(tmp_path, text)
    assert load_policy(path).summary() == {
        "source": str(path),
        "grace_days": grace,
        "disabled_controls": disabled,
        "accepted_builds": accepted,
    }


def test_no_policy_file_is_the_default_policy() -> None:
    assert load_policy(None).summary() == {
        "source": "default policy",
        "grace_days": 14,
        "disabled_controls": {},
        "accepted_builds": [],
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- 1\n", ":1: (top level): a policy is a mapping of accepted_builds, disabled_controls, grace_days"),
        ("grace_days: 121\n", ":1: grace_days: must be a whole number of days from 0 to 120, found 121"),
        ("grace_days: -1\n", ":1: grace_days: must be a whole number of days from 0 to 120, found -1"),
        ("grace_days: true\n", ":1: grace_days: must be a whole number of days from 0 to 120, found True"),
        ("grace_days: 7\ngrace: 3\n", f":2: grace: unknown key 'grace' {KEYS}"),
        ("disabled_controls: HP-07\n", ":1: disabled_controls: must be a list, found str"),
        (
            "disabled_controls:\n  - HP-07\n",
            ":2: disabled_controls.0: each entry must be a mapping with control, reason",
        ),
        (
            "disabled_controls:\n  - {control: HP-07, reason: x, owner: me}\n",
            ":2: disabled_controls.0.owner: unknown key 'owner' (expected control, reason)",
        ),
        (
            "disabled_controls:\n  - {control: HP-07, reason: '  '}\n",
            ":2: disabled_controls.0: 'reason' is required and must be text",
        ),
        (
            "disabled_controls:\n  - {control: HP-07, reason: 3}\n",
            ":2: disabled_controls.0: 'reason' is required and must be text",
        ),
        (
            "disabled_controls:\n  - {control: hp-07, reason: x}\n",
            ":2: disabled_controls.0.control: unknown control 'hp-07': not a control id (expected e.g. HP-04 or "
            "SITE-01)",
        ),
        (
            "accepted_builds:\n  - {build: '20348.5080', as: nope, reason: y}\n",
            ":2: accepted_builds.0: 'nope' is not a build (expected CurrentBuild.UBR, e.g. 20348.5074)",
        ),
        (
            "accepted_builds:\n  - {build: '20348.5080', reason: y}\n",
            ":2: accepted_builds.0: 'as' is required and must be text",
        ),
    ],
)
def test_a_malformed_policy_is_refused_naming_line_and_key(tmp_path: Path, text: str, problem: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(err.value) == f"{path}{problem}"
