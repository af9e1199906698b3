"""Outcomes per (guest, control), guest verdicts and the results file (results.json, schema_version 1)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

# Exit codes of an audit run; pytest keeps 2 (interrupted), 3 (internal error), 4 (usage), 5 (nothing collected).
EXIT_COMPLIANT = 0
EXIT_NON_COMPLIANT = 1
EXIT_NOT_EVALUATED = 6


@dataclass(frozen=True)
class ControlMeta:
    """A control's metadata, declared by its check in ``tests/``."""

    id: str
    title: str
    severity: str
    rationale: str = ""
    refs: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    readiness: bool = False

    def as_json(self) -> dict[str, Any]:
        """Plain data for the results file."""
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "rationale": self.rationale,
            "refs": list(self.refs),
            "reads": list(self.reads),
            "readiness": self.readiness,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ControlMeta:
        """The inverse of :meth:`as_json`."""
        return cls(
            id=data["id"],
            title=data["title"],
            severity=data["severity"],
            rationale=data.get("rationale", ""),
            refs=tuple(data.get("refs", ())),
            reads=tuple(data.get("reads", ())),
            readiness=bool(data.get("readiness", False)),
        )


@dataclass(frozen=True)
class Result:
    """One test: one guest, one control, one outcome with its one-line message."""

    guest: str
    control: str
    title: str
    severity: str
    outcome: str
    message: str
    waiver: Mapping[str, Any] | None = None
    test: str = ""

    def as_json(self) -> dict[str, Any]:
        """Plain data for the results file."""
        data = asdict(self)
        data["waiver"] = dict(self.waiver) if self.waiver is not None else None
        return data


@dataclass(frozen=True)
class GuestVerdict:
    """Whether a guest is compliant, non-compliant (any failure) or not evaluated (errors, no failure)."""

    guest: str
    status: str
    facts: str | None = None
    facts_error: str | None = None
    as_of: str | None = None


def guest_status(outcomes: Iterable[str]) -> str:
    """Compliant only when every outcome is passed, skipped or waived; a failure outranks an error."""
    seen = set(outcomes)
    if "failed" in seen:
        return "non-compliant"
    if "error" in seen or not seen:
        return "not evaluated"
    return "compliant"


def exit_code(outcomes: Iterable[str]) -> int:
    """1 when any control failed, else 6 when any could not be evaluated, else 0 (passed, skipped, waived)."""
    seen = set(outcomes)
    if "failed" in seen:
        return EXIT_NON_COMPLIANT
    return EXIT_NOT_EVALUATED if "error" in seen else EXIT_COMPLIANT


def verdicts(
    guests: Sequence[str], results: Sequence[Result], details: Mapping[str, GuestVerdict] | None = None
) -> list[GuestVerdict]:
    """One verdict per guest, in the given order."""
    by_guest: dict[str, list[str]] = {g: [] for g in guests}
    for r in results:
        by_guest.setdefault(r.guest, []).append(r.outcome)
    out = []
    for guest, outcomes in by_guest.items():
        base = (details or {}).get(guest, GuestVerdict(guest, ""))
        out.append(GuestVerdict(guest, guest_status(outcomes), base.facts, base.facts_error, base.as_of))
    return out


@dataclass(frozen=True)
class RunInfo:
    """The ``run`` object of results.json."""

    id: str
    started: datetime
    finished: datetime
    as_of: str | None
    suite_version: str
    inventory_sha256: str
    catalog_newest: Mapping[str, str]
    catalog_sha256: str = ""
    catalog_sources: tuple[str, ...] = ()
    catalog_provenance: tuple[Mapping[str, Any], ...] = ()
    policy: Mapping[str, Any] = field(default_factory=dict)
    limit: str | None = None
    mode: str = "replay"
    operator: str = ""
    host: str = ""
    inventory: str = ""

    def as_json(self) -> dict[str, Any]:
        """Plain data for the results file."""
        return {
            "id": self.id,
            "started": timestamp(self.started),
            "finished": timestamp(self.finished),
            "as_of": self.as_of,
            "suite_version": self.suite_version,
            "inventory_sha256": self.inventory_sha256,
            "catalog_newest": dict(self.catalog_newest),
            "catalog_sha256": self.catalog_sha256,
            "catalog_sources": list(self.catalog_sources),
            "catalog_provenance": [dict(p) for p in self.catalog_provenance],
            "policy": dict(self.policy),
            "limit": self.limit,
            "mode": self.mode,
            "operator": self.operator,
            "host": self.host,
            "inventory": self.inventory,
        }


def timestamp(moment: datetime) -> str:
    """UTC ISO 8601 with ``Z``, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@cache
def results_schema() -> dict[str, Any]:
    """The JSON Schema of results.json, shipped in the package."""
    text = resources.files("hotpatch_audit").joinpath("schemas/results.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def results_document(
    run: RunInfo,
    controls: Sequence[ControlMeta],
    guests: Sequence[GuestVerdict],
    results: Sequence[Result],
    waivers: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The complete results.json content, validated against its schema."""
    doc = {
        "schema_version": 1,
        "run": run.as_json(),
        "controls": [c.as_json() for c in sorted(controls, key=lambda c: c.id)],
        "guests": [asdict(g) for g in guests],
        "results": [r.as_json() for r in results],
        "waivers": waivers,
    }
    jsonschema.validate(doc, results_schema())
    return doc


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically-enough for evidence: complete file, stable key order, trailing newline."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
