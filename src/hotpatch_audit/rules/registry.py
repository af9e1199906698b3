"""The controls' specifications and the one list of control ids.

A control is one :class:`ControlSpec` beside its evaluation, in one module of ``rules/`` (built-in) or in a
site's check (``SITE-*``). Policy, waivers, the results file and the report all take their ids and metadata
from here, so a site control can be disabled and waived like a built-in one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hotpatch_audit.outcomes import Severity

CONTROL_ID = re.compile(r"^[A-Z][A-Z0-9]*-[0-9]{2,}$")
BUILTIN_PREFIX = "HP-"


class Applies(StrEnum):
    """Which guests a control judges; on the others it is ``skipped`` (not applicable)."""

    ANY_GUEST = "any guest"
    AZURE_EDITION = "Azure Edition guests"


@dataclass(frozen=True)
class ControlSpec:
    """Everything a control declares: identity, severity, why it matters, where Microsoft says so, what it reads."""

    id: str
    title: str
    severity: Severity
    rationale: str
    refs: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    readiness: bool = False
    applies: Applies = Applies.AZURE_EDITION

    def __post_init__(self) -> None:
        if not CONTROL_ID.match(self.id):
            msg = f"control id {self.id!r} must look like HP-01 or SITE-01 (capitals, a dash, two or more digits)"
            raise ValueError(msg)

    def as_json(self) -> dict[str, Any]:
        """Plain data for results.json (and for pytest-xdist workers to hand to the controller)."""
        return {
            "id": self.id,
            "title": self.title,
            "severity": str(self.severity),
            "rationale": self.rationale,
            "refs": list(self.refs),
            "reads": list(self.reads),
            "readiness": self.readiness,
            "applies": str(self.applies),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ControlSpec:
        """The inverse of :meth:`as_json`."""
        return cls(
            id=data["id"],
            title=data["title"],
            severity=Severity(data["severity"]),
            rationale=data.get("rationale", ""),
            refs=tuple(data.get("refs", ())),
            reads=tuple(data.get("reads", ())),
            readiness=bool(data.get("readiness", False)),
            applies=Applies(data.get("applies", Applies.AZURE_EDITION)),
        )


_REGISTRY: dict[str, ControlSpec] = {}


def register(spec: ControlSpec) -> ControlSpec:
    """Add a control; the same id may be registered again only with the same specification."""
    known = _REGISTRY.get(spec.id)
    if known is not None and known != spec:
        msg = f"control {spec.id} is declared twice with different specifications: keep one"
        raise ValueError(msg)
    _REGISTRY[spec.id] = spec
    return spec


def lookup(control_id: str) -> ControlSpec | None:
    """The specification of `control_id`, if registered."""
    _load_builtins()
    return _REGISTRY.get(control_id)


def specs() -> list[ControlSpec]:
    """Every registered control, by id."""
    _load_builtins()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def builtin_ids() -> tuple[str, ...]:
    """The ids of the suite's own controls."""
    return tuple(s.id for s in specs() if s.id.startswith(BUILTIN_PREFIX))


def id_problem(control_id: str) -> str | None:
    """Why `control_id` cannot name a control in a policy or waiver file, or None when it can.

    Built-in ids must exist; a site id (``SITE-01``) is accepted here and checked once the checks are collected,
    because a site control is declared by its check.
    """
    if not CONTROL_ID.match(control_id):
        return f"unknown control '{control_id}': not a control id (expected e.g. HP-04 or SITE-01)"
    if control_id.startswith(BUILTIN_PREFIX) and control_id not in builtin_ids():
        return f"unknown control '{control_id}' (expected one of {', '.join(builtin_ids())}, or a site control id)"
    return None


def _load_builtins() -> None:
    # Importing the package registers every built-in control (each module registers its own SPEC).
    import hotpatch_audit.rules.controls  # noqa: F401
