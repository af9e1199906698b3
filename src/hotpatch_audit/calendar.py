"""Calendar and build arithmetic: Patch Tuesday and numeric build comparison."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_BUILD = re.compile(r"^(\d+)\.(\d+)$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def patch_tuesday(year: int, month: int) -> date:
    """The second Tuesday of the month, when Microsoft releases monthly updates."""
    first = date(year, month, 1)
    first_tuesday = first + timedelta(days=(1 - first.weekday()) % 7)
    return first_tuesday + timedelta(days=7)


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, ordered."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """Parse ``YYYY-MM``."""
        m = _MONTH.match(text)
        if m is None:
            msg = f"'{text}' is not a month (expected YYYY-MM)"
            raise ValueError(msg)
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        """The month a date falls in."""
        return cls(day.year, day.month)

    def next(self) -> Month:
        """The following month."""
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def patch_tuesday(self) -> date:
        """This month's Patch Tuesday."""
        return patch_tuesday(self.year, self.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, order=True)
class Build:
    """An OS build ``CurrentBuild.UBR``, compared as integers (26100.7392 < 26100.32230)."""

    major: int
    revision: int

    @classmethod
    def parse(cls, text: str) -> Build:
        """Parse ``20348.5074``."""
        m = _BUILD.match(text.strip())
        if m is None:
            msg = f"'{text}' is not a build (expected CurrentBuild.UBR, e.g. 20348.5074)"
            raise ValueError(msg)
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.revision}"
