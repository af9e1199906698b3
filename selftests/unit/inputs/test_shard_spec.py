"""``--shard K/N`` accepts exactly 1 <= K <= N, and a guest's shard is a fixed function of its name."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hotpatch_audit.inputs.shard import Shard, split


@dataclass(frozen=True)
class Host:
    name: str
    alias: str = ""


@pytest.mark.parametrize(
    ("text", "index", "count"), [("1/1", 1, 1), (" 2 / 4 ", 2, 4), ("4/4", 4, 4), ("10/12", 10, 12)]
)
def test_a_shard_spec_is_parsed(text: str, index: int, count: int) -> None:
    shard = Shard.parse(text)
    assert (shard.index, shard.count) == (index, count)
    assert str(shard) == f"{index}/{count}"


@pytest.mark.parametrize("text", ["0/4", "5/4", "1/0", "1", "1-4", "1/4/2", "a/b", "", "/4", "-1/4"])
def test_a_bad_shard_spec_names_itself_and_the_form(text: str) -> None:
    with pytest.raises(ValueError, match="must be K/N") as err:
        Shard.parse(text)
    assert str(err.value) == f"--shard '{text}' must be K/N with 1 <= K <= N, e.g. 2/4, or auto"


# Pinned: a guest must stay in its shard across versions, or a scheduled job would audit someone else's guests.
@pytest.mark.parametrize(
    ("index", "names"),
    [(1, ["vm5", "vm7", "vm9", "vm10"]), (2, ["vm0", "vm2", "vm3", "vm4", "vm8", "vm11"]), (3, ["vm1", "vm6"])],
)
def test_the_guests_of_a_shard_are_fixed_by_their_names(index: int, names: list[str]) -> None:
    hosts = [Host(f"vm{i}") for i in range(12)]
    assert [h.name for h in split(hosts, Shard(index, 3))] == names


def test_split_reads_the_named_attribute() -> None:
    hosts = [Host("a", alias="vm5"), Host("b", alias="vm1")]
    assert split(hosts, Shard(1, 3), name="alias") == [hosts[0]]
