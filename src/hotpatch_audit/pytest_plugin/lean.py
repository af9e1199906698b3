"""The lean run of a check that asks only for the audit's own fixtures: the same reports, a fraction of the cost.

pytest's protocol costs about a millisecond a test (three phases, each through every plugin's setup/call/teardown
hooks, fixture resolution, output and log capture), which is most of an audit's time at thousands of guests
with nine controls each. A check of ``tests/`` is a pure function of the guest's facts: it needs no fixture
machinery, prints nothing and logs nothing. So such a check runs here in one step: its arguments come from the
audit session directly, and the deciding phase (setup when it is skipped or cannot be evaluated, else call) goes
through ``pytest_runtest_makereport`` and ``pytest_runtest_logreport`` as usual, so the outcome is still decided
in :mod:`~hotpatch_audit.pytest_plugin.outcome` and the terminal, ``--lf``, ``--maxfail``, pytest-xdist and the
run's own junit.xml see the same results. Wrappers of ``pytest_runtest_protocol`` (warnings,
faulthandler) still wrap it.

Any other check takes pytest's full protocol: one asking for another fixture (``winrm_host``, a conftest's), a
run whose own plugins hook into the test phases, ``--pdb``/``--trace``/``--setup-show``, or an item that follows
one that left fixtures set up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeGuard

import pytest

from hotpatch_audit.pytest_plugin.outcome import shed
from hotpatch_audit.run.session import AuditSession

# The fixtures the lean run provides, and the plugins whose phase hooks do nothing for a check that uses only them
# (pytest's own runner, skipping, capture, logging and exception hooks; Hypothesis only acts on its own tests).
LEAN_FIXTURES = frozenset({"audit", "facts", "guest", "updates"})
_FIXTURE_MODULE = "hotpatch_audit.pytest_plugin.fixtures"
_PHASE_HOOKS = ("pytest_runtest_setup", "pytest_runtest_call", "pytest_runtest_teardown")
_QUIET_PLUGINS = frozenset(
    {
        "runner",
        "skipping",
        "capturemanager",
        "logging-plugin",
        "threadexception",
        "unraisableexception",
        "hypothesispytest",
        "hotpatch-audit",
    }
)
_RERAISE = (pytest.exit.Exception, KeyboardInterrupt)


class LeanRunner:
    """Decides which checks run lean, and runs them."""

    def __init__(self, config: pytest.Config, session: AuditSession, prepare: Callable[[pytest.Item], None]) -> None:
        """`prepare` raises pytest's skip for a check that does not apply (the plugin's setup rule)."""
        self.session = session
        self.prepare = prepare
        option = config.option
        self.enabled = not (
            getattr(option, "usepdb", False) or getattr(option, "trace", False) or getattr(option, "setupshow", False)
        )
        self._quiet_hooks: dict[int, bool] = {}
        self._where: dict[object, tuple[str, int | None]] = {}
        # A passed teardown report tells no one anything, except pytest's own --junitxml and pytest-html writers,
        # which finish a test case on it: only then is one logged.
        self.teardown_report = bool(getattr(option, "xmlpath", None) or getattr(option, "htmlpath", None))

    def eligible(self, item: pytest.Item) -> TypeGuard[pytest.Function]:
        """True when `item` can run lean without anything a full run would do going missing."""
        if not self.enabled or not isinstance(item, pytest.Function) or getattr(item, "callspec", None) is None:
            return False
        # `request` is in every closure (the audit fixture takes it); a check asking for it itself needs pytest's.
        closure, arguments = set(item.fixturenames) - {"request"}, set(item._fixtureinfo.argnames)
        if not closure <= LEAN_FIXTURES or not arguments <= LEAN_FIXTURES or "guest" not in item.callspec.params:
            return False
        defs = item._fixtureinfo.name2fixturedefs
        for name in LEAN_FIXTURES - {"guest"}:
            chain = defs.get(name)
            if chain and getattr(chain[-1].func, "__module__", None) != _FIXTURE_MODULE:
                return False  # a conftest overrides the fixture: its own code must run
        if item.session._setupstate.stack:
            return False  # a previous check left fixtures set up: pytest's protocol tears them down in order
        return self._hooks_quiet(item)

    def _hooks_quiet(self, item: pytest.Item) -> bool:
        key = id(item.ihook)
        quiet = self._quiet_hooks.get(key)
        if quiet is None:
            manager = item.config.pluginmanager
            impls = [impl for hook in _PHASE_HOOKS for impl in getattr(item.ihook, hook).get_hookimpls()]
            names = {manager.get_name(impl.plugin) for impl in impls}
            quiet = self._quiet_hooks[key] = names <= _QUIET_PLUGINS
        return quiet

    def run(self, item: pytest.Function) -> None:
        """Run one check: the reports a full run would log for it, from one evaluation."""
        ihook = item.ihook
        self._locate(item)
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        try:
            setup = pytest.CallInfo.from_call(lambda: self._arguments(item), when="setup", reraise=_RERAISE)
            if setup.excinfo is not None:
                _log(item, setup)
            else:
                _log(item, pytest.CallInfo.from_call(item.runtest, when="call", reraise=_RERAISE))
            if self.teardown_report:
                _log(item, pytest.CallInfo.from_call(lambda: None, when="teardown", reraise=_RERAISE))
        finally:
            item.funcargs = {}
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)

    def _locate(self, item: pytest.Function) -> None:
        """Give `item` the location of the first test of its check (file and line are the same for every guest).

        pytest would work them out again for each test, with a stat of the file each time.
        """
        where = self._where.get(item.function)
        if where is None:
            path, line, _ = item.location
            self._where[item.function] = (path, line)
        else:
            item.__dict__["location"] = (*where, item.getmodpath())  # pytest's cached_property, filled in

    def _arguments(self, item: pytest.Function) -> None:
        self.prepare(item)
        guest = str(item.callspec.params["guest"])
        args: dict[str, Any] = {"guest": guest, "audit": self.session}
        if "facts" in item.fixturenames or "updates" in item.fixturenames:
            facts = self.session.facts_for(guest)
            args["facts"] = facts
            if "updates" in item.fixturenames:
                args["updates"] = self.session.update_context(facts)
        item.funcargs = args


def _log(item: pytest.Function, call: pytest.CallInfo[None]) -> None:
    report: pytest.TestReport = item.ihook.pytest_runtest_makereport(item=item, call=call)
    item.ihook.pytest_runtest_logreport(report=report)
    shed(report)
