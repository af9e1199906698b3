"""Integrity of a run directory: ``manifest.sha256`` over every file, and ``python -m hotpatch_audit verify``.

The manifest is in sha256sum's format, so ``cd RUN_DIR && sha256sum -c manifest.sha256`` checks it as well.
Verification reports every changed, missing and extra file. A manifest alone is no signature: whoever can
change the files can rewrite it. The run therefore prints the manifest's own digest, to keep with the CI log or
the change ticket, and ``verify`` prints it again for comparison; a run audited with ``--sign-key`` also carries
``manifest.sha256.sig``, which ``verify --key PUB`` checks against the auditor's copy of the public key.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotpatch_audit.errors import HotpatchAuditError
from hotpatch_audit.run.signing import SIGNATURE, SignatureError, load_public_key, signer, verify_signature

MANIFEST = "manifest.sha256"
_LINE = re.compile(r"^(\\?)([0-9a-f]{64}) [ *](.+)$")
EXIT_VERIFIED, EXIT_MISMATCH, EXIT_CANNOT_VERIFY, EXIT_INCOMPLETE, EXIT_BAD_SIGNATURE = 0, 1, 2, 3, 4
RESULTS = "results.json"


class IntegrityError(HotpatchAuditError):
    """The run directory or its manifest cannot be read."""


@dataclass(frozen=True)
class Verification:
    """What differs between a run directory and its manifest."""

    checked: int
    changed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    unsealed: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every file matches, none is missing or extra, and the evidence files are all sealed."""
        return not (self.changed or self.missing or self.extra or self.unsealed)

    def problems(self) -> list[str]:
        """One line per difference, e.g. ``changed: results.json``."""
        return [
            *(f"changed: {name}" for name in self.changed),
            *(f"missing: {name}" for name in self.missing),
            *(f"extra: {name}" for name in self.extra),
            *(f"not in the manifest: {name} (the run's evidence must be sealed)" for name in self.unsealed),
        ]


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digests(run_dir: Path) -> dict[str, str]:
    """Digest of every file under `run_dir` except the manifest and its signature, keyed by POSIX path."""
    if not run_dir.is_dir():
        msg = f"{run_dir}: not a run directory"
        raise IntegrityError(msg)
    digests = {}
    for path in sorted(run_dir.rglob("*")):
        name = path.relative_to(run_dir).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            # A link can point outside the run and a FIFO or device has no fixed content: neither is evidence.
            kind = "a symbolic link" if path.is_symlink() else "not a regular file"
            msg = f"{run_dir}: {name} is {kind}: a run directory holds regular files only"
            raise IntegrityError(msg)
        if path.is_file() and name not in (MANIFEST, SIGNATURE):
            digests[name] = sha256_file(path)
    return digests


def write_manifest(run_dir: Path, digests: dict[str, str] | None = None) -> str:
    """Write ``manifest.sha256`` (all files, or the given digests); return the manifest's own SHA-256."""
    entries = file_digests(run_dir) if digests is None else digests
    text = "".join(_format(name, digest) for name, digest in sorted(entries.items()))
    path = run_dir / MANIFEST
    path.write_text(text, encoding="utf-8", newline="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_manifest(run_dir: Path) -> dict[str, str]:
    """The manifest's entries; IntegrityError when it is missing or malformed."""
    path = run_dir / MANIFEST
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        msg = f"{path}: no manifest: this run directory cannot be verified"
        raise IntegrityError(msg) from None
    except (OSError, UnicodeDecodeError) as err:
        msg = f"{path}: cannot read the manifest: {err}"
        raise IntegrityError(msg) from err
    entries: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        match = _LINE.match(line)
        if match is None:
            msg = f"{path}:{number}: not a sha256sum line: {line[:80]!r}"
            raise IntegrityError(msg)
        escaped, digest, name = match.groups()
        entries[_unescape(name) if escaped else name] = digest
    return entries


def verify(run_dir: Path, *, skip: frozenset[str] = frozenset()) -> Verification:
    """Compare `run_dir` with its manifest; names in `skip` are left out on both sides.

    results.json must be sealed, and so must every evidence file it names (``run.evidence``: junit.xml and
    report.html when the run wrote them), so deleting a file together with its manifest line is noticed.
    """
    manifest = read_manifest(run_dir)
    expected = {k: v for k, v in manifest.items() if k not in skip}
    actual = {k: v for k, v in file_digests(run_dir).items() if k not in skip}
    required = {RESULTS, *_evidence_named(run_dir / RESULTS)} - skip
    return Verification(
        checked=len(expected),
        changed=tuple(sorted(k for k in expected.keys() & actual.keys() if expected[k] != actual[k])),
        missing=tuple(sorted(expected.keys() - actual.keys())),
        extra=tuple(sorted(actual.keys() - expected.keys())),
        unsealed=tuple(sorted(required - manifest.keys())),
    )


def incomplete_reason(run_dir: Path) -> str | None:
    """Why the run in `run_dir` is incomplete according to its results.json, or None when it is complete."""
    run = _results_run(run_dir / RESULTS)
    if run.get("complete") is True:
        return None
    return str(run.get("incomplete_reason") or "results.json does not say the run is complete")


def _results_run(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        msg = f"{path}: not a readable results file: {err}"
        raise IntegrityError(msg) from err
    run = doc.get("run") if isinstance(doc, dict) else None
    return run if isinstance(run, dict) else {}


def _evidence_named(path: Path) -> list[str]:
    try:
        names = _results_run(path).get("evidence", [])
    except IntegrityError:
        return []  # a results.json that no longer parses is reported as changed by the digest comparison
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def manifest_digest(run_dir: Path) -> str:
    """The SHA-256 of the manifest file itself."""
    return sha256_file(run_dir / MANIFEST)


def _format(name: str, digest: str) -> str:
    # sha256sum escapes names holding a backslash or a newline and marks the line with a leading backslash.
    if "\\" in name or "\n" in name:
        return f"\\{digest}  {name.replace(chr(92), chr(92) * 2).replace(chr(10), chr(92) + 'n')}\n"
    return f"{digest}  {name}\n"


def _unescape(name: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), name)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the verify command."""
    parser.add_argument("run_dir", type=Path, help="the run directory to check against its manifest.sha256")
    parser.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="accept a run that results.json marks incomplete (interrupted, crashed or narrowed)",
    )
    parser.add_argument(
        "--key",
        type=Path,
        metavar="PUB",
        help="Ed25519 public key (OpenSSH KEY.pub or PEM) the run must be signed with; kept outside the run directory",
    )


def _check_signature(run_dir: Path, key: Path | None) -> str:
    """What verify says about the signature: checked against `key`, or only named when no key is given."""
    if key is None:
        found = signer(run_dir)
        return f"; signed by {found} (not checked: give --key PUB)" if found else ""
    if key.resolve().is_relative_to(run_dir.resolve()):
        # Whoever rewrote the run could have replaced a key shipped inside it.
        msg = f"--key {key}: the public key is inside the run directory: use the copy you received separately"
        raise IntegrityError(msg)
    public = load_public_key(key)
    return f"; signature by {verify_signature(run_dir, public)} checked"


def run(args: argparse.Namespace) -> int:
    """Verify: 0 sealed and complete, 1 a file differs, 2 unverifiable, 3 sealed but incomplete, 4 bad signature."""
    key: Path | None = args.key
    try:
        if key is not None:
            load_public_key(key)  # an unusable key cannot verify anything: exit 2, not 4
        result = verify(args.run_dir)
        digest = manifest_digest(args.run_dir)
        incomplete = incomplete_reason(args.run_dir)
    except (IntegrityError, SignatureError) as err:
        print(f"verify: {err}")  # noqa: T201 - command-line output
        return EXIT_CANNOT_VERIFY
    try:
        signed = _check_signature(args.run_dir, key)
    except IntegrityError as err:
        print(f"verify: {err}")  # noqa: T201 - command-line output
        return EXIT_CANNOT_VERIFY
    except SignatureError as err:
        # Checked before the digests: with a forged manifest, "all files match" would mean nothing.
        print(f"verify: {err}")  # noqa: T201 - command-line output
        return EXIT_BAD_SIGNATURE
    if not result.ok:
        print(f"verify: {args.run_dir}: {len(result.problems())} difference(s) from {MANIFEST}:")  # noqa: T201
        for line in result.problems():
            print(f"  {line}")  # noqa: T201 - command-line output
        return EXIT_MISMATCH
    sealed = f"{result.checked} files match {MANIFEST} (manifest sha256 {digest}){signed}"
    if incomplete is not None and not args.allow_incomplete:
        print(  # noqa: T201 - command-line output
            f"verify: {args.run_dir}: INCOMPLETE run ({incomplete}); {sealed}. Evidence of a complete audit needs "
            "a complete run; --allow-incomplete accepts it as partial evidence"
        )
        return EXIT_INCOMPLETE
    note = f" (incomplete run accepted: {incomplete})" if incomplete is not None else ""
    print(f"verify: {args.run_dir}: OK, {sealed}{note}")  # noqa: T201 - command-line output
    return EXIT_VERIFIED
