"""``--shard K/N`` or ``--shard auto``: split the selected guests deterministically so N jobs can each audit a part.

A guest's shard depends only on its name (a SHA-256 of the name, modulo N), so the split is stable when the
inventory is reordered or other guests are added, and every guest lands in exactly one shard.

``--shard auto`` takes K and N from the job engine running the audit, and says which it used:

- Kubernetes Indexed Job: ``JOB_COMPLETION_INDEX`` (0-based); Kubernetes exposes no count, so N comes from
  ``--shard-count`` or else ``HOTPATCH_SHARD_COUNT`` (set it to the Job's ``completions``);
- Azure Pipelines parallel job (``strategy: parallel: N``): ``SYSTEM_JOBPOSITIONINPHASE`` (1-based) and
  ``SYSTEM_TOTALJOBSINPHASE``;
- GitLab CI ``parallel: N``: ``CI_NODE_INDEX`` (1-based) and ``CI_NODE_TOTAL``.

Variables of none or of several engines are an error: a shard that guessed could skip or repeat guests.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
T = TypeVar("T")
COUNT_VARIABLE = "HOTPATCH_SHARD_COUNT"
KUBERNETES = "Kubernetes Indexed Job"
# engine: (index variable, count variable, first index)
_ENGINES: dict[str, tuple[str, str, int]] = {
    KUBERNETES: ("JOB_COMPLETION_INDEX", COUNT_VARIABLE, 0),
    "Azure Pipelines parallel job": ("SYSTEM_JOBPOSITIONINPHASE", "SYSTEM_TOTALJOBSINPHASE", 1),
    "GitLab parallel job": ("CI_NODE_INDEX", "CI_NODE_TOTAL", 1),
}


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `count`; `source` says where K and N came from when they were not given."""

    index: int
    count: int
    source: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str, environ: Mapping[str, str] | None = None) -> Shard:
        """Parse ``K/N`` with 1 <= K <= N, or ``auto`` (read from `environ`, see :meth:`from_environment`)."""
        if text.strip() == "auto":
            return cls.from_environment(environ or {})
        m = _SPEC.match(text)
        if m is None or not 1 <= int(m.group(1)) <= int(m.group(2)):
            msg = f"--shard '{text}' must be K/N with 1 <= K <= N, e.g. 2/4, or auto"
            raise ValueError(msg)
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def resolve(cls, text: str | None, count: int | None, environ: Mapping[str, str]) -> Shard | None:
        """The shard of ``--shard TEXT`` and ``--shard-count COUNT`` (None when neither is given)."""
        if count is not None and (text is None or text.strip() != "auto"):
            msg = "--shard-count goes with --shard auto (on a Kubernetes Indexed Job); with --shard K/N, drop it"
            raise ValueError(msg)
        if text is None:
            return None
        return cls.from_environment(environ, count) if text.strip() == "auto" else cls.parse(text)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], count: int | None = None) -> Shard:
        """K and N from the job engine's variables in `environ`; `count` (``--shard-count``) for Kubernetes."""
        found = [engine for engine, (index_var, _, _) in _ENGINES.items() if index_var in environ]
        if not found:
            names = "; ".join(f"{engine}: {i}/{c}" for engine, (i, c, _) in _ENGINES.items())
            msg = f"--shard auto: no job engine's shard variables are set ({names}); use --shard K/N"
            raise ValueError(msg)
        if len(found) > 1:
            msg = f"--shard auto: variables of several engines are set ({', '.join(found)}); use --shard K/N"
            raise ValueError(msg)
        engine = found[0]
        index_var, count_var, first = _ENGINES[engine]
        index = _integer(environ, index_var, engine)
        if engine == KUBERNETES and count is not None:
            total, count_from = count, "--shard-count"
        elif count is not None:
            msg = f"--shard auto: --shard-count is for a Kubernetes Indexed Job; {engine} sets {count_var}"
            raise ValueError(msg)
        elif count_var in environ:
            total, count_from = _integer(environ, count_var, engine), count_var
        else:
            hint = "--shard-count N (the Job's completions) or " if engine == KUBERNETES else ""
            msg = f"--shard auto: {engine}: {index_var} is set but not {count_var}; give {hint}{count_var}"
            raise ValueError(msg)
        if total < 1:
            msg = f"--shard auto: {engine}: {count_from}={total}: there must be at least one shard"
            raise ValueError(msg)
        shard_index = index - first + 1
        if not 1 <= shard_index <= total:
            last = total - 1 + first
            msg = f"--shard auto: {engine}: {index_var}={index} is outside {first}..{last} ({count_from}={total})"
            raise ValueError(msg)
        return cls(shard_index, total, f"{engine}: {index_var}={index}, {count_from}={total}")

    def owns(self, name: str) -> bool:
        """Whether the guest called `name` belongs to this shard."""
        digest = hashlib.sha256(name.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def describe(self) -> str:
        """``K/N``, and where K and N came from, e.g. ``2/4 (GitLab parallel job: CI_NODE_INDEX=2, ...)``."""
        return f"{self} ({self.source})" if self.source else str(self)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def _integer(environ: Mapping[str, str], name: str, engine: str) -> int:
    value = environ[name].strip()
    if not value.isdigit():
        msg = f"--shard auto: {engine}: {name}={environ[name]!r} is not a whole number"
        raise ValueError(msg)
    return int(value)


def split(items: Sequence[T], shard: Shard, name: str = "name") -> list[T]:
    """The items whose `name` attribute this shard owns, in their original order."""
    return [item for item in items if shard.owns(str(getattr(item, name)))]
