"""Checks that need only the audit's fixtures run lean: the evidence of pytest's full protocol, without its cost.

The same fleet, with every outcome (passed, failed, error, no facts, not applicable, waived, disabled by policy),
is audited twice: once as shipped, once with a plugin whose autouse fixture sends every check through pytest's
full protocol and has pytest write its own JUnit file too. Results, the run's junit.xml (and pytest's) and the
terminal must be the same; a spy plugin proves which way the checks ran.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditrun import ERROR_HP04, FAIL_HP04, FAIL_HP07, audit, write_fleet
from support import Run

FLEET = {
    "ok": {},
    "restart": FAIL_HP04,
    "pending": FAIL_HP07,
    "unread": ERROR_HP04,
    "waived": FAIL_HP04,
    "plain": {"os__operating_system_sku": 8, "os__edition_id": "ServerDatacenter", "os__caption": None},
    "gone": None,
}
SPY = """
import json
import os


def pytest_fixture_setup(fixturedef, request):
    with open(os.environ["HOTPATCH_SPY_OUT"], "a", encoding="utf-8") as out:
        out.write(fixturedef.argname + "\\n")
"""
FULL_PROTOCOL = """
import pytest


@pytest.fixture(autouse=True)
def site_session_note():
    yield
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    plugins = tmp_path_factory.mktemp("plugins")
    (plugins / "lean_spy.py").write_text(SPY)
    (plugins / "full_protocol.py").write_text(FULL_PROTOCOL)
    patch = pytest.MonkeyPatch()
    patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(plugins), os.environ.get("PYTHONPATH")])))
    out = {}
    for way in ("lean", "full"):
        tmp = tmp_path_factory.mktemp(way)
        # The full run also has pytest write its own JUnit file, the oracle for the run's junit.xml.
        plugin = ("-p", "full_protocol", "--junitxml", str(tmp / "pytest-junit.xml")) if way == "full" else ()
        write_fleet(tmp, FLEET)
        (tmp / "waivers.yml").write_text(
            "waivers:\n  - guests: [waived]\n    control: HP-04\n    justification: restart planned\n"
            "    approved_by: CAB\n    expires: 2026-12-31\n"
        )
        (tmp / "policy.yml").write_text("disabled_controls:\n  - {control: HP-09, reason: tracked elsewhere}\n")
        patch.setenv("HOTPATCH_SPY_OUT", str(tmp / "fixtures-set-up.txt"))
        out[way] = audit(
            tmp, "--waivers", str(tmp / "waivers.yml"), "--policy", str(tmp / "policy.yml"), "-p", "lean_spy", *plugin
        )
    yield out
    patch.undo()


def _fixtures_set_up(run: Run) -> set[str]:
    path = run.run_dir.parent.parent / "fixtures-set-up.txt"
    return set(path.read_text().split()) if path.exists() else set()


def test_the_shipped_checks_run_lean_and_another_fixture_sends_them_through_pytest(runs: dict[str, Run]) -> None:
    assert {"facts", "updates"} & _fixtures_set_up(runs["lean"]) == set()
    assert {"facts", "updates", "site_session_note"} <= _fixtures_set_up(runs["full"])


def _same(run: Run, text: str) -> str:
    """`text` with the run's own folder (each run has one) written as FLEET."""
    return text.replace(str(run.run_dir.parent.parent), "FLEET")


def test_every_outcome_is_the_same_either_way(runs: dict[str, Run]) -> None:
    lean, full = runs["lean"], runs["full"]
    assert lean.code == full.code == 1
    assert set(lean.outcomes().values()) == {"passed", "failed", "error", "skipped", "waived"}
    for part in ("results", "guests"):
        assert _same(lean, json.dumps(lean.results[part])) == _same(full, json.dumps(full.results[part]))
    assert lean.results["run"]["complete"] is full.results["run"]["complete"] is True


def _cases(path: Path) -> list[tuple[str, ...]]:
    """Each test case's address, properties and verdict element (pytest's own text and timing aside)."""
    cases = []
    for case in ET.parse(path).iter("testcase"):  # noqa: S314 - the suite's own output
        props = tuple(f"{p.get('name')}={p.get('value')}" for p in case.iter("property"))
        verdict = tuple(f"{e.tag}:{e.get('type', '')}" for e in case if e.tag != "properties")
        cases.append((case.get("classname", ""), case.get("name", ""), *props, *verdict))
    return cases


def test_junit_is_the_same_either_way_and_as_pytest_writes_it(runs: dict[str, Run]) -> None:
    ours = _cases(runs["lean"].run_dir / "junit.xml")
    assert len(ours) == len(FLEET) * 9
    assert [_same(runs["lean"], "|".join(c)) for c in ours] == [
        _same(runs["full"], "|".join(c)) for c in _cases(runs["full"].run_dir / "junit.xml")
    ]
    pytest_own = runs["full"].run_dir.parent.parent / "pytest-junit.xml"
    assert sorted(_cases(runs["full"].run_dir / "junit.xml")) == sorted(_cases(pytest_own))


def test_the_terminal_is_the_same_either_way(runs: dict[str, Run]) -> None:
    def findings(run: Run) -> list[str]:
        lines = run.output.splitlines()
        start = next(i for i, line in enumerate(lines) if "compliance findings" in line)
        return [_same(run, line) for line in lines[start:] if line.startswith(("FAILED ", "ERROR ", "WAIVED "))]

    assert len(findings(runs["lean"])) == 6
    assert findings(runs["lean"]) == findings(runs["full"])
