"""Guest verdicts and the results file (results.json, schema_version 1): its model, writing, loading, schema."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from hotpatch_audit.errors import HotpatchAuditError
from hotpatch_audit.outcomes import GuestStatus, Outcome, Result, guest_status
from hotpatch_audit.rules.registry import ControlSpec
from hotpatch_audit.validation import surely_valid


@dataclass(frozen=True)
class GuestVerdict:
    """Whether a guest is compliant, non-compliant (any failure) or not evaluated (errors, no failure)."""

    guest: str
    status: GuestStatus
    facts: str | None = None
    facts_error: str | None = None
    as_of: str | None = None
    restarts: Mapping[str, Any] | None = None


def verdicts(
    guests: Sequence[str], results: Sequence[Result], details: Mapping[str, GuestVerdict] | None = None
) -> list[GuestVerdict]:
    """One verdict per guest, in the given order."""
    by_guest: dict[str, list[Outcome]] = {g: [] for g in guests}
    for r in results:
        by_guest.setdefault(r.guest, []).append(r.outcome)
    out = []
    for guest, outcomes in by_guest.items():
        base = (details or {}).get(guest, GuestVerdict(guest, GuestStatus.NOT_EVALUATED))
        status = guest_status(outcomes)
        if base.facts_error is not None and status is GuestStatus.COMPLIANT:
            status = GuestStatus.NOT_EVALUATED  # nothing about a guest without facts is proven
        out.append(GuestVerdict(guest, status, base.facts, base.facts_error, base.as_of, base.restarts))
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
    complete: bool = False
    incomplete_reason: str | None = None
    selection: Mapping[str, Any] = field(default_factory=dict)
    shard: str | None = None
    evidence: tuple[str, ...] = ()
    plaintext_basic: tuple[str, ...] = ()
    next_baseline: Mapping[str, str] = field(default_factory=dict)
    signer: str | None = None

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
            "complete": self.complete,
            "incomplete_reason": self.incomplete_reason,
            "selection": dict(self.selection),
            "shard": self.shard,
            "evidence": list(self.evidence),
            "plaintext_basic": list(self.plaintext_basic),
            "next_baseline": dict(self.next_baseline),
            "signer": self.signer,
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
    controls: Sequence[ControlSpec],
    guests: Sequence[GuestVerdict],
    results: Sequence[Result],
    waivers: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The complete results.json content (its schema holds by construction; every self-test run validates it)."""
    return {
        "schema_version": 1,
        "run": run.as_json(),
        "controls": [c.as_json() for c in sorted(controls, key=lambda c: c.id)],
        "guests": [{**asdict(g), "status": str(g.status)} for g in guests],
        "results": [r.as_json() for r in results],
        "waivers": waivers,
    }


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically-enough for evidence: complete file, stable key order, trailing newline.

    An object's lists (results, guests) hold one entry per line: as readable and as easy to diff or grep as
    fully indented JSON, and written by the C encoder, where ``indent`` falls back to a Python one that takes
    seconds for 90,000 results.
    """
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(_lined(data) + "\n", encoding="utf-8")
    tmp.replace(path)


def _lined(data: Any) -> str:
    if not isinstance(data, dict):
        return json.dumps(data, indent=2, ensure_ascii=False)
    members = []
    for key, value in data.items():
        if isinstance(value, list) and value:
            text = "[\n    " + ",\n    ".join(json.dumps(v, ensure_ascii=False) for v in value) + "\n  ]"
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        members.append(f"  {json.dumps(key, ensure_ascii=False)}: {text}")
    return "{\n" + ",\n".join(members) + "\n}" if members else "{}"


class ResultsFileError(HotpatchAuditError):
    """A run directory's results.json is missing, unreadable or does not match the results schema."""


def load_results(run_dir: Path) -> dict[str, Any]:
    """The run directory's results.json, validated against the results schema (the one loader of the file)."""
    path = run_dir / "results.json"
    try:
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if not surely_valid(results_schema(), doc):
            jsonschema.validate(doc, results_schema())
    except (OSError, ValueError) as err:
        msg = f"{path}: not a readable results file: {err}"
        raise ResultsFileError(msg) from err
    except jsonschema.ValidationError as err:
        where = ".".join(map(str, err.absolute_path)) or "(top level)"
        msg = f"{path}: does not match the results schema at {where}: {err.message}"
        raise ResultsFileError(msg) from err
    return doc


def results_of(doc: Mapping[str, Any]) -> list[Result]:
    """The typed results of a loaded results document."""
    return [Result.from_json(r) for r in doc["results"]]
