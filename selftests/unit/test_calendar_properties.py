"""Property-based tests of Patch Tuesday and build comparison."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hotpatch_audit.calendar import Build, Month, patch_tuesday

years = st.integers(min_value=2000, max_value=2100)
months = st.integers(min_value=1, max_value=12)
revisions = st.integers(min_value=0, max_value=10**6)


@given(years, months)
def test_patch_tuesday_is_the_second_tuesday(year: int, month: int) -> None:
    day = patch_tuesday(year, month)
    assert day.weekday() == 1
    assert (day.year, day.month) == (year, month)
    assert 8 <= day.day <= 14
    assert (day - timedelta(days=7)).month == month  # exactly one Tuesday of the month comes before it
    assert (day - timedelta(days=14)).month != month


@given(years, months)
def test_month_next_is_the_following_month(year: int, month: int) -> None:
    current = Month(year, month)
    following = current.next()
    assert following > current
    assert Month.of(date(year, month, 28) + timedelta(days=4)) == following


@given(revisions, revisions)
def test_builds_compare_as_integers_not_strings(a: int, b: int) -> None:
    left, right = Build.parse(f"26100.{a}"), Build.parse(f"26100.{b}")
    assert (left < right) == (a < b)
    assert (left == right) == (a == b)
    assert str(left) == f"26100.{a}"


@given(st.integers(min_value=1, max_value=99999), revisions)
def test_build_round_trips(major: int, revision: int) -> None:
    assert Build.parse(str(Build(major, revision))) == Build(major, revision)
