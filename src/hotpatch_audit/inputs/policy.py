"""The audit policy: grace days, controls switched off (with a reason), builds accepted as equivalent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotpatch_audit.calendar import Build
from hotpatch_audit.errors import PolicyError
from hotpatch_audit.inputs.yamlsrc import YamlDocument, YamlSourceError, load_yaml
from hotpatch_audit.rules.registry import id_problem

DEFAULT_GRACE_DAYS = 14
POLICY_KEYS = frozenset({"grace_days", "disabled_controls", "accepted_builds"})


@dataclass(frozen=True)
class AcceptedBuild:
    """A build missing from the catalog (e.g. a private fix) that is judged as the catalog build `as_build`."""

    build: Build
    as_build: Build
    reason: str


@dataclass(frozen=True)
class Policy:
    """What the organisation decided; every field has a safe default."""

    grace_days: int = DEFAULT_GRACE_DAYS
    disabled_controls: Mapping[str, str] = field(default_factory=dict)
    accepted_builds: tuple[AcceptedBuild, ...] = ()
    source: str = "default policy"

    def accepted(self, build: Build) -> AcceptedBuild | None:
        """The acceptance entry for `build`, if the policy has one."""
        return next((a for a in self.accepted_builds if a.build == build), None)

    def summary(self) -> dict[str, Any]:
        """The policy as plain data, for evidence."""
        return {
            "source": self.source,
            "grace_days": self.grace_days,
            "disabled_controls": dict(self.disabled_controls),
            "accepted_builds": [
                {"build": str(a.build), "as": str(a.as_build), "reason": a.reason} for a in self.accepted_builds
            ],
        }


def load_policy(path: Path | None) -> Policy:
    """Load and validate a policy file; None gives the default policy."""
    if path is None:
        return Policy()
    try:
        doc = load_yaml(path)
    except YamlSourceError as err:
        raise PolicyError(str(err)) from err
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise PolicyError(f"{doc.where(())}: a policy is a mapping of {', '.join(sorted(POLICY_KEYS))}")
    for key in data:
        if key not in POLICY_KEYS:
            raise PolicyError(f"{doc.where((key,))}: unknown key '{key}' (expected {', '.join(sorted(POLICY_KEYS))})")
    grace = data.get("grace_days", DEFAULT_GRACE_DAYS)
    if isinstance(grace, bool) or not isinstance(grace, int) or not 0 <= grace <= 120:
        msg = f"{doc.where(('grace_days',))}: must be a whole number of days from 0 to 120, found {grace!r}"
        raise PolicyError(msg)
    return Policy(
        grace_days=grace,
        disabled_controls=_disabled(doc, data.get("disabled_controls") or []),
        accepted_builds=_accepted(doc, data.get("accepted_builds") or []),
        source=str(path),
    )


def _entries(doc: YamlDocument, key: str, value: Any, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise PolicyError(f"{doc.where((key,))}: must be a list, found {type(value).__name__}")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise PolicyError(f"{doc.where((key, i))}: each entry must be a mapping with {', '.join(fields)}")
        for k in item:
            if k not in fields:
                raise PolicyError(f"{doc.where((key, i, k))}: unknown key '{k}' (expected {', '.join(fields)})")
        for k in fields:
            if not isinstance(item.get(k), str) or not item[k].strip():
                raise PolicyError(f"{doc.where((key, i))}: '{k}' is required and must be text")
        out.append(item)
    return out


def _disabled(doc: YamlDocument, value: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, item in enumerate(_entries(doc, "disabled_controls", value, ("control", "reason"))):
        problem = id_problem(item["control"])
        if problem is not None:
            raise PolicyError(f"{doc.where(('disabled_controls', i, 'control'))}: {problem}")
        out[item["control"]] = item["reason"]
    return out


def _accepted(doc: YamlDocument, value: Any) -> tuple[AcceptedBuild, ...]:
    out = []
    for i, item in enumerate(_entries(doc, "accepted_builds", value, ("build", "as", "reason"))):
        try:
            build, as_build = Build.parse(item["build"]), Build.parse(item["as"])
        except ValueError as err:
            raise PolicyError(f"{doc.where(('accepted_builds', i))}: {err}") from err
        out.append(AcceptedBuild(build, as_build, item["reason"]))
    return tuple(out)
