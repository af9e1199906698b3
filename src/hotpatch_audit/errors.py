"""Exception hierarchy: usage errors stop the run, evaluation errors make one outcome `error`."""


class HotpatchAuditError(Exception):
    """Base class of every error the suite raises on purpose."""


class InputFileError(HotpatchAuditError):
    """A user-supplied file (inventory, policy, catalog, waivers) is malformed; the run cannot start."""


class InventoryError(InputFileError):
    """The inventory file is malformed or a --limit pattern matched nothing."""


class CatalogError(InputFileError):
    """A release catalog file is malformed."""


class PolicyError(InputFileError):
    """The policy file is malformed."""


class WaiverError(InputFileError):
    """The waiver file is malformed."""


class FactsError(HotpatchAuditError):
    """A guest's facts could not be obtained or are malformed: every control of that guest is `error`."""


class CollectionError(FactsError):
    """Live collection from a guest failed (unreachable, refused, timed out, bad output)."""


class NotEvaluatedError(HotpatchAuditError):
    """A control could not be evaluated from the facts at hand (unreadable fact, unknown build, stale catalog)."""
