"""Months and builds as people write them: accepted exactly, refused with the expected form, printed back the same."""

from __future__ import annotations

from datetime import date

import pytest

from hotpatch_audit.calendar import Build, Month


@pytest.mark.parametrize(("text", "month"), [("2026-05", Month(2026, 5)), ("0999-12", Month(999, 12))])
def test_a_month_is_parsed_and_printed_back(text: str, month: Month) -> None:
    assert Month.parse(text) == month
    assert str(month) == text


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-5", "26-05", "2026/05", " 2026-05", "2026-05-01"])
def test_a_bad_month_says_the_form(text: str) -> None:
    with pytest.raises(ValueError, match="is not a month") as err:
        Month.parse(text)
    assert str(err.value) == f"'{text}' is not a month (expected YYYY-MM)"


def test_the_month_of_a_day_and_its_patch_tuesday() -> None:
    assert Month.of(date(2026, 5, 31)) == Month(2026, 5)
    assert Month(2026, 5).patch_tuesday == date(2026, 5, 12)
    assert Month(2026, 12).next() == Month(2027, 1)


@pytest.mark.parametrize(
    ("text", "build"), [("20348.5074", Build(20348, 5074)), (" 26100.32690\n", Build(26100, 32690))]
)
def test_a_build_is_parsed_and_printed_back(text: str, build: Build) -> None:
    assert Build.parse(text) == build
    assert str(build) == text.strip()


@pytest.mark.parametrize("text", ["20348", "20348.", ".5074", "20348.5074.1", "20348,5074", "KB5074", ""])
def test_a_bad_build_says_the_form(text: str) -> None:
    with pytest.raises(ValueError, match="is not a build") as err:
        Build.parse(text)
    assert str(err.value) == f"'{text}' is not a build (expected CurrentBuild.UBR, e.g. 20348.5074)"
