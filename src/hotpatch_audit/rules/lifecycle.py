"""Hotpatch support horizon per OS and edition (``rules/lifecycle.yml``), with where each date comes from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

from hotpatch_audit.errors import CatalogError
from hotpatch_audit.inputs.yamlsrc import YamlSourceError, parse_yaml

KEYS = {"os", "edition", "hotpatch_ends", "confirmed", "source", "url"}


@dataclass(frozen=True)
class Horizon:
    """Until when one OS build's Azure Edition receives hotpatches."""

    os: int
    edition: str
    hotpatch_ends: date
    confirmed: bool
    source: str
    url: str

    def describe(self) -> str:
        """E.g. ``hotpatch support for Windows Server 2022 ... ends 2027-10-12 (unconfirmed: ...)``."""
        note = "" if self.confirmed else " (date not confirmed by Microsoft; see the lifecycle data's source)"
        return f"hotpatch support for {self.edition} ends {self.hotpatch_ends}{note}"


@cache
def horizons() -> dict[int, Horizon]:
    """The bundled lifecycle data, by OS build; CatalogError naming file, line and key when it is malformed."""
    resource = resources.files("hotpatch_audit").joinpath("rules/lifecycle.yml")
    path = Path(str(resource))
    try:
        doc = parse_yaml(resource.read_text(encoding="utf-8"), path)
    except YamlSourceError as err:
        raise CatalogError(str(err)) from err
    rows = doc.data.get("lifecycle") if isinstance(doc.data, dict) else None
    if not isinstance(rows, list):
        raise CatalogError(f"{doc.where(('lifecycle',))}: must list one entry per OS build")
    out: dict[int, Horizon] = {}
    for i, row in enumerate(rows):
        at = ("lifecycle", i)
        if not isinstance(row, dict) or set(row) != KEYS:
            raise CatalogError(f"{doc.where(at)}: an entry has exactly the keys {', '.join(sorted(KEYS))}")
        if not isinstance(row["hotpatch_ends"], date) or not isinstance(row["confirmed"], bool):
            raise CatalogError(f"{doc.where(at)}: hotpatch_ends must be a date and confirmed true or false")
        out[int(row["os"])] = Horizon(
            int(row["os"]), str(row["edition"]), row["hotpatch_ends"], row["confirmed"], str(row["source"]),
            str(row["url"]),
        )  # fmt: skip
    return out
