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
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from hotpatch_audit.inputs.waivers import waiver_reason
from hotpatch_audit.outcomes import Outcome, Result


def write_junit(path: Path, results: Sequence[Result], durations: Mapping[str, float], started: datetime) -> None:
    """Write `results` (their tests' `durations` by node id) as pytest-style JUnit XML to `path`."""
    suite = ET.Element("testsuite", name="pytest")
    counts = dict.fromkeys(("errors", "failures", "skipped"), 0)
    total = 0.0
    for result in results:
        seconds = durations.get(result.test, 0.0)
        total += seconds
        classname, name = _address(result)
        case = ET.SubElement(suite, "testcase", classname=classname, name=name, time=f"{seconds:.3f}")
        properties = ET.SubElement(case, "properties")
        for key, value in result.properties():
            ET.SubElement(properties, "property", name=key, value=value)
        kind = _element(result.outcome)
        if kind is not None:
            tag, counter, extra = kind
            counts[counter] += 1
            # pytest's expected failure carries its reason: for a waived result, the waiver.
            text = waiver_reason(result.waiver) if result.waiver is not None else result.message
            ET.SubElement(case, tag, {"message": text, **extra}).text = result.message
    suite.attrib.update({k: str(v) for k, v in counts.items()})
    suite.attrib.update(
        tests=str(len(results)), time=f"{total:.3f}", timestamp=started.isoformat(), hostname=socket.gethostname()
    )
    root = ET.Element("testsuites", name="pytest tests")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


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
