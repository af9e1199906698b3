"""Facts files and policy files: strict validation with messages that name the key path."""

import json
from pathlib import Path
from typing import Any

import pytest

from hotpatch_audit.calendar import Build
from hotpatch_audit.errors import FactsError, PolicyError
from hotpatch_audit.facts import load_facts_file, parse_facts
from hotpatch_audit.inputs.policy import load_policy
from support import facts_doc, write_facts


def test_design_example_parses() -> None:
    parsed = parse_facts(facts_doc(), "x.json")
    assert parsed.os.build == "20348.5074"
    assert parsed.hotfixes is not None
    assert parsed.hotfixes[0].id == "KB5087424"


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        ({"os__ubr": "5074"}, "os.ubr", "is not of type"),
        ({"security__vbs_status": 7}, "security.vbs_status", "greater than the maximum"),
        ({"collected_at": "yesterday"}, "collected_at", "does not have the expected format"),
        ({"schema_version": 3}, "schema_version", "is not one of [1, 2]"),
    ],
)
def test_invalid_facts_name_the_key_path(change: dict[str, Any], where: str, problem: str) -> None:
    with pytest.raises(FactsError) as err:
        parse_facts(facts_doc(**change), "vm.json")
    assert str(err.value).startswith(f"vm.json: {where}: ")
    assert problem in str(err.value)


def test_missing_section_is_named() -> None:
    doc = facts_doc()
    del doc["reboot_pending"]
    with pytest.raises(FactsError, match="'reboot_pending' is a required property"):
        parse_facts(doc, "vm.json")


def test_facts_file_errors(tmp_path: Path) -> None:
    with pytest.raises(FactsError, match="no facts file for guest 'vm'"):
        load_facts_file(tmp_path / "vm.json", "vm")
    (tmp_path / "vm.json").write_text("{not json")
    with pytest.raises(FactsError, match=r"vm.json:1: not valid JSON"):
        load_facts_file(tmp_path / "vm.json", "vm")
    path = write_facts(tmp_path, facts_doc("other"))
    with pytest.raises(FactsError, match="the file is for 'other', expected 'vm'"):
        load_facts_file(path, "vm")


def test_unknown_extra_keys_are_allowed() -> None:
    doc = facts_doc()
    doc["extra"] = {"anything": 1}
    doc["os"]["product_name"] = "x"
    assert parse_facts(json.loads(json.dumps(doc)), "vm.json").guest == "vm"


def test_policy_loads(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(
        "grace_days: 7\n"
        "disabled_controls:\n  - {control: HP-07, reason: restarts are orchestrated elsewhere}\n"
        "accepted_builds:\n  - {build: '20348.5080', as: '20348.5074', reason: private fix}\n"
    )
    policy = load_policy(path)
    assert policy.grace_days == 7
    assert policy.disabled_controls == {"HP-07": "restarts are orchestrated elsewhere"}
    accepted = policy.accepted(Build(20348, 5080))
    assert accepted is not None
    assert accepted.as_build == Build(20348, 5074)
    assert load_policy(None).grace_days == 14


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("grace_days: soon\n", ":1: grace_days", "whole number of days"),
        ("grace: 3\n", ":1: grace", "unknown key 'grace'"),
        ("disabled_controls:\n  - {control: HP-99, reason: x}\n", ":2: disabled_controls.0.control", "HP-99"),
        ("disabled_controls:\n  - {control: HP-07}\n", ":2: disabled_controls.0", "'reason' is required"),
        ("accepted_builds:\n  - {build: x, as: '20348.1', reason: y}\n", ":2: accepted_builds.0", "is not a build"),
        ("grace_days: [1\n", ":2", "YAML syntax error"),
    ],
)
def test_malformed_policy(tmp_path: Path, text: str, where: str, problem: str) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(text)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(err.value).startswith(str(path))
    assert where in str(err.value)
    assert problem in str(err.value)
