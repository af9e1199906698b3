"""HP-08 (twelve months on the hotpatch track) and HP-09 (support horizon) on recorded facts, and reading a
version-1 facts file that carries no history."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import parse_facts
from hotpatch_audit.inputs.policy import Policy
from hotpatch_audit.rules.catalog import load_catalog
from hotpatch_audit.rules.hp08_twelve_months import evaluate as twelve_months
from hotpatch_audit.rules.hp09_support_horizon import evaluate as support_horizon
from hotpatch_audit.rules.lifecycle import horizons
from hotpatch_audit.rules.updates import UpdateContext
from support import COMPLIANT, facts, facts_doc

CTX = UpdateContext(load_catalog(user=False), Policy(), date(2026, 5, 27))
BOOT = "Microsoft-Windows-Kernel-General"


def event(time: str, event_id: int, source: str = BOOT, **extra: Any) -> dict[str, Any]:
    return {"time": time, "id": event_id, "source": source, **extra}


def history(log_start: str, *events: dict[str, Any]) -> dict[str, Any]:
    return {"log_start": log_start, "events": list(events)}


# Took the 2026-03 standard update KB5078766 instead of hotpatch KB5078737, restarted for it the next night.
TOOK_THE_LCU = {
    "hotfixes": [
        {"id": "KB5078766", "description": "Security Update", "installed_on": "2026-03-11"},
        {"id": "KB5087424", "description": "Security Update", "installed_on": "2026-05-13"},
    ],
    "history": history(
        "2025-04-02T08:00:00Z",
        event("2026-03-12T01:59:00Z", 1074, "User32", process="C:\\Windows\\system32\\svchost.exe (VM)",
              reason_code="0x80020010", shutdown_type="restart"),
        event("2026-03-12T02:01:00Z", 12),
        event("2026-03-20T02:01:00Z", 12),
    ),
}  # fmt: skip


def test_hp08_passes_over_a_full_year_on_the_track() -> None:
    finding = twelve_months(facts(), CTX)
    assert finding.compliant
    assert finding.message == "no standard update in the 8 hotpatch months 2025-06..2026-05 (2025-05-27..2026-05-27)"


def test_hp08_names_month_kb_and_restart_of_a_standard_update_in_a_hotpatch_month() -> None:
    finding = twelve_months(facts(**TOOK_THE_LCU), CTX)
    assert not finding.compliant
    assert (
        "2026-03: installed standard update KB5078766 (20348.4893) on 2026-03-11 instead of KB5078737; "
        "restarted 2026-03-12T02:01:00Z (requested by C:\\Windows\\system32\\svchost.exe (VM), reason 0x80020010)"
    ) in finding.message
    assert finding.message.startswith("1 avoidable restart(s) in 8 hotpatch months")


def test_hp08_a_baseline_restart_is_expected_not_avoidable() -> None:
    baseline = {"id": "KB5082142", "description": "Security Update", "installed_on": "2026-04-15"}
    assert twelve_months(facts(hotfixes=[baseline]), CTX).compliant


def test_hp08_states_a_window_shorter_than_twelve_months() -> None:
    short = facts(history=history("2026-01-20T00:00:00Z", event("2026-04-15T02:10:00Z", 12)))
    finding = twelve_months(short, CTX)
    assert finding.compliant
    assert "the System log covers only 127 days, from 2026-01-20: less than 12 months" in finding.message
    failing = facts(**{**TOOK_THE_LCU, "history": history("2026-01-20T00:00:00Z")})
    result = twelve_months(failing, CTX)
    assert not result.compliant
    assert "less than 12 months" in result.message
    assert "no restart recorded since" in result.message


def test_hp08_errors_without_history_or_a_window() -> None:
    with pytest.raises(NotEvaluatedError, match="no oldest event"):
        twelve_months(facts(history={"log_start": None, "events": []}), CTX)
    with pytest.raises(NotEvaluatedError, match="holds no hotpatch month"):
        twelve_months(facts(history=history("2026-05-20T00:00:00Z")), CTX)
    doc = facts_doc(history={"log_start": None, "events": None})
    doc["errors"] = [{"probe": "history", "message": "The RPC server is unavailable."}]
    with pytest.raises(NotEvaluatedError, match=r"history\.log_start\) could not be read: The RPC server"):
        twelve_months(parse_facts(doc, "selftest"), CTX)


def test_a_version_1_facts_file_is_read_and_history_controls_say_it_was_not_collected() -> None:
    doc = facts_doc()
    doc["schema_version"] = 1
    del doc["history"]
    for key in ("vbs_policy", "hvci_enabled", "credential_guard"):
        del doc["security"][key]
    for key in ("update_exe_volatile", "pending_file_rename_2", "domain_join", "hostname_change"):
        del doc["reboot_pending"][key]
    v1 = parse_facts(doc, "old.json")
    assert v1.schema_version == 1
    with pytest.raises(NotEvaluatedError, match="not collected by this facts file \\(schema_version 1\\)"):
        twelve_months(v1, CTX)
    assert support_horizon(v1, CTX).compliant  # HP-09 needs nothing version 2 added


def test_a_version_2_facts_file_must_carry_the_new_facts() -> None:
    doc = facts_doc()
    del doc["history"]
    with pytest.raises(Exception, match="'history' is a required property"):
        parse_facts(doc, "new.json")
    assert COMPLIANT["schema_version"] == 2


def test_hp09_passes_with_the_days_left_and_fails_after_the_end() -> None:
    finding = support_horizon(facts(), CTX)
    assert finding.compliant
    assert "ends 2027-10-12" in finding.message
    assert "ends in 503 days" in finding.message
    assert "not confirmed by Microsoft" in finding.message
    after = support_horizon(facts(), dataclasses.replace(CTX, as_of=date(2027, 10, 13)))
    assert not after.compliant
    assert "ended 1 days before 2027-10-13" in after.message
    assert support_horizon(facts(os__current_build=26100, os__ubr=32772), CTX).message.endswith(
        "ends in 1266 days (as of 2026-05-27)"
    )


def test_hp09_errors_on_an_os_without_lifecycle_data() -> None:
    with pytest.raises(NotEvaluatedError, match="no hotpatch lifecycle data for OS build 17763"):
        support_horizon(facts(os__current_build=17763), CTX)
    with pytest.raises(NotEvaluatedError, match="CurrentBuild"):
        support_horizon(facts(unreadable=("os.current_build",)), CTX)


def test_lifecycle_data_names_its_source() -> None:
    for horizon in horizons().values():
        assert horizon.source
        assert horizon.url.startswith("https://learn.microsoft.com/")
