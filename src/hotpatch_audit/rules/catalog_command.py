"""``python -m hotpatch_audit catalog update|check``: import Microsoft's release tables, cross-check with MSRC.

``update`` reads the "Windows Server release information" page (fetched, or a saved copy with ``--from``) and
writes a catalog file that keeps the page's provenance; without ``--output`` it writes the per-user catalog
that audits load after the bundled one. The written file is loaded over the bundled catalog before it
replaces anything, so a page that contradicts the bundled data is refused, not merged. ``check`` compares the
catalog with an MSRC CVRF document and reports, never applies, what differs.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from hotpatch_audit import __version__
from hotpatch_audit.errors import CatalogError
from hotpatch_audit.rules.catalog import Catalog, load_catalog, user_catalog_path
from hotpatch_audit.rules.cvrf import CvrfError, compare, read_fixes
from hotpatch_audit.rules.releaseinfo import PageDriftError, ReleasePage, parse_page

PAGE_URL = "https://learn.microsoft.com/en-us/windows/release-health/windows-server-release-info?accept=text/markdown"
MAX_BYTES = 64 * 1024 * 1024  # a CVRF month is about 20 MB; the release page well under 1 MB
TIMEOUT_SEC = 60
REFUSED = 4


class FetchError(RuntimeError):
    """A document could not be fetched or read."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the catalog command."""
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    update = sub.add_parser("update", help="import Microsoft's Windows Server release information page")
    source = update.add_mutually_exclusive_group()
    source.add_argument("--from", dest="from_file", type=Path, help="a saved copy of the page (Markdown or HTML)")
    source.add_argument("--url", default=PAGE_URL, help=f"where to fetch the page (default: {PAGE_URL})")
    update.add_argument("--output", type=Path, help=f"catalog file to write (default: {user_catalog_path()})")
    check = sub.add_parser("check", help="compare the catalog with an MSRC CVRF v3 document; reports only")
    check.add_argument("--cvrf", required=True, help="CVRF JSON file, or URL such as .../cvrf/v3.0/cvrf/2026-Aug")
    check.add_argument("--catalog", type=Path, action="append", default=[], help="extra catalog (repeatable)")


def run(args: argparse.Namespace) -> int:
    """Run ``update`` or ``check``; exit 4 with the reason when an input is refused."""
    try:
        if args.action == "update":
            return _update(args)
        return _check(args)
    except (FetchError, PageDriftError, CvrfError, CatalogError) as err:
        print(f"catalog {args.action}: {err}", file=sys.stderr)  # noqa: T201 - command-line output
        return REFUSED


def _update(args: argparse.Namespace) -> int:
    retrieved = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if args.from_file is not None:
        source = str(args.from_file)
        text = _read_file(args.from_file)
    else:
        source = args.url
        text = _fetch(args.url, "text/markdown, text/html;q=0.5")
    try:
        page = parse_page(text)
    except PageDriftError as err:
        msg = f"{source}: the page changed shape: {err}; the catalog was not updated"
        raise PageDriftError(msg) from err
    output: Path = args.output or user_catalog_path()
    body = _catalog_yaml(page, source, retrieved)
    output.parent.mkdir(parents=True, exist_ok=True)
    # Written next to the target and checked there, so the target only ever holds a catalog that loads.
    candidate = output.with_name(output.name + ".new")
    candidate.write_text(body, encoding="utf-8")
    try:
        catalog = load_catalog([candidate], user=False)
    except CatalogError as err:
        candidate.unlink()
        msg = f"{source}: the imported rows do not fit the bundled catalog: {err}; the catalog was not updated"
        raise CatalogError(msg) from err
    candidate.replace(output)
    print(_summary(page, catalog, output))  # noqa: T201 - command-line output
    return 0


def _check(args: argparse.Namespace) -> int:
    cvrf: str = args.cvrf
    text = _fetch(cvrf, "application/json") if cvrf.startswith(("https://", "http://")) else _read_file(Path(cvrf))
    doc_id, fixes = read_fixes(text)
    catalog = load_catalog(args.catalog)
    findings = compare(catalog, fixes)
    print(f"CVRF {doc_id}: {len(fixes)} Windows Server 2022/2025 fixes compared with {', '.join(catalog.sources)}")  # noqa: T201
    for finding in findings:
        print(f"  {finding.kind}: {finding.message}")  # noqa: T201 - command-line output
    conflicts = [f for f in findings if f.kind == "conflict"]
    if conflicts:
        print(  # noqa: T201 - command-line output
            f"{len(conflicts)} disagreement(s): nothing was changed; check Microsoft's release information page "
            "and the KB articles, then correct a catalog file with 'replaces:' if the catalog is wrong"
        )
        return 1
    print("no disagreement" + (" (KBs missing from the catalog are listed above)" if findings else ""))  # noqa: T201
    return 0


def _summary(page: ReleasePage, catalog: Catalog, output: Path) -> str:
    lines = [f"wrote {len(page.releases())} releases and {len(page.plans)} announced months to {output}"]
    lines += [f"  skipped {note}" for note in page.skipped]
    for os_build, newest in sorted(catalog.newest_months().items()):
        gap = catalog.first_gap(int(os_build))
        lines.append(
            f"  OS build {os_build}: every month through {newest} has its hotpatch-track release"
            + (f"; none yet for {gap}: audits report it stale from {gap.patch_tuesday} + the grace days" if gap else "")
        )
    return "\n".join(lines)


def _catalog_yaml(page: ReleasePage, source: str, retrieved: str) -> str:
    provenance = {"source": source, "retrieved_at": retrieved}
    provenance.update({k: page.meta[k] for k in ("updated_at", "git_commit_id") if k in page.meta})
    out = [
        "# Imported by 'python -m hotpatch_audit catalog update' from Microsoft's Windows Server release",
        "# information page; regenerate it rather than editing it.",
        "schema_version: 1",
        "provenance:",
        *(f"  {key}: {json.dumps(value)}" for key, value in provenance.items()),
        "releases:",
    ]
    for r in page.releases():
        fields = [
            f"os: {r.os}",
            f'month: "{r.month}"',
            f"released: {r.released.isoformat()}",
            f"type: {r.type}",
            f"track: {r.track}",
            f'build: "{r.build}"',
            f"kb: {r.kb}",
            *([f"planned: {r.planned}"] if r.planned else []),
            f"note: {json.dumps(r.where)}",
        ]
        out.append(f"  - {{{', '.join(fields)}}}")
    if not page.releases():
        out[-1] = "releases: []"
    if page.plans:
        out.append("plans:")
        out += [f'  - {{os: {p.os}, month: "{p.month}", type: {p.type}}}' for p in page.plans]
    return "\n".join(out) + "\n"


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise FetchError(f"{path}: cannot read file: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise FetchError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from err


def _fetch(url: str, accept: str) -> str:
    if not url.startswith(("https://", "http://")):
        raise FetchError(f"{url}: only http and https URLs are fetched; use --from for a file")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, headers={"Accept": accept, "User-Agent": f"hotpatch-audit/{__version__}"}
    )
    offline = "download it with a browser and pass the file instead (--from / --cvrf FILE)"
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SEC) as response:  # noqa: S310 - scheme checked above
            data = response.read(MAX_BYTES + 1)
            charset = response.headers.get_content_charset() or "utf-8"
    except urllib.error.HTTPError as err:
        raise FetchError(f"{url}: HTTP {err.code} {err.reason}; {offline}") from err
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise FetchError(f"{url}: cannot fetch ({reason}); {offline}") from err
    if len(data) > MAX_BYTES:
        raise FetchError(f"{url}: more than {MAX_BYTES} bytes: not the expected document")
    try:
        text: str = data.decode(charset)
    except (UnicodeDecodeError, LookupError) as err:
        raise FetchError(f"{url}: not {charset} text: {err}") from err
    return text
