"""The deploy/ recipes, played: each parses, calls only options the command line has, and, run as its engine runs
it (N shard processes with the engine's variables on recorded facts, then its merge step), gives one merged run
that is complete (the outcomes of an unsharded audit) and verifies against its manifest.

Each engine's own work (checkout, artifacts, downloads) is done here with file copies; the scripts themselves
run unchanged in the shell the engine would use, from a checkout of the repository's compliance checks.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditrun import AS_OF, FAIL_HP04, FAIL_HP07, write_fleet
from hotpatch_audit.__main__ import COMMANDS
from hotpatch_audit.inputs.shard import Shard
from support import REPO, run_audit

pytestmark = pytest.mark.e2e

DEPLOY = REPO / "deploy"
GUESTS: dict[str, dict[str, Any] | None] = {f"hci-vm-{i:02d}": {} for i in range(1, 13)} | {
    "hci-vm-13": FAIL_HP04,
    "hci-vm-14": FAIL_HP07,
}
ENGINE_VARIABLES = (
    "JOB_COMPLETION_INDEX", "HOTPATCH_SHARD_COUNT", "SYSTEM_JOBPOSITIONINPHASE", "SYSTEM_TOTALJOBSINPHASE",
    "CI_NODE_INDEX", "CI_NODE_TOTAL",
)  # fmt: skip


@dataclass
class Step:
    """One script as the engine runs it: the shell, the script, its variables and where it runs."""

    shell: list[str]
    script: str
    env: dict[str, str]
    cwd: Path


@dataclass
class Recipe:
    """An engine's recipe, reduced to what the engine would run, in order."""

    shards: int
    shard_steps: list[Step]
    merge_step: Step
    merged: Path  # where the merge step writes the merged run directory
    inputs: Path  # where the merge step finds the shards' runs (shard-*/<run>/)
    after_shard: Callable[[int], None] = field(default=lambda _: None)  # the engine's artifact handling


@dataclass
class Site:
    """The recorded fleet and the checkout a recipe runs in."""

    tmp: Path
    checkout: Path
    inventory: Path
    audit_args: str


def checkout(tmp: Path) -> Site:
    """A checkout of what the recipes need from the repository (the package itself is installed)."""
    inventory = write_fleet(tmp / "fleet", GUESTS)
    root = tmp / "checkout"
    shutil.copytree(REPO / "tests", root / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("conftest.py", "pyproject.toml"):
        shutil.copyfile(REPO / name, root / name)
    return Site(tmp, root, inventory, f"--facts-dir {tmp / 'fleet' / 'facts'} --as-of {AS_OF}")


def base_env() -> dict[str, str]:
    """This environment without any engine's shard variables, with this interpreter's python first on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ENGINE_VARIABLES}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def kubernetes(site: Site) -> Recipe:
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "hotpatch-audit-job.yaml").read_text(encoding="utf-8")))
    jobs = {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == "Job"}
    shards_job, merge_job = jobs["hotpatch-audit-shards"], jobs["hotpatch-audit-merge"]
    assert shards_job["spec"]["completionMode"] == "Indexed"
    count = shards_job["spec"]["completions"]
    runs = site.tmp / "pv"

    def step(job: dict[str, Any], index: int | None) -> Step:
        (container,) = job["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
        assert env["HOTPATCH_SHARD_COUNT"] == str(count)  # Kubernetes has no count variable: the recipe's must agree
        assert container["workingDir"] == "/app"
        env.update(RUNS=str(runs), HOTPATCH_INVENTORY=str(site.inventory), HOTPATCH_AUDIT_ARGS=site.audit_args)
        if index is not None:
            assert "HOTPATCH_INVENTORY" in {e["name"] for e in container["env"]}
            env["JOB_COMPLETION_INDEX"] = str(index)  # set by the Job controller, from 0
        shell, script = container["command"][:2], container["command"][2]
        return Step(shell, script, {**base_env(), **env}, site.checkout)

    merged_env = step(merge_job, None).env
    merged = runs / merged_env["AUDIT_RUN"] / "merged"
    shards = [step(shards_job, i) for i in range(count)]
    return Recipe(count, shards, step(merge_job, None), merged, merged.parent)


def gitlab(site: Site) -> Recipe:
    doc = yaml.safe_load((DEPLOY / "gitlab" / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    count = doc["audit"]["parallel"]
    assert doc["variables"]["SHARDS"] == str(count)
    assert doc["merge"]["needs"] == ["audit"]
    assert doc["default"]["before_script"] == ["pip install --quiet ."]
    variables = {**doc["variables"], "HOTPATCH_INVENTORY": str(site.inventory), "HOTPATCH_AUDIT_ARGS": site.audit_args}
    shell = ["bash", "-e", "-o", "pipefail", "-c"]  # each job's script lines run in one shell, as the runner does

    def job_env(index: int | None) -> dict[str, str]:
        extra = {} if index is None else {"CI_NODE_INDEX": str(index), "CI_NODE_TOTAL": str(count)}
        return {**base_env(), **variables, **extra}

    shards = [Step(shell, "\n".join(doc["audit"]["script"]), job_env(i), site.checkout) for i in range(1, count + 1)]
    merge = Step(shell, "\n".join(doc["merge"]["script"]), job_env(None), site.checkout)
    # Artifacts of every audit job (runs/) land in the merge job's checkout: here all ran in the same one.
    return Recipe(count, shards, merge, site.checkout / "runs" / "merged", site.checkout / "runs")


def azure(site: Site) -> Recipe:
    doc = yaml.safe_load((DEPLOY / "azure-pipelines" / "azure-pipelines.yml").read_text(encoding="utf-8"))
    jobs = {job["job"]: job for job in doc["jobs"]}
    count = jobs["audit"]["strategy"]["parallel"]
    assert doc["variables"]["SHARDS"] == count
    assert jobs["merge"]["dependsOn"] == "audit"
    workspace = site.tmp / "pipeline-workspace"
    variables = {k.upper().replace(".", "_"): str(v) for k, v in doc["variables"].items()}  # as Azure maps them
    variables.update(HOTPATCH_INVENTORY=str(site.inventory), HOTPATCH_AUDIT_ARGS=site.audit_args)
    shell = ["bash", "--noprofile", "--norc", "-c"]  # Azure's bash step: no -e unless the script sets it

    def script(job: str, name: str) -> str:
        return next(s["bash"] for s in jobs[job]["steps"] if s.get("displayName") == name)

    (publish,) = [s for s in jobs["audit"]["steps"] if "publish" in s]
    assert any(s.get("download") == "current" for s in jobs["merge"]["steps"])

    def publish_and_download(index: int) -> None:
        def macro(text: str) -> str:
            return text.replace("$(System.JobPositionInPhase)", str(index))

        shutil.copytree(site.checkout / macro(publish["publish"]), workspace / macro(publish["artifact"]))

    shard_env = {**base_env(), **variables, "SYSTEM_TOTALJOBSINPHASE": str(count)}
    shards = [
        Step(
            shell, script("audit", "audit one shard"), {**shard_env, "SYSTEM_JOBPOSITIONINPHASE": str(i)}, site.checkout
        )
        for i in range(1, count + 1)
    ]
    merge_env = {**base_env(), **variables, "PIPELINE_WORKSPACE": str(workspace)}
    merge = Step(shell, script("merge", "merge and verify"), merge_env, site.checkout)
    return Recipe(count, shards, merge, site.checkout / "merged", workspace, publish_and_download)


RECIPES = {"kubernetes": kubernetes, "azure-pipelines": azure, "gitlab": gitlab}


def run(step: Step) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*step.shell, step.script], cwd=step.cwd, env=step.env, capture_output=True, text=True, timeout=300, check=False
    )


def outcomes(results: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(r["guest"], r["control"]): r["outcome"] for r in results["results"]}


@pytest.fixture(scope="module")
def unsharded(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    """The outcomes of the same fleet audited in one run: what a complete merge must hold."""
    tmp = tmp_path_factory.mktemp("unsharded")
    inventory = write_fleet(tmp, GUESTS)
    done = run_audit(inventory, tmp / "reports", "--facts-dir", str(tmp / "facts"), "--as-of", AS_OF)
    assert done.code == 1, done.output  # two guests fail on purpose
    return outcomes(done.results)


@pytest.fixture(scope="module")
def audit_help() -> str:
    """``pytest --help`` of a checkout: every option the compliance run accepts."""
    env = base_env()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    assert "--shard-count" in done.stdout
    return done.stdout


def commands(script: str) -> list[list[str]]:
    """Every ``python -m pytest`` and ``python -m hotpatch_audit`` command in a shell script, as words."""
    found = []
    for line in script.splitlines():
        for match in re.finditer(r"python -m (pytest|hotpatch_audit)\b(.*?)(?=\s*(?:\|\||&&|;|$))", line):
            # The one unquoted expansion is meant to split into the user's extra audit options.
            words = shlex.split(match.group(2).replace("$HOTPATCH_AUDIT_ARGS", ""))
            found.append([match.group(1), *words])
    return found


@pytest.mark.parametrize("engine", RECIPES)
def test_recipe_commands_exist_on_the_command_line(engine: str, tmp_path: Path, audit_help: str) -> None:
    recipe = RECIPES[engine](checkout(tmp_path))
    found = [c for step in (recipe.shard_steps[0], recipe.merge_step) for c in commands(step.script)]
    assert [c[:2] if c[0] == "hotpatch_audit" else c[:1] for c in found] == [
        ["pytest"], ["hotpatch_audit", "merge"], ["hotpatch_audit", "verify"]
    ]  # fmt: skip
    for words in found:
        if words[0] == "pytest":
            options = [w.split("=", 1)[0] for w in words if w.startswith("--")]
            assert "--shard" in options
            for option in options:
                assert re.search(rf"^\s+{re.escape(option)}[ =,]", audit_help, flags=re.MULTILINE), option
        else:
            parser = argparse.ArgumentParser(exit_on_error=False)
            importlib.import_module(COMMANDS[words[1]][0]).add_arguments(parser)
            parser.parse_args(words[2:])  # raises on an option or argument the command does not have


@pytest.mark.parametrize("engine", RECIPES)
def test_recipe_played_gives_one_complete_sealed_run_and_refuses_a_missing_shard(
    engine: str, tmp_path: Path, unsharded: dict[tuple[str, str], str]
) -> None:
    recipe = RECIPES[engine](checkout(tmp_path))
    assert recipe.shards >= 2
    owners = {k: [g for g in GUESTS if Shard(k, recipe.shards).owns(g)] for k in range(1, recipe.shards + 1)}
    assert all(owners.values()), owners  # precondition: every shard audits someone
    for index, step in enumerate(recipe.shard_steps, start=1):
        done = run(step)
        assert done.returncode == 0, done.stdout + done.stderr
        header = re.search(r"^hotpatch-audit shard: (\d+)/(\d+) \((.+)\)$", done.stdout, flags=re.MULTILINE)
        assert header is not None, done.stdout
        assert (int(header.group(1)), int(header.group(2))) == (index, recipe.shards)
        assert (
            header.group(3).split(":")[0]
            in {
                "kubernetes": "Kubernetes Indexed Job",
                "azure-pipelines": "Azure Pipelines parallel job",
                "gitlab": "GitLab parallel job",
            }[engine]
        )
        recipe.after_shard(index)
    done = run(recipe.merge_step)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^verify: \S+: OK, \d+ files match manifest.sha256", done.stdout, flags=re.MULTILINE), done.stdout
    merged = json.loads((recipe.merged / "results.json").read_text(encoding="utf-8"))
    assert outcomes(merged) == unsharded  # complete: every guest and control, as one run would judge them
    assert merged["run"].get("complete", True) is True  # where the results format records completeness
    assert sorted(p.stem for p in (recipe.merged / "facts").iterdir()) == sorted(GUESTS)
    verify = subprocess.run(
        [sys.executable, "-m", "hotpatch_audit", "verify", str(recipe.merged)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout
    # A shard whose job failed, or whose artifacts are gone: the merge step refuses an incomplete run.
    shutil.rmtree(min(recipe.inputs.glob("shard-*")))
    shutil.rmtree(recipe.merged)
    recipe.merge_step.env["WAIT_SECONDS"] = "0"  # the Kubernetes merge Job's wait for late shards
    done = run(recipe.merge_step)
    assert done.returncode != 0
    assert f"expected {recipe.shards} sealed shard runs, found {recipe.shards - 1}" in done.stderr
    assert not recipe.merged.exists()
