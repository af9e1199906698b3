"""--shard auto reads the shard from Kubernetes Indexed Jobs, Azure Pipelines and GitLab, and says which it used."""

import re

import pytest

from hotpatch_audit.inputs.shard import Shard

K8S = {"JOB_COMPLETION_INDEX": "2", "HOTPATCH_SHARD_COUNT": "4"}
AZURE = {"SYSTEM_JOBPOSITIONINPHASE": "3", "SYSTEM_TOTALJOBSINPHASE": "4"}
GITLAB = {"CI_NODE_INDEX": "3", "CI_NODE_TOTAL": "4"}


@pytest.mark.parametrize(
    ("environ", "count", "source"),
    [
        (K8S, None, "Kubernetes Indexed Job: JOB_COMPLETION_INDEX=2, HOTPATCH_SHARD_COUNT=4"),
        ({"JOB_COMPLETION_INDEX": "2"}, 4, "Kubernetes Indexed Job: JOB_COMPLETION_INDEX=2, --shard-count=4"),
        ({**K8S, "HOTPATCH_SHARD_COUNT": "9"}, 4, "Kubernetes Indexed Job: JOB_COMPLETION_INDEX=2, --shard-count=4"),
        (AZURE, None, "Azure Pipelines parallel job: SYSTEM_JOBPOSITIONINPHASE=3, SYSTEM_TOTALJOBSINPHASE=4"),
        ({**GITLAB, "PATH": "/bin"}, None, "GitLab parallel job: CI_NODE_INDEX=3, CI_NODE_TOTAL=4"),
    ],
)
def test_auto_reads_each_engine_and_says_which(environ: dict[str, str], count: int | None, source: str) -> None:
    shard = Shard.resolve("auto", count, environ)
    assert shard == Shard(3, 4)  # Kubernetes counts from 0, the others from 1: the same third shard of four
    assert shard is not None
    assert shard.describe() == f"3/4 ({source})"
    assert Shard.parse("auto", environ if count is None else {**environ, "HOTPATCH_SHARD_COUNT": str(count)}) == shard


def test_every_index_of_an_engine_is_one_shard_of_a_partition() -> None:
    k8s = {Shard.from_environment({"JOB_COMPLETION_INDEX": str(i)}, 3) for i in range(3)}
    gitlab = {Shard.from_environment({"CI_NODE_INDEX": str(i), "CI_NODE_TOTAL": "3"}) for i in range(1, 4)}
    assert k8s == gitlab == {Shard(1, 3), Shard(2, 3), Shard(3, 3)}


@pytest.mark.parametrize(
    ("environ", "count", "message"),
    [
        ({}, None, "no job engine's shard variables are set (Kubernetes Indexed Job: JOB_COMPLETION_INDEX/"),
        ({**K8S, **GITLAB}, None, "variables of several engines are set (Kubernetes Indexed Job, GitLab"),
        ({"JOB_COMPLETION_INDEX": "1"}, None, "give --shard-count N (the Job's completions) or HOTPATCH_SHARD_COUNT"),
        ({"CI_NODE_INDEX": "1"}, None, "GitLab parallel job: CI_NODE_INDEX is set but not CI_NODE_TOTAL"),
        ({"JOB_COMPLETION_INDEX": "4"}, 4, "JOB_COMPLETION_INDEX=4 is outside 0..3 (--shard-count=4)"),
        ({"CI_NODE_INDEX": "0", "CI_NODE_TOTAL": "2"}, None, "CI_NODE_INDEX=0 is outside 1..2 (CI_NODE_TOTAL=2)"),
        ({"CI_NODE_INDEX": "x1", "CI_NODE_TOTAL": "2"}, None, "CI_NODE_INDEX='x1' is not a whole number"),
        ({**AZURE, "SYSTEM_TOTALJOBSINPHASE": "0"}, None, "SYSTEM_TOTALJOBSINPHASE=0: there must be at least one"),
        (AZURE, 4, "--shard-count is for a Kubernetes Indexed Job; Azure Pipelines parallel job sets SYSTEM_TOTAL"),
    ],
)
def test_auto_refuses_to_guess(environ: dict[str, str], count: int | None, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Shard.resolve("auto", count, environ)


def test_shard_count_goes_with_auto_only() -> None:
    assert Shard.resolve(None, None, GITLAB) is None
    assert Shard.resolve("2/4", None, GITLAB) == Shard(2, 4)
    assert Shard.resolve("2/4", None, GITLAB).describe() == "2/4"  # type: ignore[union-attr]
    for text in (None, "2/4"):
        with pytest.raises(ValueError, match="--shard-count goes with --shard auto"):
            Shard.resolve(text, 4, K8S)
