"""Cross-check the catalog against an MSRC Security Update Guide CVRF v3 document (JSON).

A CVRF month lists, per vulnerability, vendor fixes (remediation ``Type`` 2) with ``SubType`` "Security Update"
or "Security Hotpatch Update" (also written without spaces), the KB number in ``Description``, the
``FixedBuild`` and the product ids they apply to. CVRF is known to contain mistakes, so what it says is only
compared with the catalog and reported, never applied.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from hotpatch_audit.calendar import Build
from hotpatch_audit.rules.catalog import Catalog

# Product names of the hotpatch OSes in the CVRF product tree ("Windows Server 2022 (Server Core installation)").
PRODUCTS = {"Windows Server 2022": 20348, "Windows Server 2025": 26100}
SUBTYPES = {"securityupdate": False, "securityhotpatchupdate": True}
_FIXED_BUILD = re.compile(r"^10\.0\.(\d+)\.(\d+)$")


class CvrfError(ValueError):
    """The document is not a CVRF v3 JSON document in the shape this reader knows."""


@dataclass(frozen=True, order=True)
class Fix:
    """One vendor fix for a hotpatch OS: KB, fixed build and whether MSRC calls it a hotpatch."""

    os: int
    kb: str
    build: Build
    hotpatch: bool


@dataclass(frozen=True)
class Finding:
    """A CVRF fix compared with the catalog: ``conflict`` (build or track differ) or ``missing``."""

    kind: str
    fix: Fix
    message: str


def read_fixes(text: str) -> tuple[str, list[Fix]]:
    """The document id (e.g. ``2026-Aug``) and the distinct fixes for Windows Server 2022 and 2025."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        msg = f"not JSON (line {err.lineno}): ask the API for JSON with 'Accept: application/json'"
        raise CvrfError(msg) from err
    if not isinstance(doc, dict) or "Vulnerability" not in doc or "ProductTree" not in doc:
        hint = " (this is the list of documents: pass one document, e.g. .../cvrf/2026-Aug)" if "value" in doc else ""
        raise CvrfError(f"no 'ProductTree' and 'Vulnerability': not a CVRF document{hint}")
    doc_id = _get(doc, "DocumentTracking", "Identification", "ID", "Value") or "unknown"
    products = _products(doc)
    fixes: set[Fix] = set()
    for v, vuln in enumerate(_list(doc, "Vulnerability")):
        for r, rem in enumerate(_list(vuln, "Remediations")):
            hotpatch = SUBTYPES.get(str(rem.get("SubType", "")).replace(" ", "").lower())
            if rem.get("Type") != 2 or hotpatch is None:
                continue
            oses = {products[p] for p in rem.get("ProductID") or [] if p in products}
            if not oses:
                continue
            at = f"Vulnerability[{v}] ({vuln.get('CVE', '?')}) Remediations[{r}]"
            kb = str(_get(rem, "Description", "Value") or "")
            if not kb.isdigit():
                raise CvrfError(f"{at}: Description {kb!r} is not a KB number")
            match = _FIXED_BUILD.match(str(rem.get("FixedBuild") or ""))
            if match is None:
                raise CvrfError(f"{at}: FixedBuild {rem.get('FixedBuild')!r} is not 10.0.BUILD.UBR")
            build = Build(int(match.group(1)), int(match.group(2)))
            for os_build in oses:
                if build.major != os_build:
                    raise CvrfError(f"{at}: FixedBuild {build} is listed for OS build {os_build}")
                fixes.add(Fix(os_build, f"KB{kb}", build, hotpatch))
    return str(doc_id), sorted(fixes)


def compare(catalog: Catalog, fixes: list[Fix]) -> list[Finding]:
    """What CVRF says that the catalog does not: a different build or track for a KB, or a KB it lacks."""
    rows = {(r.os, r.kb): r for r in catalog.releases}
    findings = []
    for fix in fixes:
        label = "Security Hotpatch Update" if fix.hotpatch else "Security Update"
        row = rows.get((fix.os, fix.kb))
        if row is None:
            same_build = [r.kb for r in catalog.find_all(fix.build)]
            also = f" (the catalog has build {fix.build} as {', '.join(same_build)})" if same_build else ""
            message = f"{fix.kb} {fix.build} ({label}) is not in the catalog{also}"
            findings.append(Finding("missing", fix, message))
            continue
        if row.build != fix.build:
            message = f"{fix.kb}: CVRF says build {fix.build}, the catalog says {row.describe()} ({row.source})"
            findings.append(Finding("conflict", fix, message))
        elif fix.hotpatch != (row.track == "hotpatch"):
            message = f"{fix.kb}: CVRF says {label}, the catalog says {row.describe()} ({row.source})"
            findings.append(Finding("conflict", fix, message))
    return findings


def _products(doc: dict[str, Any]) -> dict[str, int]:
    out = {}
    for item in _list(doc["ProductTree"], "FullProductName"):
        name, pid = str(item.get("Value", "")), item.get("ProductID")
        for prefix, os_build in PRODUCTS.items():
            if pid is not None and (name == prefix or name.startswith(f"{prefix} (")):
                out[str(pid)] = os_build
    return out


def _list(obj: Any, key: str) -> list[dict[str, Any]]:
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise CvrfError(f"'{key}' is not a list of objects")
    return value


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj
