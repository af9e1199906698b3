"""``python -m hotpatch_audit merge RUN_DIR... --out DIR``: join shard runs into one run directory.

Shards of one audit (``--shard K/N``, or one job per site) each write a run directory. Merging them gives one
``results.json``, one ``junit.xml``, all facts, one report and a new ``manifest.sha256``; each input run is
first checked against its own manifest. Runs evaluated against different catalogs,
policies or as-of dates answer different questions, so they are refused unless ``--allow-mixed`` is given;
a guest audited by two runs is always refused.
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema

from hotpatch_audit.errors import HotpatchAuditError
from hotpatch_audit.report import rerender
from hotpatch_audit.run.integrity import MANIFEST, IntegrityError, manifest_digest, verify, write_manifest
from hotpatch_audit.run.results import ResultsFileError, load_results, results_schema, write_json
from hotpatch_audit.run.signing import SigningError, key_fingerprint, key_option, sign_manifest
from hotpatch_audit.validation import surely_valid

COMPARED = ("catalog_sha256", "policy", "as_of", "suite_version", "mode", "inventory_sha256", "limit")
EXIT_MERGED, EXIT_REFUSED, EXIT_INCOMPLETE = 0, 2, 3
UNMATCHED = "matched nothing"


class MergeError(HotpatchAuditError):
    """The runs cannot be merged as asked."""


def load_sealed(run_dir: Path) -> tuple[dict[str, Any], str]:
    """A run's results.json and its manifest's digest, once the run directory matches its manifest exactly."""
    try:
        if not (run_dir / MANIFEST).is_file():
            msg = f"{run_dir}: no {MANIFEST}: merge takes sealed run directories only (an unsealed one proves nothing)"
            raise MergeError(msg)
        check = verify(run_dir)
        if not check.ok:
            msg = f"{run_dir} differs from its {MANIFEST}: {'; '.join(check.problems())}"
            raise MergeError(msg)
        return load_results(run_dir), manifest_digest(run_dir)
    except (IntegrityError, ResultsFileError) as err:
        raise MergeError(str(err)) from err


def merge_runs(
    run_dirs: Sequence[Path], out: Path, *, allow_mixed: bool = False, signer: str | None = None
) -> dict[str, Any]:
    """Merge `run_dirs` into the new directory `out`; return the merged results document."""
    if len(run_dirs) < 2:
        msg = "merge needs at least two run directories"
        raise MergeError(msg)
    sealed = [load_sealed(d) for d in run_dirs]
    docs = [doc for doc, _ in sealed]
    _check_compatible(run_dirs, docs, allow_mixed=allow_mixed)
    owner: dict[str, Path] = {}
    for run_dir, doc in zip(run_dirs, docs, strict=True):
        for guest in doc.get("guests", []):
            if guest["guest"] in owner:
                msg = f"guest '{guest['guest']}' is in both {owner[guest['guest']]} and {run_dir}: shards overlap"
                raise MergeError(msg)
            owner[guest["guest"]] = run_dir
    if out.exists() and any(out.iterdir()):
        msg = f"--out {out}: the directory exists and is not empty"
        raise MergeError(msg)
    (out / "facts").mkdir(parents=True, exist_ok=True)
    for run_dir in run_dirs:
        for facts in sorted((run_dir / "facts").glob("*.json")):
            shutil.copyfile(facts, out / "facts" / facts.name)
    merged = _merged_document(docs, [digest for _, digest in sealed], signer)
    if not surely_valid(results_schema(), merged):
        jsonschema.validate(merged, results_schema())
    write_json(out / "results.json", merged)
    _merge_junit([d / "junit.xml" for d in run_dirs], out / "junit.xml")
    try:
        rerender.render_report(out, note=f"Merged from runs {', '.join(merged['run']['merged_from'])}.")
    except rerender.RerenderError as err:
        raise MergeError(str(err)) from err
    write_manifest(out)
    return merged


def _check_compatible(run_dirs: Sequence[Path], docs: Sequence[dict[str, Any]], *, allow_mixed: bool) -> None:
    first = docs[0]["run"]
    for run_dir, doc in zip(run_dirs[1:], docs[1:], strict=True):
        if _waiver_digest(doc) != _waiver_digest(docs[0]):
            msg = f"{run_dir} was audited with other waivers than {run_dirs[0]}: merge runs of one waiver file"
            raise MergeError(msg)
        for key in () if allow_mixed else COMPARED:
            if doc["run"].get(key) != first.get(key):
                msg = (
                    f"{run_dir} was evaluated with a different {key} than {run_dirs[0]} "
                    f"({doc['run'].get(key)!r} vs {first.get(key)!r}): use --allow-mixed to merge anyway"
                )
                raise MergeError(msg)


def _merged_document(docs: Sequence[dict[str, Any]], digests: Sequence[str], signer: str | None) -> dict[str, Any]:
    runs = [d["run"] for d in docs]
    inventories = sorted({r["inventory_sha256"] for r in runs})
    controls: dict[str, Any] = {}
    for doc in docs:
        for control in doc.get("controls", []):
            controls.setdefault(control["id"], control)
    inputs = [_input(r, digest) for r, digest in zip(runs, digests, strict=True)]
    reasons = [f"{i['id']}: {i['incomplete_reason']}" for i in inputs if not i["complete"]]
    gap = _shard_gap(inputs)
    if gap:
        reasons.append(gap)
    now = datetime.now(UTC)
    run = {
        **runs[0],
        "id": f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}",
        "started": min(r["started"] for r in runs),
        "finished": max(r["finished"] for r in runs),
        "inventory_sha256": inventories[0]
        if len(inventories) == 1
        else hashlib.sha256("\n".join(inventories).encode()).hexdigest(),
        "as_of": _same(runs, "as_of"),
        "limit": _same(runs, "limit"),
        "shard": None,
        "merged_from": [r["id"] for r in runs],
        "inputs": inputs,
        "complete": not reasons,
        "incomplete_reason": "; ".join(reasons) or None,
        "selection": _merged_selection(runs),
        "evidence": ["results.json", "junit.xml", "report.html"],
        "signer": signer,  # the key that signs this merge, never an input's
    }
    return {
        "schema_version": 1,
        "run": run,
        "controls": [controls[k] for k in sorted(controls)],
        "guests": [g for d in docs for g in d.get("guests", [])],
        "results": [r for d in docs for r in d["results"]],
        "waivers": _merged_waivers([d.get("waivers") for d in docs]),
    }


def _input(run: dict[str, Any], digest: str) -> dict[str, Any]:
    """What the merged header lists for one input run."""
    keys = ("id", "shard", "as_of", "limit", "mode", "inventory", "inventory_sha256", "catalog_sha256")
    return {
        **{k: run.get(k) for k in keys},
        "complete": run.get("complete") is True,
        "incomplete_reason": run.get("incomplete_reason") or ("" if run.get("complete") is True else "not recorded"),
        "manifest_sha256": digest,
    }


def _same(runs: Sequence[dict[str, Any]], key: str) -> Any:
    """The runs' common value of `key`, or None when they differ (each input's value is in run.inputs)."""
    values = {r.get(key) for r in runs}
    return values.pop() if len(values) == 1 else None


def _shard_gap(inputs: Sequence[dict[str, Any]]) -> str:
    """Which shards of the split are not among the inputs, or the empty string when all are."""
    shards = [i["shard"] for i in inputs if i["shard"]]
    if not shards:
        return ""
    if len(shards) != len(inputs):
        return "some inputs are shards and some are not: the shard split cannot be checked"
    counts = {int(s.split("/")[1]) for s in shards}
    if len(counts) != 1:
        return f"the inputs come from different shard splits ({', '.join(sorted(set(shards)))})"
    total = counts.pop()
    missing = sorted(set(range(1, total + 1)) - {int(s.split("/")[0]) for s in shards})
    return f"shard(s) {', '.join(f'{k}/{total}' for k in missing)} missing" if missing else ""


def _merged_selection(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    selections = [r.get("selection") or {} for r in runs]
    sets = {s.get("control_set", "all") for s in selections}
    return {
        "control_set": sets.pop() if len(sets) == 1 else "all",
        "controls": sorted({c for s in selections for c in s.get("controls", [])}),
        "guests": sum(s.get("guests", 0) for s in selections),
        "filters": sorted({f for s in selections for f in s.get("filters", [])}),
        "missing": sum(s.get("missing", 0) for s in selections),
    }


def _waiver_digest(doc: dict[str, Any]) -> str | None:
    waivers = doc.get("waivers")
    return waivers["sha256"] if waivers else None


def _merged_waivers(parts: Sequence[dict[str, Any] | None]) -> dict[str, Any] | None:
    """One waiver summary: reach and use add up; "matched nothing" holds only if it held in every run."""
    present = [p for p in parts if p]
    if not present:
        return None
    entries = []
    for rows in zip(*(p["entries"] for p in present), strict=True):
        matched, waived = sum(r["matched_guests"] for r in rows), sum(r["waived"] for r in rows)
        notes = [n for n in rows[0]["notes"] if not n.startswith(UNMATCHED)]
        if all(any(n.startswith(UNMATCHED) for n in r["notes"]) for r in rows):
            reasons = {n for r in rows for n in r["notes"] if n.startswith(UNMATCHED)}
            notes += sorted(reasons) if len(reasons) == 1 else [f"{UNMATCHED} in any of the merged runs"]
        entries.append({**rows[0], "matched_guests": matched, "waived": waived, "notes": notes})
    return {**present[0], "entries": entries}


def _merge_junit(sources: Sequence[Path], target: Path) -> None:
    root = ET.Element("testsuites")
    for source in sources:
        if not source.is_file():
            continue
        tree = ET.parse(source)  # noqa: S314 - our own junit.xml from a run directory
        top = tree.getroot()
        root.extend(top.findall("testsuite") if top.tag == "testsuites" else [top])
    ET.ElementTree(root).write(target, encoding="utf-8", xml_declaration=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the merge command."""
    parser.add_argument("run_dirs", nargs="+", type=Path, help="run directories to merge (e.g. one per shard)")
    parser.add_argument("--out", type=Path, required=True, help="the merged run directory to create")
    parser.add_argument("--allow-mixed", action="store_true", help="merge runs with different catalog/policy/as-of")
    parser.add_argument(
        "--sign-key", type=key_option, metavar="KEY", help="sign the merged manifest with this Ed25519 private key"
    )


def run(args: argparse.Namespace) -> int:
    """Merge, then print where the result is: 0 merged, 2 refused, 3 merged but incomplete (shards missing)."""
    try:
        signer = key_fingerprint(args.sign_key) if args.sign_key is not None else None
        merged = merge_runs(args.run_dirs, args.out, allow_mixed=args.allow_mixed, signer=signer)
        sign_manifest(args.out, args.sign_key)
    except (MergeError, SigningError) as err:
        print(f"merge: {err}")  # noqa: T201 - command-line output
        return EXIT_REFUSED
    counts = f"{len(merged['guests'])} guests, {len(merged['results'])} results"
    print(f"merged {len(args.run_dirs)} runs ({counts}) into {args.out}")  # noqa: T201 - command-line output
    if not merged["run"]["complete"]:
        print(f"merge: INCOMPLETE: {merged['run']['incomplete_reason']}")  # noqa: T201 - command-line output
        return EXIT_INCOMPLETE
    return EXIT_MERGED
