"""Every control's specification is true: the facts it declares are the facts its rule reads, and each control
has a passing, a failing and an error example."""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from collections.abc import Callable
from datetime import date
from types import ModuleType
from typing import Any

import pytest

from hotpatch_audit.errors import NotEvaluatedError
from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.inputs.policy import Policy
from hotpatch_audit.rules.catalog import load_catalog
from hotpatch_audit.rules.controls import BUILTIN
from hotpatch_audit.rules.registry import builtin_ids, specs
from hotpatch_audit.rules.updates import UpdateContext
from support import COMPLIANT, facts

PLAIN_DATACENTER = {
    "os__operating_system_sku": 8,
    "os__edition_id": "ServerDatacenter",
    "os__caption": "Microsoft Windows Server 2022 Datacenter",
}
LCU_2026_05 = {"id": "KB5087545", "description": "Security Update", "installed_on": "2026-05-14"}
BASELINE_2026_04 = {"id": "KB5082142", "description": "Security Update", "installed_on": "2026-04-15"}
CTX = UpdateContext(load_catalog(user=False), Policy(), date(2026, 5, 27))
FACT_KEYS = [
    f"{section}.{name}" for section, values in COMPLIANT.items() if isinstance(values, dict) for name in values
]
EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    # control: (passing changes, failing changes, error changes) to the compliant WS2022 guest; "as_of" changes
    # the evaluation date of the controls that take the update context
    "HP-01": ({}, PLAIN_DATACENTER, {"unreadable": ("os.operating_system_sku",)}),
    "HP-02": ({}, {"security__secure_boot_enabled": False}, {"unreadable": ("security.secure_boot_enabled",)}),
    "HP-03": ({}, {"os__ubr": 5139, "hotfixes": [LCU_2026_05]}, {"os__current_build": 26100, "os__ubr": 32690}),
    "HP-04": ({}, {"security__vbs_status": 1}, {"unreadable": ("security.vbs_status",)}),
    "HP-05": ({}, {"os__ubr": 4830}, {"os__ubr": 5300}),
    "HP-06": ({}, {"os__ubr": 5139}, {"unreadable": ("os.ubr",)}),
    "HP-07": ({}, {"reboot_pending__windows_update": True}, {"unreadable": ("reboot_pending.windows_update",)}),
    "HP-08": ({}, {"hotfixes": [LCU_2026_05]}, {"schema_version": 1}),
    "HP-09": ({}, {"as_of": date(2027, 10, 13)}, {"os__current_build": 17763}),
}


class _Recording:
    """A GuestFacts stand-in that notes every fact (``section.field``) an evaluation looks at."""

    def __init__(self, facts: GuestFacts, touched: set[str], section: str = "") -> None:
        self._facts, self._touched, self._section = facts, touched, section

    def unreadable(self, key: str) -> Any:
        self._touched.add(key)
        return self._facts.unreadable(key)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._facts, name)
        if not self._section and dataclasses.is_dataclass(value):
            return _Section(value, self._touched, name)
        self._touched.add(f"{self._section}.{name}" if self._section else name)
        return value


class _Section:
    def __init__(self, values: Any, touched: set[str], section: str) -> None:
        self._values, self._touched, self._section = values, touched, section

    def __getattr__(self, name: str) -> Any:
        self._touched.add(f"{self._section}.{name}")
        return getattr(self._values, name)


def _evaluator(module: ModuleType, as_of: date = CTX.as_of) -> Callable[[Any], Any]:
    # The signature, not the code object: a decorated (or mutation-tested) evaluate keeps its signature.
    takes_ctx = len(inspect.signature(module.evaluate).parameters) == 2
    ctx = dataclasses.replace(CTX, as_of=as_of)
    return (lambda f: module.evaluate(f, ctx)) if takes_ctx else module.evaluate


def _example(module: ModuleType, changes: dict[str, Any]) -> Any:
    """Evaluate `module` on the compliant guest with `changes` (and its "as_of", if any)."""
    changes = dict(changes)
    as_of = changes.pop("as_of", CTX.as_of)
    return _evaluator(module, as_of)(facts(**changes))


def _variants() -> list[GuestFacts]:
    """Guests that walk every branch: the examples, WS2025, and each fact absent or unreadable in turn."""
    out = [facts(**{k: v for k, v in c.items() if k != "as_of"}) for example in EXAMPLES.values() for c in example]
    out.append(facts(os__current_build=26100, os__ubr=32772, hotpatch__hotpatch_table_size=None))
    out.append(facts(os__current_build=17763))
    # A baseline-only guest: no hotpatch proves enrollment, so HP-03 reads the configuration.
    for base in ({}, {"os__ubr": 5020, "hotfixes": [BASELINE_2026_04]}):
        for key in FACT_KEYS:
            section, _, name = key.partition(".")
            absent: dict[str, Any] = {**base, f"{section}__{name}": None}
            out.append(facts(**absent))
            out.append(facts(**base, unreadable=(key,)))
    return out


def test_the_registry_lists_every_builtin_control_once() -> None:
    assert builtin_ids() == tuple(m.SPEC.id for m in BUILTIN) == tuple(EXAMPLES)
    assert [s.id for s in specs()] == sorted(s.id for s in specs())


@pytest.mark.parametrize("module", BUILTIN, ids=[m.SPEC.id for m in BUILTIN])
def test_facts_read_are_the_facts_the_rule_reads(module: ModuleType) -> None:
    touched: set[str] = set()
    evaluate = _evaluator(module)
    for variant in _variants():
        with contextlib.suppress(NotEvaluatedError):
            evaluate(_Recording(variant, touched))
    assert touched == set(module.SPEC.reads)


@pytest.mark.parametrize("module", BUILTIN, ids=[m.SPEC.id for m in BUILTIN])
def test_every_control_has_a_passing_a_failing_and_an_error_example(module: ModuleType) -> None:
    passing, failing, error = EXAMPLES[module.SPEC.id]
    assert _example(module, passing).compliant
    finding = _example(module, failing)
    assert not finding.compliant
    assert finding.message
    with pytest.raises(NotEvaluatedError):
        _example(module, error)
