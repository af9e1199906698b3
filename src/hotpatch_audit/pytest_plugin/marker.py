"""The ``@control`` marker a check carries: it ties the check to one control specification.

A built-in check passes its control's ``SPEC``; a site's own check can declare its control inline
(``@control("SITE-01", title=..., severity=...)``), which registers it like a built-in one, with the check's
docstring as rationale.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TypeVar, cast

import pytest

from hotpatch_audit.outcomes import Severity
from hotpatch_audit.rules.registry import Applies, ControlSpec, register

F = TypeVar("F", bound=Callable[..., None])


def control(
    spec: ControlSpec | str,
    *,
    title: str = "",
    severity: str = "medium",
    refs: tuple[str, ...] = (),
    reads: tuple[str, ...] = (),
    readiness: bool = False,
    azure_edition_only: bool = True,
) -> Callable[[F], F]:
    """Mark a check as verifying `spec` (or declare a site control by id); readiness adds ``-m readiness``."""

    def mark(func: F) -> F:
        declared = spec if isinstance(spec, ControlSpec) else _site_spec(func, spec)
        register(declared)
        marked = pytest.mark.control(declared.id)(func)
        return cast(F, pytest.mark.readiness(marked)) if declared.readiness else marked

    def _site_spec(func: F, control_id: str) -> ControlSpec:
        try:
            level = Severity(severity)
        except ValueError:
            msg = f"{control_id}: severity must be one of {', '.join(Severity)}, not {severity!r}"
            raise ValueError(msg) from None
        return ControlSpec(
            id=control_id,
            title=title or control_id,
            severity=level,
            rationale=" ".join((inspect.getdoc(func) or "").split()),
            refs=refs,
            reads=reads,
            readiness=readiness,
            applies=Applies.AZURE_EDITION if azure_edition_only else Applies.ANY_GUEST,
        )

    return mark
