"""junit.xml from the results: counts, pytest's addresses, and a check the run never evaluated as an error."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from hotpatch_audit.outcomes import Outcome, Result, Severity
from hotpatch_audit.run.junit import write_junit

WAIVER = {"entry": 1, "justification": "restart planned", "approved_by": "CAB", "expires": "2026-12-31"}


def _result(outcome: Outcome, test: str, **extra: object) -> Result:
    return Result("vm", "HP-04", "Restarted", Severity.HIGH, outcome, "VBS status is 1", test=test, **extra)  # type: ignore[arg-type]


def test_each_outcome_is_the_element_pytest_writes_and_the_suite_counts_them(tmp_path: Path) -> None:
    results = [
        _result(Outcome.PASSED, "tests/test_reboot.py::test_restarted[a]"),
        _result(Outcome.FAILED, "tests/test_reboot.py::test_restarted[b]"),
        _result(Outcome.ERROR, "tests/test_reboot.py::test_restarted[c]"),
        _result(Outcome.SKIPPED, "tests/test_reboot.py::test_restarted[d]"),
        _result(
            Outcome.WAIVED, "tests/test_reboot.py::test_restarted[e]", waiver={**WAIVER, "underlying_outcome": "failed"}
        ),
        _result(Outcome.ERROR, ""),
    ]
    path = tmp_path / "junit.xml"
    write_junit(path, results, {"tests/test_reboot.py::test_restarted[b]": 0.25}, datetime(2026, 5, 27, tzinfo=UTC))
    suite = ET.parse(path).getroot().find("testsuite")  # noqa: S314 - written just above
    assert suite is not None
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "6",
        "failures": "1",
        "errors": "2",
        "skipped": "2",
    }
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases[:2]] == [
        ("tests.test_reboot", "test_restarted[a]"),
        ("tests.test_reboot", "test_restarted[b]"),
    ]
    assert cases[1].get("time") == "0.250"
    assert [[e.tag for e in c if e.tag != "properties"] for c in cases] == [
        [],
        ["failure"],
        ["error"],
        ["skipped"],
        ["skipped"],
        ["error"],
    ]
    waived = cases[4].find("skipped")
    assert waived is not None
    assert waived.get("type") == "pytest.xfail"
    assert waived.get("message", "").startswith("waived: restart planned (approved by CAB")
    assert (cases[5].get("classname"), cases[5].get("name")) == ("not_evaluated", "HP-04[vm]")


def test_hostile_text_survives_as_text(tmp_path: Path) -> None:
    text = 'a <b> & "c" \u00e9\t]]>'
    path = tmp_path / "junit.xml"
    failed = Result("vm<1>", "HP-04", text, Severity.HIGH, Outcome.FAILED, text, test="tests/t.py::test_x[vm<1>]")
    write_junit(path, [failed], {}, datetime(2026, 5, 27, tzinfo=UTC))
    case = ET.parse(path).getroot().find("testsuite/testcase")  # noqa: S314 - written just above
    assert case is not None
    assert case.get("name") == "test_x[vm<1>]"
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["title"] == props["message"] == text
    failure = case.find("failure")
    assert failure is not None
    assert failure.text == failure.get("message") == text
