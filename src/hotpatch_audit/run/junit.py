"""``junit.xml`` of a run, written from its results: one test case per (guest, control), as pytest would write it.

The run writes its JUnit file from the decided results rather than through pytest's ``--junitxml`` writer: that
writer keeps two reports and an XML tree per test until the end (hundreds of MiB at 10,000 guests) and needs a
teardown report per test, and the results already say everything it would. The shape is pytest's (``testsuites`` >
``testsuite name="pytest"`` > ``testcase classname name time`` with ``properties`` and ``failure``/``error``/
``skipped``), so CI systems read it alike; a waived result is pytest's expected failure, a skip with
``type="pytest.xfail"``. An expected result the run never evaluated is an error test case, so the file, like
results.json, never shows a missing check as a pass.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from hotpatch_audit.inputs.waivers import waiver_reason
from hotpatch_audit.outcomes import Outcome, Result


def write_junit(path: Path, results: Sequence[Result], durations: Mapping[str, float], started: datetime) -> None:
    """Write `results` (their tests' `durations` by node id) as pytest-style JUnit XML to `path`.

    The XML is written as text, one test case at a time: building an element tree of 90,000 test cases with
    their properties first took seconds and hundreds of MiB.
    """
    counts = dict.fromkeys(("errors", "failures", "skipped"), 0)
    total = 0.0
    cases = []
    for result in results:
        seconds = durations.get(result.test, 0.0)
        total += seconds
        classname, name = _address(result)
        props = "".join(f"<property name={_attr(k)} value={_attr(v)} />" for k, v in result.properties())
        verdict = ""
        kind = _element(result.outcome)
        if kind is not None:
            tag, counter, extra = kind
            counts[counter] += 1
            # pytest's expected failure carries its reason: for a waived result, the waiver.
            text = waiver_reason(result.waiver) if result.waiver is not None else result.message
            attrs = "".join(f" {k}={_attr(v)}" for k, v in {"message": text, **extra}.items())
            verdict = f"<{tag}{attrs}>{_text(result.message)}</{tag}>"
        cases.append(
            f'<testcase classname={_attr(classname)} name={_attr(name)} time="{seconds:.3f}">'
            f"<properties>{props}</properties>{verdict}</testcase>"
        )
    suite = {
        "name": "pytest",
        **{k: str(v) for k, v in counts.items()},
        "tests": str(len(results)),
        "time": f"{total:.3f}",
        "timestamp": started.isoformat(),
        "hostname": socket.gethostname(),
    }
    head = "".join(f" {k}={_attr(v)}" for k, v in suite.items())
    with path.open("w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='utf-8'?>\n")
        out.write(f'<testsuites name="pytest tests"><testsuite{head}>')
        out.writelines(cases)
        out.write("</testsuite></testsuites>")


_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#09;"}
)


def _text(value: str) -> str:
    return value.translate(_TEXT)


def _attr(value: str) -> str:
    return f'"{value.translate(_ATTR)}"'


def _address(result: Result) -> tuple[str, str]:
    """The classname (``tests.test_image``) and name (``test_azure_edition_image[guest]``) of the test."""
    if not result.test:
        return "not_evaluated", f"{result.control}[{result.guest}]"
    module, _, name = result.test.partition("::")
    classname = module.removesuffix(".py").replace("/", ".")
    *classes, function = name.split("::")
    return ".".join([classname, *classes]), function


def _element(outcome: Outcome) -> tuple[str, str, dict[str, str]] | None:
    if outcome is Outcome.FAILED:
        return "failure", "failures", {}
    if outcome is Outcome.ERROR:
        return "error", "errors", {}
    if outcome is Outcome.SKIPPED:
        return "skipped", "skipped", {"type": "pytest.skip"}
    if outcome is Outcome.WAIVED:
        return "skipped", "skipped", {"type": "pytest.xfail"}
    return None
