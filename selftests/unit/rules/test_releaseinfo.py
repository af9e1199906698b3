"""Microsoft's release information page read strictly: by header names, every cell checked, never a guess."""

from datetime import date
from pathlib import Path

import pytest

from hotpatch_audit.calendar import Build, Month
from hotpatch_audit.rules.releaseinfo import PageDriftError, PagePlan, ReleasePage, parse_page

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "release-sources"
MARKDOWN = (FIXTURES / "release-info.md").read_text(encoding="utf-8")
HTML = (FIXTURES / "release-info.html").read_text(encoding="utf-8")


def rows(page: ReleasePage) -> dict[str, tuple[object, ...]]:
    return {r.kb: (r.os, str(r.month), r.released, r.type, r.track, str(r.build), r.planned) for r in page.releases()}


def test_markdown_and_html_say_the_same() -> None:
    md, html = parse_page(MARKDOWN), parse_page(HTML)
    assert md.releases() == html.releases()
    assert md.plans == html.plans
    assert md.skipped == html.skipped
    assert (
        md.meta
        == html.meta
        == {
            "ms.date": "2026-06-09T00:00:00.0000000Z",
            "updated_at": "2026-06-10T03:00:00.0000000Z",
            "git_commit_id": "1" * 40,
        }
    )


@pytest.mark.parametrize("text", [MARKDOWN, HTML], ids=["markdown", "html"])
def test_what_the_page_varies_is_read(text: str) -> None:
    page = parse_page(text)
    found = rows(page)
    # Unplanned baseline: ^\*^ in Markdown, <sup>*</sup> in HTML; from a second calendar-year table of WS2022.
    assert found["KB5041160"] == (20348, "2024-08", date(2024, 8, 13), "baseline", "both", "20348.2655", "hotpatch")
    # A row with a trailing empty cell.
    assert found["KB5087423"][3:6] == ("hotpatch", "hotpatch", "26100.32772")
    # OOB label: month from the date (Microsoft labels the 2026-03-02 release "2026-02 OOB").
    assert found["KB5082314"][:5] == (20348, "2026-03", date(2026, 3, 2), "oob", "standard")
    # A baseline is in both tables: one row, the calendar's type.
    assert found["KB5082142"][3:5] == ("baseline", "both")
    # Standard monthly updates from the history tables; other OSes (2019) are left out.
    assert found["KB5999122"][3:6] == ("lcu", "standard", "20348.5260")
    assert "KB5087538" not in found
    # Blank future rows are announced months, never releases.
    assert PagePlan(26100, Month(2026, 7), "baseline") in page.plans
    assert PagePlan(26100, Month(2026, 8), "hotpatch") in page.plans
    assert all(r.month <= Month(2026, 6) for r in page.releases())
    assert page.skipped == [
        "Windows Server release history, OS build 26100, row 5: 2024-10 A 26100.1742 has no KB article"
    ]


def test_the_newest_hotpatch_of_each_os_is_read() -> None:
    found = rows(parse_page(MARKDOWN))
    assert found["KB5999022"] == (20348, "2026-06", date(2026, 6, 9), "hotpatch", "hotpatch", "20348.5190", None)
    assert found["KB5999025"][5] == "26100.32900"


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "| Month | Update type | Type | Availability date | Build | KB article |",
            "| Month | Update type | Kind | Availability date | Build | KB article |",
            "Windows Server hotpatch calendar, OS build 26100, calendar year 2026: table header is "
            "'Month | Update type | Kind | Availability date | Build | KB article'",
        ),
        (
            "| LTSC | 2026-05 B | 2026-05-12 | 26100.32860 |",
            "| LTSC | 2026-05 B | 12/05/2026 | 26100.32860 |",
            "Windows Server release history, OS build 26100, row 2: availability date '12/05/2026' is not YYYY-MM-DD",
        ),
        ("| 20348.5190 |", "| 20348.5190.1 |", "calendar year 2026, row 3: '20348.5190.1' is not a build"),
        (
            "| 2026.06 B | Hotpatch | 2026-06-09 | 20348.5190 |",
            "| 2026.06 B | Hotpatch | 2026-06-09 | 26100.5190 |",
            "build 26100.5190 is not OS build 20348",
        ),
        (
            "| May | 2026.05 B | Hotpatch |",
            "| May | 2026.05 B | Hotpatch (No restart) |",
            "type 'Hotpatch (No restart)' is not 'Baseline (Restart)' or 'Hotpatch'",
        ),
        (
            "| June | 2026.06 B | Hotpatch | 2026-06-09 |",
            "| June | 2026-06 B | Hotpatch | 2026-06-09 |",
            "update type '2026-06 B' is not 'YYYY.MM B'",
        ),
        ("| 2026-04 OOB |", "| 2026-04 Out-of-band |", "update type '2026-04 Out-of-band' is not 'YYYY-MM X'"),
        (
            "| July | 2026.07 B | Baseline (Restart) |  |  |  |\n\n**Calendar",
            "| July | 2026.07 B | Baseline (Restart) |  |  |  | x |\n\n**Calendar",
            "7 cells, expected 6",
        ),
        (
            "| June | 2026.06 B | Hotpatch | 2026-06-09 | 20348.5190 |",
            "| June | 2026.06 B | Hotpatch |  | 20348.5190 |",
            "date, build and KB must all be given or all be empty",
        ),
        ("[KB5999022](https", "[KB 5999022](https", "KB article 'KB 5999022' is not KB followed by digits"),
        (
            "## Windows Server hotpatch calendar",
            "## Windows Server hotpatch schedule",
            "section 'Windows Server hotpatch calendar' has no table for OS build 20348, 26100",
        ),
        (
            "**Windows Server 2022 (OS build 20348)**\n\nFor",
            "**Windows Server 2022**\n\nFor",
            "calendar year 2026, row 1: build 20348.5020 is not OS build 26100",
        ),
        (
            "| June | 2026.06 B | Hotpatch | 2026-06-09 | 20348.5190 |",
            "| June | 2026.06 B | Hotpatch | 2026-06-10 | 20348.5190 |",
            "2026-06-10 is not Patch Tuesday of 2026-06",
        ),
        ("| September | 2024.09 B |", "| September | 2024.09 B^\\*^ |", "the unplanned marker '*' on a Hotpatch row"),
        ("**Calendar year 2024**", "**Calendar year 2025**", "July '2024.07 B' is not a month of calendar year 2025"),
    ],
)
def test_drift_is_refused_with_where_and_what(old: str, new: str, problem: str) -> None:
    assert old in MARKDOWN
    with pytest.raises(PageDriftError) as err:
        parse_page(MARKDOWN.replace(old, new, 1))
    assert problem in str(err.value)


def test_html_header_drift_is_refused() -> None:
    head, tables = HTML.split('<table id="historyTable_0">', 1)
    drifted = head + '<table id="historyTable_0">' + tables.replace("<th>Availability date</th>", "<th>Date</th>", 1)
    with pytest.raises(PageDriftError, match=r"Windows Server release history, OS build 26100: table header is"):
        parse_page(drifted)


@pytest.mark.parametrize("text", ["", "{}", "Windows Server release information"])
def test_something_else_is_not_the_page(text: str) -> None:
    with pytest.raises(PageDriftError, match="neither Markdown"):
        parse_page(text)


def test_a_contradiction_between_the_two_tables_is_refused() -> None:
    contradicted = MARKDOWN.replace(
        "| LTSC | 2026-04 B | 2026-04-14 | 20348.5020 |", "| LTSC | 2026-04 B | 2026-04-14 | 20348.5021 |"
    )
    with pytest.raises(PageDriftError, match=r"KB5082142 20348\.50(20|21) .* contradicts"):
        parse_page(contradicted).releases()


def test_build_strings_compare_as_builds() -> None:
    page = parse_page(MARKDOWN)
    newest = max((r for r in page.releases() if r.os == 26100), key=lambda r: r.build)
    assert newest.build == Build(26100, 32990)


def test_tables_of_other_windows_server_releases_are_left_out() -> None:
    annual = (
        "**Windows Server, version 23H2 (OS build 25398)**\n\n"
        "| Servicing option | Update type | Availability date | Build | KB article |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| Annual Channel | 2026-05 B | 2026-05-12 | 25398.2200 | KB5087000 |\n\n"
    )
    page = parse_page(
        MARKDOWN.replace(
            "**Windows Server 2019 (OS build 17763)**", annual + "**Windows Server 2019 (OS build 17763)**"
        )
    )
    assert page.releases() == parse_page(MARKDOWN).releases()
