"""Fleet benchmark: full live audits of 100 to 10,000 simulated guests, and peers on the same fleet side by side.

The simulator runs in its own process (as a real fleet would be elsewhere) with a per-command latency like a
real PowerShell start; its CPU time is measured apart from the audit's. The audit runs as ``pytest`` in a child
process at default settings, so its wall time, CPU time, peak RSS and report are measured as a user would see
them, and headless Chromium opens the report (the page records when its script finished). The peers run against
the same fleet in the same run:

- ansible: ``ansible all -m raw -a hostname --forks 50`` over WinRM, one trivial command per guest;
- xdist: pytest-testinfra with pytest-xdist, one ``host.run`` per control per guest, ``-n`` 4 per core;
- naive: the same testinfra calls in one process, one guest after the other.

Peers that would take minutes run on the first guests of the fleet only (``--peer-guests``); their guests per
second is compared with ours at the table's fleet size (``ratio`` = our guests/s / the peer's).

    python benchmarks/fleet.py                      # 100, 1,000, 5,000 and 10,000 guests at 1,500 ms
    python benchmarks/fleet.py --guests 1000 --json bench.json
    python benchmarks/fleet.py --scenario faults    # 200 guests: 20 % unreachable, 10 % refused, 10 % time out
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing as mp
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from hotpatch_audit.collect.pool import default_workers, processes_for
from hotpatch_audit.testing.simulator import DEMO_FLEET, Faults, Fleet, load_fleet, serve_fleet

REPO = Path(__file__).resolve().parent.parent
SIZES = (100, 1000, 5000, 10000)
# The peers run one command per built-in control (HP-01 ... HP-09), one module each under rules/.
CONTROLS = len(list((REPO / "src" / "hotpatch_audit" / "rules").glob("hp[0-9][0-9]_*.py")))
PASSWORD = "bench-loopback-only"
PASSWORD_ENV = "HOTPATCH_BENCH_PASSWORD"
# Peers at full size would take hours (the naive loop needs ~10 s per guest): each runs on this many guests.
PEER_GUESTS = {"ansible": 1000, "xdist": 32, "naive": 3}
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
FAULT_CAUSES = (("refused", "connection refused"), ("401", "401"), ("timeout", "timed out"))


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
        states.append(dataclasses.replace(template, name=f"bench-{i:05d}", groups=("bench",), faults=faults))
    return Fleet(user=demo.user, password_env=PASSWORD_ENV, guests=tuple(states))


def serve(fleet: Fleet, inventory: Path, stop: Any) -> None:
    """Child process: serve the fleet until told to stop."""
    with serve_fleet(fleet, password=PASSWORD, password_env=PASSWORD_ENV) as running:
        running.write_inventory(inventory)
        stop.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (Linux /proc): the simulator's share, apart from the audit's."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[dict[str, float], str]:
    """Run `cmd`; its wall time, CPU time (itself and its children) and peak RSS, and its output."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read() if proc.stdout is not None else ""
    _, status, usage = os.wait4(proc.pid, 0)  # wait4, not wait(): it also gives CPU time and peak RSS
    proc.returncode = os.waitstatus_to_exitcode(status)
    numbers = {
        "wall_s": time.monotonic() - start,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "exit": proc.returncode,
    }
    return numbers, output


def audit(inventory: Path, report_dir: Path, args: argparse.Namespace) -> tuple[dict[str, float], str]:
    """The real audit in a child pytest, at default settings unless --workers/--deadline are given."""
    cmd = [sys.executable, "-m", "pytest", "tests", "--inventory", str(inventory), "--as-of", "2026-05-27",
           "--report-dir", str(report_dir), "-q", "-p", "no:cacheprovider"]  # fmt: skip
    if args.workers is not None:
        cmd += ["--workers", str(args.workers)]
    if args.deadline is not None:
        cmd += ["--deadline", str(args.deadline)]
    return timed(cmd, REPO, {**os.environ, PASSWORD_ENV: PASSWORD})


def ready_ms(report: Path, profile: Path) -> int | None:
    """When the report's own script finished in headless Chromium (``data-hp-ready-ms``); None without Chromium."""
    binary = next((p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))), None)
    if binary is None:
        return None
    proc = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", f"--user-data-dir={profile}", "--dump-dom", report.as_uri()],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    match = re.search(r'data-hp-ready-ms="(\d+)"', proc.stdout)
    return int(match.group(1)) if match else None


def hosts_of(inventory: Path, count: int) -> dict[str, int]:
    """The first `count` guests of the served fleet and their ports."""
    hosts = yaml.safe_load(inventory.read_text(encoding="utf-8"))["all"]["hosts"]
    return {name: hosts[name]["ansible_port"] for name in sorted(hosts)[:count]}


def ansible_peer(ports: dict[str, int], user: str, tmp: Path) -> float:
    """``ansible all -m raw -a hostname --forks 50`` over WinRM (NTLM, message encryption, as the audit)."""
    lines = [f"{name} ansible_host=127.0.0.1 ansible_port={port}" for name, port in ports.items()]
    inventory = tmp / "ansible-hosts.ini"
    inventory.write_text(
        "[bench]\n" + "\n".join(lines) + "\n[bench:vars]\nansible_connection=winrm\nansible_winrm_scheme=http\n"
        f"ansible_winrm_transport=ntlm\nansible_user={user}\nansible_password={PASSWORD}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
           "ANSIBLE_HOME": str(tmp / "ansible-home"), "ANSIBLE_NOCOLOR": "1"}  # fmt: skip
    cmd = [str(Path(sys.executable).with_name("ansible")), "all", "-i", str(inventory), "-m", "raw", "-a",
           "hostname", "--forks", "50", "--one-line"]  # fmt: skip
    numbers, output = timed(cmd, tmp, env)
    # The simulated guest runs only the audit's collector in PowerShell, and ansible's raw wraps every command in
    # PowerShell: each guest answers after the full command latency with rc=1 ("FAILED"), which is a complete
    # WinRM round trip; only UNREACHABLE guests would mean the peer did not do the work.
    reached = {m.group(1) for m in re.finditer(r"^(\S+) \| (?:CHANGED|SUCCESS|FAILED)", output, re.MULTILINE)}
    if reached != set(ports):
        sys.exit(f"ansible peer reached {len(reached)} of {len(ports)} guests:\n{output[-2000:]}")
    return numbers["wall_s"]


PEER_TEST = '''\
"""A plain testinfra suite: one host.run per control per guest."""

import json
import os

import pytest
import testinfra

SPECS = json.loads(os.environ["BENCH_SPECS"])


@pytest.mark.parametrize("control", range({controls}))
@pytest.mark.parametrize("spec", SPECS)
def test_control(spec, control):
    assert testinfra.get_host(spec).run("hostname").rc == 0
'''


def specs(ports: dict[str, int], user: str) -> list[str]:
    return [f"winrm://{quote(user)}:{quote(PASSWORD)}@127.0.0.1:{port}?no_ssl=true" for port in ports.values()]


def xdist_peer(ports: dict[str, int], user: str, tmp: Path, processes: int) -> float:
    """pytest-testinfra under pytest-xdist: one host.run per control, `processes` workers."""
    suite = tmp / "peer"
    suite.mkdir(exist_ok=True)
    (suite / "test_peer.py").write_text(PEER_TEST.format(controls=CONTROLS), encoding="utf-8")
    (suite / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # its own rootdir: not this repository's
    env = {**os.environ, "BENCH_SPECS": json.dumps(specs(ports, user))}
    cmd = [sys.executable, "-m", "pytest", "-q", "-n", str(processes), "-p", "no:cacheprovider", "test_peer.py"]
    numbers, output = timed(cmd, suite, env)
    if numbers["exit"] != 0:
        sys.exit(f"xdist peer failed:\n{output[-2000:]}")
    return numbers["wall_s"]


def naive_peer(ports: dict[str, int], user: str) -> float:
    """The same testinfra calls in this process, one guest after the other."""
    import testinfra

    start = time.monotonic()
    for spec in specs(ports, user):
        host = testinfra.get_host(spec)
        for _ in range(CONTROLS):
            if host.run("hostname").rc != 0:
                sys.exit(f"naive peer: hostname failed on {spec.rsplit(':', 1)[-1]}")
    return time.monotonic() - start


def run_size(guests: int, args: argparse.Namespace, peers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Serve `guests`, audit them, measure the peers not measured yet on this fleet; return the run's numbers."""
    fleet = make_fleet(guests, args.latency_ms, args.scenario)
    with tempfile.TemporaryDirectory(prefix="hotpatch-bench-") as name:
        tmp = Path(name)
        inventory, reports = tmp / "inventory.yml", tmp / "reports"
        stop = mp.Event()
        server = mp.Process(target=serve, args=(fleet, inventory, stop), daemon=True)
        server.start()
        while not inventory.exists():
            if not server.is_alive():
                sys.exit("the simulator stopped before serving the fleet")
            time.sleep(0.1)
        sim_before = cpu_seconds(server.pid or 0)
        numbers, output = audit(inventory, reports, args)
        print("   " + "\n   ".join(output.strip().splitlines()[-2:]), flush=True)
        sim_cpu = cpu_seconds(server.pid or 0) - sim_before
        (run_dir,) = reports.iterdir()
        results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
        report = run_dir / "report.html"
        run = {
            "guests": guests,
            "workers": args.workers or default_workers(guests, processes_for(guests)),
            "processes": processes_for(guests),
            "wall_s": round(numbers["wall_s"], 1),
            "audit_cpu_s": round(numbers["cpu_s"], 1),
            "simulator_cpu_s": round(sim_cpu, 1),
            "peak_rss_mib": round(numbers["peak_rss_mib"]),
            "report_mib": round(report.stat().st_size / 2**20, 1),
            "ready_ms": ready_ms(report, tmp / "chromium"),
            "results": len(results["results"]),
            "exit": numbers["exit"],
        }
        if args.scenario == "faults":
            run["verdict"] = check_faults(results, guests, numbers["wall_s"], args)
        elif not args.no_peers:
            for peer, cap in PEER_GUESTS.items():
                count = min(guests, cap)
                if peer in peers and peers[peer]["guests"] == count:
                    continue  # the same guests of the same fleet: measured at a smaller size already
                ports = hosts_of(inventory, count)
                print(f"   peer {peer} on {count} guests ...", flush=True)
                if peer == "ansible":
                    wall = ansible_peer(ports, fleet.user, tmp)
                elif peer == "xdist":
                    wall = xdist_peer(ports, fleet.user, tmp, 4 * (os.cpu_count() or 1))
                else:
                    wall = naive_peer(ports, fleet.user)
                peers[peer] = {"guests": count, "wall_s": round(wall, 1), "guests_per_s": count / wall}
        stop.set()
        server.join(timeout=30)
    return run


def main() -> int:
    """Run the benchmark, print the table and the peer ratios, optionally write them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("scale", "faults"), default="scale")
    parser.add_argument("--guests", type=int, help="one fleet size only (default: 100, 1,000, 5,000, 10,000)")
    parser.add_argument("--latency-ms", type=int, default=1500)
    parser.add_argument("--workers", type=int, help="override the audit's --workers default")
    parser.add_argument("--deadline", type=float, help="override the audit's --deadline default")
    parser.add_argument("--no-peers", action="store_true", help="measure the audit only")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args()
    if args.scenario == "faults":
        args.deadline = 30.0 if args.deadline is None else args.deadline
        sizes: tuple[int, ...] = (args.guests or 200,)
    else:
        sizes = (args.guests,) if args.guests else SIZES
    print(f"{args.scenario}: {', '.join(f'{n:,}' for n in sizes)} guests, {args.latency_ms} ms per command")
    peers: dict[str, dict[str, Any]] = {}
    runs: list[dict[str, Any]] = []
    comparisons: list[dict[str, Any]] = []
    verdict = 0
    for guests in sizes:
        print(f"-- {guests:,} guests", flush=True)
        run = run_size(guests, args, peers)
        runs.append(run)
        # A scale run must evaluate every guest; the faults scenario judges its expected errors in check_faults.
        verdict |= run["verdict"] if args.scenario == "faults" else int(run["exit"] not in (0, 1))
        ours = guests / run["wall_s"]
        for peer, measured in peers.items():
            comparisons.append({"name": peer, "guests": measured["guests"], "fleet_guests": guests,
                                "wall_s": measured["wall_s"], "guests_per_s": round(measured["guests_per_s"], 2),
                                "ratio": round(ours / measured["guests_per_s"], 1)})  # fmt: skip
    print(table(runs, comparisons))
    if args.json is not None:
        args.json.write_text(json.dumps({"runs": runs, "peers": comparisons}, indent=2) + "\n", encoding="utf-8")
    return verdict


def table(runs: list[dict[str, Any]], comparisons: list[dict[str, Any]]) -> str:
    """The scaling table and the peer ratios as Markdown."""
    lines = ["| guests | in flight (processes) | wall | audit CPU | simulator CPU | peak RSS "
             "| report.html | ready | results |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in runs:
        ready = "n/a" if r["ready_ms"] is None else f"{r['ready_ms']:,} ms"
        lines.append(
            f"| {r['guests']:,} | {r['workers']} ({r['processes']}) | {r['wall_s']} s | {r['audit_cpu_s']} s "
            f"({1000 * r['audit_cpu_s'] / r['guests']:.1f} ms/guest) | {r['simulator_cpu_s']} s | "
            f"{r['peak_rss_mib']} MiB | {r['report_mib']} MiB | {ready} | {r['results']:,} |"
        )
    if comparisons:
        lines += ["", "| peer | fleet | peer ran on | peer wall | peer guests/s | ours ahead by |",
                  "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
        for c in comparisons:
            lines.append(
                f"| {c['name']} | {c['fleet_guests']:,} | {c['guests']:,} | {c['wall_s']} s | "
                f"{c['guests_per_s']} | {c['ratio']}x |"
            )
    return "\n".join(lines)


def check_faults(results: dict[str, Any], guests: int, wall: float, args: argparse.Namespace) -> int:
    """Every healthy guest evaluated, every broken one error with its cause, within the deadline budget."""
    verdicts = results["guests"]
    broken = [v for v in verdicts if v["facts_error"]]
    healthy = [v for v in verdicts if not v["facts_error"]]
    causes: dict[str, int] = {}
    for v in broken:
        text = v["facts_error"]
        key = next((k for k, needle in FAULT_CAUSES if needle in text), "other")
        causes[key] = causes.get(key, 0) + 1
    workers = args.workers or default_workers(guests, processes_for(guests))
    budget = args.deadline + (len(healthy) / workers + 1) * args.latency_ms / 1000 + 15
    print(f"faults: {len(healthy)} healthy evaluated, {len(broken)} not evaluated by cause {causes}")
    print(f"deadline budget {budget:.0f} s (deadline {args.deadline:.0f} s + healthy work + 15 s), wall {wall:.1f} s")
    ok = len(healthy) == guests * 6 // 10 and all(v["status"] != "not evaluated" for v in healthy) and wall <= budget
    print("faults scenario:", "OK" if ok else "NOT OK")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
