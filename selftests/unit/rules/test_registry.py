"""The registry is the one list of control ids: well-formed ids only, one specification per id, plain data both ways."""

from __future__ import annotations

import pytest

from hotpatch_audit.outcomes import Severity
from hotpatch_audit.rules import registry
from hotpatch_audit.rules.controls import BUILTIN
from hotpatch_audit.rules.registry import Applies, ControlSpec, id_problem, lookup, register

SITE = ControlSpec(id="SITE-01", title="Backup agent", severity=Severity.LOW, rationale="Site rule.")


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    # Site controls registered here stay here: later tests see the built-in list only. The built-ins are
    # registered (by importing them) before the copy, so the real registry keeps them.
    assert {m.SPEC.id for m in BUILTIN} <= set(registry._REGISTRY)
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


@pytest.mark.parametrize("bad", ["hp-01", "HP-1", "HP01", "SITE-", "-01", "HP-01 ", "1P-01"])
def test_a_malformed_id_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="must look like HP-01 or SITE-01") as err:
        ControlSpec(id=bad, title="t", severity=Severity.LOW, rationale="r")
    assert repr(bad) in str(err.value)


def test_an_id_is_registered_once_per_specification() -> None:
    assert lookup("SITE-01") is None
    assert register(SITE) is SITE
    assert register(ControlSpec(id="SITE-01", title="Backup agent", severity=Severity.LOW, rationale="Site rule."))
    assert lookup("SITE-01") == SITE
    with pytest.raises(ValueError, match="control SITE-01 is declared twice with different specifications: keep one"):
        register(ControlSpec(id="SITE-01", title="Other", severity=Severity.LOW, rationale="Site rule."))
    assert lookup("SITE-01") == SITE


@pytest.mark.parametrize(
    ("control", "problem"),
    [
        ("HP-04", None),
        ("SITE-01", None),  # a site control is declared by its check, after the inputs are read
        ("hp-04", "unknown control 'hp-04': not a control id (expected e.g. HP-04 or SITE-01)"),
        (
            "HP-99",
            "unknown control 'HP-99' (expected one of HP-01, HP-02, HP-03, HP-04, HP-05, HP-06, HP-07, HP-08, "
            "HP-09, or a site control id)",
        ),
    ],
)
def test_id_problem(control: str, problem: str | None) -> None:
    assert id_problem(control) == problem


def test_a_spec_crosses_as_plain_data_and_back() -> None:
    spec = ControlSpec(
        id="SITE-02",
        title="Agent",
        severity=Severity.MEDIUM,
        rationale="Why.",
        refs=("https://example.invalid/a",),
        reads=("os.ubr",),
        readiness=True,
        applies=Applies.ANY_GUEST,
    )
    data = spec.as_json()
    assert data == {
        "id": "SITE-02",
        "title": "Agent",
        "severity": "medium",
        "rationale": "Why.",
        "refs": ["https://example.invalid/a"],
        "reads": ["os.ubr"],
        "readiness": True,
        "applies": "any guest",
    }
    assert ControlSpec.from_json(data) == spec
    assert all(type(v) in (str, bool, list) for v in data.values())


def test_from_json_fills_the_optional_fields_with_their_defaults() -> None:
    spec = ControlSpec.from_json({"id": "SITE-03", "title": "T", "severity": "high"})
    assert spec == ControlSpec(id="SITE-03", title="T", severity=Severity.HIGH, rationale="")
    assert (spec.refs, spec.reads, spec.readiness, spec.applies) == ((), (), False, Applies.AZURE_EDITION)
