"""Headless Chromium without DevTools: the DOM after scripts ran, a screenshot, and the page's own requests.

Requests are read from Chromium's NetLog. The browser's own background traffic (component updates, time
checks) has no initiator; a request made by a page opened from a file carries the initiator ``null``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


def chromium() -> str | None:
    """The Chromium (or Chrome) binary on PATH, if any."""
    return next((path for name in BINARIES if (path := shutil.which(name))), None)


def run_chromium(binary: str, profile: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on `url` with a fresh profile, no background services and no name resolution."""
    command = [
        binary,
        "--headless",
        "--no-sandbox",  # CI runs as root, where the sandbox cannot start
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing can leave the machine, even if the page tried
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",  # let timers and DOMContentLoaded handlers finish before dumping
        *args,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=180)


def page_requests(netlog: Path) -> list[str]:
    """URLs the page itself requested over the network (http, https, ws, wss), from a NetLog file."""
    data = json.loads(netlog.read_text(encoding="utf-8"))
    types = {number: name for name, number in data["constants"]["logEventTypes"].items()}
    urls = []
    for event in data["events"]:
        params = event.get("params") or {}
        if types.get(event["type"]) == "URL_REQUEST_START_JOB" and params.get("initiator") != "not an origin":
            url = str(params.get("url", ""))
            if url.split(":", 1)[0] in ("http", "https", "ws", "wss"):
                urls.append(url)
    return urls


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def all_text(self) -> str:
        return "".join(self.text) + "".join(c.all_text() for c in self.children)

    def iter(self) -> list[Element]:
        out = [self]
        for child in self.children:
            out.extend(child.iter())
        return out

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag)
            and (cls is None or cls in e.classes)
            and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def by_id(self, ident: str) -> Element:
        (found,) = [e for e in self.iter() if e.attrs.get("id") == ident]
        return found


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].text.append(data)


def parse_dom(text: str) -> Element:
    """A small element tree of a serialized DOM."""
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root
