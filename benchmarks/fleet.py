"""Fleet benchmark: a full live audit of N simulated guests, against the naive one-command-per-control approach.

The simulator runs in its own process (as a real fleet would be elsewhere) with a per-command latency like a
real PowerShell start. The audit runs as ``pytest`` in a child process, so its wall time, peak RSS and report are
measured as a user would see them. The naive approach (one testinfra ``host.run`` per control per guest, one
guest after the other) is measured on a subset and compared per guest.

    python benchmarks/fleet.py                      # 1,000 guests at 1,500 ms, naive on 3 guests
    python benchmarks/fleet.py --scenario faults    # 200 guests: 20 % unreachable, 10 % refused, 10 % time out
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import yaml

from hotpatch_audit.testing.simulator import DEMO_FLEET, Faults, Fleet, load_fleet, serve_fleet

REPO = Path(__file__).resolve().parent.parent
CONTROLS = 7
PASSWORD = "bench-loopback-only"
PASSWORD_ENV = "HOTPATCH_BENCH_PASSWORD"


def make_fleet(guests: int, latency_ms: int, scenario: str) -> Fleet:
    """N copies of the demo's compliant guest; in the faults scenario a fixed share of them broken."""
    demo = load_fleet(DEMO_FLEET)
    template = demo.guest("hci-vm-01")
    states = []
    for i in range(guests):
        faults = Faults(latency_ms=latency_ms)
        if scenario == "faults":
            share = i % 10
            if share in (0, 1):
                faults = Faults(port_closed=True)
            elif share == 2:
                faults = Faults(credentials_refused=True, latency_ms=latency_ms)
            elif share == 3:
                faults = Faults(operation_timeout=True)
        states.append(dataclasses.replace(template, name=f"bench-{i:04d}", groups=("bench",), faults=faults))
    return Fleet(user=demo.user, password_env=PASSWORD_ENV, guests=tuple(states))


def serve(fleet: Fleet, inventory: Path, stop: mp.Event) -> None:  # type: ignore[valid-type]
    """Child process: serve the fleet until told to stop."""
    with serve_fleet(fleet, password=PASSWORD, password_env=PASSWORD_ENV) as running:
        running.write_inventory(inventory)
        stop.wait()  # type: ignore[attr-defined]


def audit(inventory: Path, report_dir: Path, workers: int, deadline: float) -> dict[str, float]:
    """Run the real audit in a child pytest; return wall time and peak RSS."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "tests",
        "--inventory",
        str(inventory),
        "--as-of",
        "2026-05-27",
        "--report-dir",
        str(report_dir),
        "--workers",
        str(workers),
        "--deadline",
        str(deadline),
        "-q",
        "--tb=no",
        "-p",
        "no:cacheprovider",
    ]
    env = {**os.environ, PASSWORD_ENV: PASSWORD}
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read() if proc.stdout is not None else ""
    _, status, usage = os.wait4(proc.pid, 0)  # wait4, not wait(): it also gives the child's peak RSS
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    tail = output.strip().splitlines()[-2:]
    print("   " + "\n   ".join(tail))
    return {"wall_s": wall, "peak_rss_mib": usage.ru_maxrss / 1024, "exit": proc.returncode}


def naive(inventory_ports: dict[str, int], guests: list[str], user: str) -> float:
    """One testinfra host.run per control per guest, serially: what a plain testinfra suite does."""
    import testinfra

    probe = base64.b64encode("(Get-CimInstance Win32_OperatingSystem).Caption".encode("utf-16-le")).decode()
    start = time.monotonic()
    for name in guests:
        spec = f"winrm://{quote(user)}:{quote(PASSWORD)}@127.0.0.1:{inventory_ports[name]}?no_ssl=true"
        host = testinfra.get_host(spec)
        for _ in range(CONTROLS):
            host.run(f"powershell -NoProfile -NonInteractive -EncodedCommand {probe}")
    return time.monotonic() - start


def main() -> int:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("scale", "faults"), default="scale")
    parser.add_argument("--guests", type=int)
    parser.add_argument("--latency-ms", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--deadline", type=float, default=30.0)
    parser.add_argument("--naive-guests", type=int, default=3)
    args = parser.parse_args()
    guests = args.guests or (1000 if args.scenario == "scale" else 200)
    fleet = make_fleet(guests, args.latency_ms, args.scenario)
    with tempfile.TemporaryDirectory(prefix="hotpatch-bench-") as tmp:
        inventory, reports = Path(tmp) / "inventory.yml", Path(tmp) / "reports"
        stop = mp.Event()
        server = mp.Process(target=serve, args=(fleet, inventory, stop), daemon=True)
        server.start()
        while not inventory.exists():
            time.sleep(0.1)
        print(f"{args.scenario}: {guests} guests, {args.latency_ms} ms per command, --workers {args.workers}")
        numbers = audit(inventory, reports, args.workers, args.deadline)
        run_dir = next(reports.iterdir())
        results = json.loads((run_dir / "results.json").read_text())
        report_mib = (run_dir / "report.html").stat().st_size / 2**20
        count = len(results["results"])
        print(
            f"audit: {numbers['wall_s']:.1f} s wall, peak RSS {numbers['peak_rss_mib']:.0f} MiB, "
            f"report.html {report_mib:.1f} MiB, {count} results, {count / numbers['wall_s']:.0f} results/s"
        )
        verdict = check_faults(results, guests, numbers["wall_s"], args) if args.scenario == "faults" else 0
        if args.scenario == "scale" and args.naive_guests:
            hosts = yaml.safe_load(inventory.read_text())["all"]["hosts"]
            ports = {name: spec["ansible_port"] for name, spec in hosts.items()}
            subset = sorted(ports)[: args.naive_guests]
            naive_s = naive(ports, subset, fleet.user)
            per_guest_naive, per_guest_ours = naive_s / len(subset), numbers["wall_s"] / guests
            print(
                f"naive: {naive_s:.1f} s for {len(subset)} guests x {CONTROLS} controls "
                f"({per_guest_naive:.2f} s per guest, {per_guest_naive * guests / 60:.0f} min for {guests})"
            )
            print(f"ratio: {per_guest_naive / per_guest_ours:.0f}x faster per guest than the naive approach")
        stop.set()
        server.join(timeout=10)
    return verdict


def check_faults(results: dict[str, object], guests: int, wall: float, args: argparse.Namespace) -> int:
    """Every healthy guest evaluated, every broken one error with its cause, within the deadline budget."""
    verdicts = results["guests"]  # type: ignore[index]
    broken = [v for v in verdicts if v["facts_error"]]  # type: ignore[union-attr]
    healthy = [v for v in verdicts if not v["facts_error"]]  # type: ignore[union-attr]
    causes: dict[str, int] = {}
    for v in broken:
        text = v["facts_error"]
        key = (
            "refused"
            if "connection refused" in text
            else "401"
            if "401" in text
            else "timeout"
            if "timed out" in text
            else "other"
        )
        causes[key] = causes.get(key, 0) + 1
    budget = args.deadline + (len(healthy) / args.workers + 1) * args.latency_ms / 1000 + 15
    print(f"faults: {len(healthy)} healthy evaluated, {len(broken)} not evaluated by cause {causes}")
    print(f"deadline budget {budget:.0f} s (deadline {args.deadline:.0f} s + healthy work + 15 s), wall {wall:.1f} s")
    ok = len(healthy) == guests * 6 // 10 and all(v["status"] != "not evaluated" for v in healthy) and wall <= budget
    print("faults scenario:", "OK" if ok else "NOT OK")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
