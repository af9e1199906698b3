"""Report benchmark: a replayed audit of N synthetic guests x 9 controls, its report's size and render time.

Every fifth guest fails one control and every tenth cannot be evaluated on another, so the report carries
messages, facts extras and a populated matrix. Chromium (if installed) renders the page headless; the page
records when its own script finished (``data-hp-ready-ms`` on <body>).

    python benchmarks/report_scale.py                 # 1,000 guests
    python benchmarks/report_scale.py --guests 200
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "selftests"))

from support import facts_doc, write_facts  # noqa: E402 - the self-tests' facts builder


def write_fleet(tmp: Path, guests: int) -> Path:
    names = [f"hci-vm-{i:04d}" for i in range(guests)]
    for i, name in enumerate(names):
        changes: dict[str, object] = {}
        if i % 5 == 0:
            changes["security__vbs_status"] = 1
        unreadable = ("reboot_pending.windows_update",) if i % 10 == 3 else ()
        write_facts(tmp / "facts", facts_doc(name, unreadable=unreadable, **changes))
    hosts = "".join(f"        {n}:\n" for n in names)
    inventory = tmp / "inventory.yml"
    inventory.write_text(
        f"all:\n  vars:\n    hotpatch_password_env: BENCH_UNSET\n  children:\n    fleet:\n      hosts:\n{hosts}"
    )
    return inventory


def render_ms(report: Path, profile: Path) -> tuple[float, int | None]:
    binary = next((p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))), None)
    if binary is None:
        return float("nan"), None
    start = time.perf_counter()
    proc = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", f"--user-data-dir={profile}", "--dump-dom", report.as_uri()],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = (time.perf_counter() - start) * 1000
    match = re.search(r'data-hp-ready-ms="(\d+)"', proc.stdout)
    return wall, int(match.group(1)) if match else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--guests", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hotpatch-report-bench-") as name:
        tmp = Path(name)
        inventory = write_fleet(tmp, args.guests)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pytest", "tests", "--inventory", str(inventory), "--facts-dir", str(tmp / "facts"),
             "--as-of", "2026-05-27", "--report-dir", str(tmp / "reports"), "-q", "-p", "no:randomly"],
            cwd=REPO, capture_output=True, check=False,
        )  # fmt: skip
        audit_s = time.perf_counter() - start
        (run_dir,) = (tmp / "reports").iterdir()
        results = json.loads((run_dir / "results.json").read_text())
        report = run_dir / "report.html"
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "hotpatch_audit", "report", str(run_dir), "--output", str(tmp / "again.html")],
            capture_output=True, check=False,
        )  # fmt: skip
        rerender_s = time.perf_counter() - start
        wall, ready = render_ms(report, tmp / "profile")
        print(f"guests: {args.guests}, results: {len(results['results'])}")
        print(f"audit (replay, whole pytest run): {audit_s:.1f} s; re-render: {rerender_s:.1f} s")
        sizes = {p.name: p.stat().st_size / 1e6 for p in (report, run_dir / "results.json")}
        print("; ".join(f"{n}: {mb:.1f} MB" for n, mb in sizes.items()))
        print(f"chromium: page ready after {ready} ms; whole headless run {wall:.0f} ms")


if __name__ == "__main__":
    main()
