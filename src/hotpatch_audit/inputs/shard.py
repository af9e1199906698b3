"""``--shard K/N``: split the selected guests deterministically so N jobs can each audit a part.

A guest's shard depends only on its name (a SHA-256 of the name, modulo N), so the split is stable when the
inventory is reordered or other guests are added, and every guest lands in exactly one shard.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `count`."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """Parse ``K/N`` with 1 <= K <= N."""
        m = _SPEC.match(text)
        if m is None or not 1 <= int(m.group(1)) <= int(m.group(2)):
            msg = f"--shard '{text}' must be K/N with 1 <= K <= N, e.g. 2/4"
            raise ValueError(msg)
        return cls(int(m.group(1)), int(m.group(2)))

    def owns(self, name: str) -> bool:
        """Whether the guest called `name` belongs to this shard."""
        digest = hashlib.sha256(name.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def split(items: Sequence[T], shard: Shard, name: str = "name") -> list[T]:
    """The items whose `name` attribute this shard owns, in their original order."""
    return [item for item in items if shard.owns(str(getattr(item, name)))]
