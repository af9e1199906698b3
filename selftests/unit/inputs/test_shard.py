"""--shard splits guests into a stable partition."""

import random
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotpatch_audit.inputs.shard import Shard, split


@dataclass(frozen=True)
class G:
    name: str


names = st.lists(st.text(min_size=1, max_size=20), min_size=0, max_size=60, unique=True)


@given(names, st.integers(min_value=1, max_value=9))
def test_shards_partition_the_guests(guest_names: list[str], count: int) -> None:
    guests = [G(n) for n in guest_names]
    parts = [split(guests, Shard(k, count)) for k in range(1, count + 1)]
    flat = [g.name for part in parts for g in part]
    assert sorted(flat) == sorted(guest_names)
    assert len(flat) == len(set(flat))


@given(names, st.integers(min_value=1, max_value=9), st.randoms())
def test_shards_are_stable_under_reordering(guest_names: list[str], count: int, rnd: random.Random) -> None:
    shuffled = guest_names[:]
    rnd.shuffle(shuffled)
    for k in range(1, count + 1):
        a = {g.name for g in split([G(n) for n in guest_names], Shard(k, count))}
        b = {g.name for g in split([G(n) for n in shuffled], Shard(k, count))}
        assert a == b


def test_shards_are_balanced_on_a_real_sized_fleet() -> None:
    guests = [G(f"hci-vm-{i:04d}") for i in range(1000)]
    sizes = [len(split(guests, Shard(k, 4))) for k in range(1, 5)]
    assert min(sizes) > 200


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0"])
def test_bad_shard_spec(text: str) -> None:
    with pytest.raises(ValueError, match="must be K/N"):
        Shard.parse(text)
