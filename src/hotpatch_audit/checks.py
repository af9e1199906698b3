"""What the checks in ``tests/`` import: the ``control`` marker and the evaluation functions.

A check is declarative: ``@control(...)`` carries the metadata, the docstring the rationale, and the body
evaluates the facts once and asserts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

import pytest

from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.rules.controls import (
    Finding,
    azure_edition_image,
    hotpatch_enrolled,
    latest_release_installed,
    no_restart_pending,
    on_hotpatch_track,
    platform_prerequisites,
    restarted_after_enablement,
)
from hotpatch_audit.rules.updates import UpdateContext

__all__ = [
    "Finding",
    "GuestFacts",
    "UpdateContext",
    "azure_edition_image",
    "control",
    "hotpatch_enrolled",
    "latest_release_installed",
    "no_restart_pending",
    "on_hotpatch_track",
    "platform_prerequisites",
    "restarted_after_enablement",
]

F = TypeVar("F", bound=Callable[..., None])
SEVERITIES = ("high", "medium", "low")


def control(
    control_id: str,
    *,
    title: str,
    severity: str,
    reads: tuple[str, ...] = (),
    refs: tuple[str, ...] = (),
    readiness: bool = False,
    azure_edition_only: bool = True,
) -> Callable[[F], F]:
    """Mark a check as control `control_id`; `readiness` adds it to the ``-m readiness`` gate.

    `reads` names the facts the control judges (shown as evidence); `azure_edition_only` makes the control
    ``skipped`` (not applicable) on a guest whose SKU is known and is not Azure Edition.
    """
    if severity not in SEVERITIES:
        msg = f"{control_id}: severity must be one of {', '.join(SEVERITIES)}, not {severity!r}"
        raise ValueError(msg)

    def mark(func: F) -> F:
        marked = pytest.mark.control(
            control_id,
            title=title,
            severity=severity,
            reads=reads,
            refs=refs,
            readiness=readiness,
            azure_edition_only=azure_edition_only,
        )(func)
        return cast(F, pytest.mark.readiness(marked)) if readiness else marked

    return mark
