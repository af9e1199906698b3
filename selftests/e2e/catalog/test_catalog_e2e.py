"""End to end: ``catalog update`` fetches over real HTTP from a loopback server, and audits judge by what it wrote.

The server serves the self-test fixture of the release information page (its June 2026 rows are fictional);
the fetch goes through the command's real HTTP client, and the audits are child pytest runs of tests/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from auditrun import write_fleet
from hotpatch_audit.inputs.yamlsrc import load_yaml
from support import REPO, Run, run_audit

FIXTURES = REPO / "selftests" / "fixtures" / "release-sources"
PAGE = FIXTURES / "release-info.md"
PAGE_PATH = "/en-us/windows/release-health/windows-server-release-info"
CVRF_PATH = "/cvrf/v3.0/cvrf/2026-Jun"


@dataclass
class Served:
    """The loopback server's base URL and the Accept headers it was sent."""

    url: str
    accepts: list[str] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[Served]:
    served = Served("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.accepts.append(self.headers.get("Accept", ""))
            documents = {
                PAGE_PATH: (PAGE, "text/markdown; charset=utf-8"),
                CVRF_PATH: (FIXTURES / "cvrf-2026-Jun.json", "application/json"),
            }
            if self.path.split("?")[0] not in documents:
                self.send_error(404)
                return
            path, content_type = documents[self.path.split("?")[0]]
            body = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads what it needs from `served`."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        httpd.shutdown()
        httpd.server_close()


def catalog(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hotpatch_audit", "catalog", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False, env=env, timeout=120)


def audit_guests(tmp: Path, as_of: str, *extra: str, env: dict[str, str] | None = None, **ubr: int) -> Run:
    guests = {
        name: {"os__current_build": 26100 if name.startswith("ws2025") else 20348, "os__ubr": value}
        for name, value in ubr.items()
    }
    inventory = write_fleet(tmp, guests)
    return run_audit(inventory, tmp / "reports", "--facts-dir", str(tmp / "facts"), "--as-of", as_of, *extra, env=env)


def test_update_fetches_the_page_over_http(server: Served, tmp_path: Path) -> None:
    out = tmp_path / "cat.yml"
    url = f"{server.url}{PAGE_PATH}?accept=text/markdown"
    done = catalog("update", "--url", url, "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert server.accepts
    assert server.accepts[0].startswith("text/markdown")
    provenance = load_yaml(out).data["provenance"]
    assert provenance["source"] == url
    assert provenance["git_commit_id"] == "1" * 40


def test_an_unreachable_page_is_refused_with_the_offline_way(server: Served, tmp_path: Path) -> None:
    done = catalog("update", "--url", f"{server.url}/moved", "--output", str(tmp_path / "cat.yml"))
    assert done.returncode == 4
    assert "HTTP 404" in done.stderr
    assert "--from" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "cat.yml").exists()


def test_check_fetches_cvrf_as_json_and_reports_only(server: Served, tmp_path: Path) -> None:
    cat = tmp_path / "cat.yml"
    assert catalog("update", "--from", str(PAGE), "--output", str(cat)).returncode == 0
    before = cat.read_bytes()
    done = catalog("check", "--cvrf", f"{server.url}{CVRF_PATH}", "--catalog", str(cat))
    assert done.returncode == 1, done.stderr
    assert server.accepts == ["application/json"]
    assert "conflict: KB5087424" in done.stdout
    assert cat.read_bytes() == before


def test_imported_catalog_judges_the_newest_hotpatch_compliant(tmp_path: Path) -> None:
    cat = tmp_path / "cat.yml"
    assert catalog("update", "--from", str(PAGE), "--output", str(cat)).returncode == 0
    # As of 2026-06-25: June's hotpatch (Patch Tuesday 06-09) is due after the 14 grace days.
    run = audit_guests(tmp_path / "with", "2026-06-25", "--catalog", str(cat), ws2022=5190, ws2025=32900, may=5074)
    outcomes = run.outcomes()
    assert outcomes[("ws2022", "HP-05")] == "passed", run.output
    assert outcomes[("ws2022", "HP-06")] == "passed"
    assert outcomes[("ws2025", "HP-05")] == "passed"
    assert outcomes[("may", "HP-05")] == "failed"  # one month behind
    assert "KB5999022" in run.outcome("may", "HP-05")["message"]
    sources = run.results["run"]["catalog_provenance"]
    assert [s["name"] for s in sources] == ["bundled:catalog.yml", str(cat)]
    assert sources[1]["provenance"]["updated_at"] == "2026-06-10T03:00:00.0000000Z"
    assert sources[1]["newest"] == {"20348": "2026-06", "26100": "2026-06"}
    report = (run.run_dir / "report.html").read_text(encoding="utf-8")
    assert f"Catalog source {cat}" in report
    # The same guests on the bundled catalog alone: June is missing, so nothing is passed.
    bundled = audit_guests(tmp_path / "without", "2026-06-25", ws2022=5190, ws2025=32900, may=5074)
    assert bundled.outcomes()[("ws2022", "HP-05")] == "error"
    assert "no release for 2026-06" in bundled.outcome("may", "HP-05")["message"]
    assert "python -m hotpatch_audit catalog update" in bundled.outcome("may", "HP-05")["message"]


def test_a_july_baseline_without_the_june_hotpatch_is_an_error_not_a_pass(tmp_path: Path) -> None:
    july = tmp_path / "july.yml"
    july.write_text(
        "releases:\n  - {os: 20348, month: '2026-07', released: 2026-07-14, type: baseline, track: both,"
        " build: '20348.5386', kb: KB5099540}\n"
    )
    run = audit_guests(tmp_path, "2026-07-01", "--catalog", str(july), guest=5074)
    assert run.outcomes()[("guest", "HP-05")] == "error"
    assert run.outcomes()[("guest", "HP-06")] == "error"
    assert "no release for 2026-06" in run.outcome("guest", "HP-05")["message"]
    assert run.code == 6


def test_a_future_row_stops_the_run_before_any_verdict(tmp_path: Path) -> None:
    future = tmp_path / "future.yml"
    future.write_text(
        "releases:\n  - {os: 20348, month: '2099-12', released: 2099-12-08, type: hotpatch, track: hotpatch,"
        " build: '20348.9999', kb: KB5999999}\n"
    )
    run = audit_guests(tmp_path, "2026-07-01", "--catalog", str(future), guest=5074)
    assert run.code == 4
    assert "future.yml:2: releases.0.released: 2099-12-08 is after today" in run.output
    assert run.results == {}


def test_the_per_user_catalog_is_loaded_without_catalog_options(tmp_path: Path) -> None:
    env = {**os.environ, "HOTPATCH_AUDIT_DATA_DIR": str(tmp_path / "data")}
    assert catalog("update", "--from", str(PAGE), env=env).returncode == 0
    user = tmp_path / "data" / "catalog.yml"
    run = audit_guests(tmp_path, "2026-06-25", env=env, guest=5190)
    assert run.outcomes()[("guest", "HP-05")] == "passed", run.output
    assert run.results["run"]["catalog_sources"] == ["bundled:catalog.yml", str(user)]
