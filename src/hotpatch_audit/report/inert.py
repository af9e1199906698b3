"""Keep report.html inert: whatever a guest name or a fact holds, the page runs only its own scripts.

Every value is escaped where it is rendered; on top of that the page carries a Content-Security-Policy that
allows exactly its own inline scripts (by SHA-256), so an injected ``<script>`` or ``onload=`` handler does not
run, and forbids every network load, so nothing in the page can make the auditor's browser fetch a URL.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.DOTALL | re.IGNORECASE)
_HEAD = re.compile(r"<head[^>]*>", re.IGNORECASE)
MARKER = 'http-equiv="Content-Security-Policy"'


def policy(page: str) -> str:
    """The Content-Security-Policy for `page`: its inline scripts by hash, inline styles, no network at all."""
    hashes = sorted(
        {
            "'sha256-" + base64.b64encode(hashlib.sha256(m.group("body").encode("utf-8")).digest()).decode() + "'"
            for m in _SCRIPT.finditer(page)
            if "src=" not in m.group("attrs").lower()
        }
    )
    scripts = " ".join(hashes) or "'none'"
    return f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"


def make_inert(path: Path) -> None:
    """Add the Content-Security-Policy to the report at `path` (once: a page that has one is left alone)."""
    page = path.read_text(encoding="utf-8")
    if MARKER in page:
        return
    head = _HEAD.search(page)
    if head is None:
        msg = f"{path}: no <head> element to carry the Content-Security-Policy"
        raise ValueError(msg)
    meta = f'<meta {MARKER} content="{policy(page)}"/><meta name="referrer" content="no-referrer"/>'
    path.write_text(page[: head.end()] + meta + page[head.end() :], encoding="utf-8")
