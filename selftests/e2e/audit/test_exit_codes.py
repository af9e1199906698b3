"""Exit codes a gate script can rely on: 0 compliant, 1 a control failed, 6 something could not be evaluated.

pytest keeps its own codes: 2 interrupted, 3 internal error, 4 usage error, 5 nothing collected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditrun import ERROR_HP04, FAIL_HP04, FAIL_HP07, audit, write_fleet

WAIVE_HP04 = (
    "waivers:\n  - {guests: [all], control: HP-04, justification: planned, approved_by: CAB, expires: 2026-12-31}\n"
)


@pytest.mark.parametrize(
    ("fleet", "waived", "code", "outcomes"),
    [
        pytest.param({"a": {}, "b": {}}, False, 0, {"passed"}, id="all-pass"),
        pytest.param({"a": FAIL_HP07, "b": {}}, False, 1, {"passed", "failed"}, id="a-failure"),
        pytest.param(
            {"a": FAIL_HP04, "b": ERROR_HP04}, False, 1, {"passed", "failed", "error"}, id="failure-and-error"
        ),
        pytest.param({"a": ERROR_HP04, "b": None}, False, 6, {"passed", "error"}, id="only-errors"),
        pytest.param({"a": FAIL_HP04, "b": {}}, True, 0, {"passed", "waived"}, id="only-waived-failures"),
        pytest.param({"a": ERROR_HP04}, True, 0, {"passed", "waived"}, id="only-waived-errors"),
    ],
)
def test_exit_code(
    tmp_path: Path, fleet: dict[str, dict[str, Any]], waived: bool, code: int, outcomes: set[str]
) -> None:
    write_fleet(tmp_path, fleet)
    extra = []
    if waived:
        (tmp_path / "waivers.yml").write_text(WAIVE_HP04)
        extra = ["--waivers", str(tmp_path / "waivers.yml")]
    run = audit(tmp_path, *extra)
    assert {r["outcome"] for r in run.results["results"]} == outcomes
    assert run.code == code, run.output


def test_pytest_keeps_its_own_code_when_nothing_is_collected(tmp_path: Path) -> None:
    write_fleet(tmp_path, {"a": FAIL_HP04})
    assert audit(tmp_path, "-k", "no_such_check").code == 5


@pytest.mark.parametrize(("guest", "code"), [(FAIL_HP04, 0), (ERROR_HP04, 6)])
def test_exit_codes_and_waivers_hold_under_xdist(tmp_path: Path, guest: dict[str, Any], code: int) -> None:
    write_fleet(tmp_path, {"a": guest, "b": {}})
    waivers = tmp_path / "waivers.yml"
    waivers.write_text(WAIVE_HP04.replace("[all]", "[a]") if code == 0 else WAIVE_HP04.replace("[all]", "[b]"))
    run = audit(tmp_path, "--waivers", str(waivers), "-n", "2")
    assert run.code == code, run.output
    expected = "waived" if code == 0 else "error"
    assert run.outcome("a", "HP-04")["outcome"] == expected
    if code == 0:
        assert run.outcome("a", "HP-04")["waiver"]["underlying_outcome"] == "failed"
