"""What the checks in ``tests/`` (and a site's own checks) import.

A check is declarative: ``@control(SPEC)`` ties it to a control specification in ``hotpatch_audit.rules``, and
the body evaluates the facts once and asserts. A site declares its own control inline:
``@control("SITE-01", title=..., severity=...)``.
"""

from hotpatch_audit.facts import GuestFacts
from hotpatch_audit.pytest_plugin.marker import control
from hotpatch_audit.rules.findings import Finding
from hotpatch_audit.rules.updates import UpdateContext

__all__ = ["Finding", "GuestFacts", "UpdateContext", "control"]
