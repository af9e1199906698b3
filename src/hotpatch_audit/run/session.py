"""One audit run: the loaded inputs, the run directory and every selected guest's facts.

Facts are obtained once per guest before any test runs: read from ``--facts-dir`` (replay) or collected live
over WinRM, concurrently. A guest whose facts cannot be obtained keeps its error, which every control of that
guest reports as ``error``; the other guests are unaffected.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hotpatch_audit.collect.pool import Collect, Progress, RetryPolicy, collect_fleet
from hotpatch_audit.errors import FactsError, InventoryError, NotEvaluatedError
from hotpatch_audit.facts import GuestFacts, facts_filename, facts_path, load_facts_file, parse_facts
from hotpatch_audit.inputs.inventory import Guest, Inventory, load_inventory
from hotpatch_audit.inputs.patterns import select
from hotpatch_audit.inputs.policy import Policy, load_policy
from hotpatch_audit.inputs.preflight import check_live_settings
from hotpatch_audit.inputs.shard import Shard, split
from hotpatch_audit.rules.catalog import Catalog, load_catalog
from hotpatch_audit.rules.updates import UpdateContext

if TYPE_CHECKING:
    from hotpatch_audit.collect.transport import TransportPool


@dataclass(frozen=True)
class AuditOptions:
    """The command-line options of an audit run."""

    inventory: Path
    limit: str | None = None
    facts_dir: Path | None = None
    report_dir: Path = Path("reports")
    as_of: date | None = None
    catalogs: tuple[Path, ...] = ()
    policy: Path | None = None
    workers: int | None = None  # None: sized to the fleet (collect.pool.default_workers)
    deadline_sec: float = 120.0
    shard: Shard | None = None
    collect_only: bool = False


@dataclass
class AuditSession:
    """Inputs, selection and facts of one run."""

    options: AuditOptions
    inventory: Inventory
    guests: list[Guest]
    catalog: Catalog
    policy: Policy
    run_id: str
    started: datetime
    run_dir: Path | None = None
    facts: dict[str, GuestFacts] = field(default_factory=dict)
    facts_errors: dict[str, str] = field(default_factory=dict)
    transports: TransportPool | None = None

    @classmethod
    def load(cls, options: AuditOptions) -> AuditSession:
        """Load and validate every input file; raises InputFileError subclasses."""
        inventory = load_inventory(options.inventory)
        guests = _selection(inventory, options)
        if options.facts_dir is None and not options.collect_only:
            check_live_settings(guests, options.inventory)
        started = datetime.now(UTC)
        return cls(
            options=options,
            inventory=inventory,
            guests=guests,
            catalog=load_catalog(options.catalogs),
            policy=load_policy(options.policy),
            run_id=f"{started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}",
            started=started,
        )

    @property
    def mode(self) -> str:
        """``replay`` with --facts-dir, else ``live``."""
        return "replay" if self.options.facts_dir is not None else "live"

    @property
    def inventory_sha256(self) -> str:
        """Digest of the inventory file as read."""
        return hashlib.sha256(self.options.inventory.read_bytes()).hexdigest()

    def create_run_dir(self) -> Path:
        """Create ``<report-dir>/<UTC timestamp>-<short id>/`` with its ``facts/`` folder."""
        run_dir = self.options.report_dir / self.run_id
        (run_dir / "facts").mkdir(parents=True, exist_ok=False)
        self.run_dir = run_dir
        return run_dir

    def acquire(self, collect: Collect | None = None, progress: Callable[[Progress], None] | None = None) -> None:
        """Obtain every selected guest's facts (replay, or live with `collect`), copying them to the run dir."""
        if self.options.facts_dir is not None:
            for guest in self.guests:
                self._replay(guest, self.options.facts_dir)
            return
        if collect is None:
            msg = "live collection needs a collector"
            raise ValueError(msg)
        retry = RetryPolicy(deadline_sec=self.options.deadline_sec)
        outcomes = collect_fleet(self.guests, collect, workers=self.options.workers, retry=retry, progress=progress)
        for guest in self.guests:
            outcome = outcomes[guest.name]
            if isinstance(outcome, FactsError):
                self.facts_errors[guest.name] = str(outcome)
            else:
                self._keep(guest.name, outcome)

    def adopt(self, run_dir: Path, facts_errors: Mapping[str, str]) -> None:
        """Use the facts another process already obtained into `run_dir` (pytest-xdist workers)."""
        self.run_dir = run_dir
        self.facts_errors.update(facts_errors)
        for guest in self.guests:
            if guest.name not in facts_errors:
                self._replay(guest, run_dir / "facts", copy=False)

    def _replay(self, guest: Guest, facts_dir: Path, *, copy: bool = True) -> None:
        try:
            path = facts_path(facts_dir, guest.name)
            facts = load_facts_file(path, guest.name)
        except FactsError as err:
            self.facts_errors[guest.name] = str(err)
            return
        self.facts[guest.name] = facts
        if copy and self.run_dir is not None:
            (self.run_dir / "facts" / path.name).write_bytes(path.read_bytes())

    def _keep(self, name: str, data: dict[str, Any]) -> None:
        try:
            self.facts[name] = parse_facts(data, f"{name} (collected facts)")
        except FactsError as err:
            self.facts_errors[name] = str(err)
        if self.run_dir is not None:
            text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
            facts_path(self.run_dir / "facts", name).write_text(text, encoding="utf-8")

    def host(self, guest: str) -> Any:
        """The guest's testinfra Host on a connection kept for the rest of the run (live runs only)."""
        if self.mode == "replay":
            msg = f"{guest}: a host.run check needs a live connection; it cannot run when replaying --facts-dir"
            raise NotEvaluatedError(msg)
        if self.transports is None:
            from hotpatch_audit.collect.transport import TransportPool

            self.transports = TransportPool()
        return self.transports.get(self.inventory.guests[guest]).host

    def close(self) -> None:
        """Close the connections kept for users' host.run checks."""
        if self.transports is not None:
            self.transports.close()

    def facts_for(self, guest: str) -> GuestFacts:
        """The guest's facts, or FactsError with the reason they could not be obtained."""
        if guest in self.facts:
            return self.facts[guest]
        msg = self.facts_errors.get(guest, f"{guest}: no facts were obtained")
        raise FactsError(msg)

    def as_of(self, facts: GuestFacts) -> date:
        """--as-of, else the date part of the guest's collected_at (UTC)."""
        return self.options.as_of or facts.collected_at.astimezone(UTC).date()

    def update_context(self, facts: GuestFacts) -> UpdateContext:
        """Catalog, policy and as-of date for HP-05/HP-06."""
        return UpdateContext(self.catalog, self.policy, self.as_of(facts))

    def facts_ref(self, guest: str) -> str | None:
        """The facts file of `guest` relative to the run dir, if it was stored."""
        return f"facts/{facts_filename(guest)}" if guest in self.facts else None


def _selection(inventory: Inventory, options: AuditOptions) -> list[Guest]:
    guests = select(inventory, options.limit)
    if not guests:
        msg = f"{options.inventory}: the inventory has no hosts: there is nothing to audit"
        raise InventoryError(msg)
    if options.shard is None:
        return guests
    mine = split(guests, options.shard)
    if not mine:
        msg = (
            f"--shard {options.shard}: none of the {len(guests)} selected guests falls in this shard: "
            "use fewer shards than guests"
        )
        raise InventoryError(msg)
    return mine
