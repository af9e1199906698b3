"""``catalog update`` and ``catalog check`` on saved documents: what they write, what they refuse, exit codes."""

import json
from datetime import date
from pathlib import Path

import pytest

from hotpatch_audit.__main__ import main
from hotpatch_audit.calendar import Build
from hotpatch_audit.inputs.policy import Policy
from hotpatch_audit.inputs.yamlsrc import load_yaml
from hotpatch_audit.rules.catalog import DATA_DIR_ENV, load_catalog
from hotpatch_audit.rules.cvrf import CvrfError, Fix, read_fixes
from hotpatch_audit.rules.updates import UpdateContext, assess

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "release-sources"
PAGE = FIXTURES / "release-info.md"
CVRF = FIXTURES / "cvrf-2026-Jun.json"


def test_update_from_a_saved_page_writes_a_catalog_with_provenance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cat.yml"
    assert main(["catalog", "update", "--from", str(PAGE), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"to {out}" in printed
    assert "OS build 20348: every month through 2026-06" in printed
    provenance = load_yaml(out).data["provenance"]
    assert provenance["source"] == str(PAGE)
    assert provenance["updated_at"] == "2026-06-10T03:00:00.0000000Z"
    assert provenance["git_commit_id"] == "1" * 40
    assert provenance["retrieved_at"].endswith("Z")
    catalog = load_catalog([out], user=False)
    assert catalog.newest_months() == {"20348": "2026-06", "26100": "2026-06"}
    june = UpdateContext(catalog, Policy(), date(2026, 6, 25))
    status = assess(Build(20348, 5190), june)
    assert status.problem is None
    assert status.installed is not None
    assert status.installed.kb == "KB5999022"
    assert status.expected is not None
    assert status.expected.kb == "KB5999022"  # the newest due hotpatch is the one installed
    assert not (tmp_path / "cat.yml.new").exists()


def test_update_without_output_writes_the_per_user_catalog_that_audits_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    assert main(["catalog", "update", "--from", str(FIXTURES / "release-info.html")]) == 0
    user = tmp_path / "data" / "catalog.yml"
    assert f"to {user}" in capsys.readouterr().out
    catalog = load_catalog()
    assert catalog.sources == ("bundled:catalog.yml", str(user))
    assert catalog.newest_months()["20348"] == "2026-06"


def test_a_drifted_page_is_refused_and_the_catalog_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cat.yml"
    out.write_text("releases: []\n")
    drifted = tmp_path / "page.md"
    drifted.write_text(PAGE.read_text().replace("| Build | KB article |", "| OS build | KB article |"))
    assert main(["catalog", "update", "--from", str(drifted), "--output", str(out)]) == 4
    err = capsys.readouterr().err
    assert f"{drifted}: the page changed shape" in err
    assert "table header is" in err
    assert "Traceback" not in err
    assert out.read_text() == "releases: []\n"


def test_a_page_contradicting_the_bundled_catalog_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cat.yml"
    changed = tmp_path / "page.md"
    changed.write_text(PAGE.read_text().replace("| 20348.5074 | [KB5087424]", "| 20348.5075 | [KB5087424]"))
    assert main(["catalog", "update", "--from", str(changed), "--output", str(out)]) == 4
    err = capsys.readouterr().err
    assert "do not fit the bundled catalog" in err
    assert "changes 20348.5074 (KB5087424" in err
    assert not out.exists()
    assert not (tmp_path / "cat.yml.new").exists()


def test_update_from_a_missing_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "update", "--from", str(tmp_path / "nope.md"), "--output", str(tmp_path / "c.yml")]) == 4
    assert "cannot read file" in capsys.readouterr().err


def test_cvrf_fixes_are_read_by_subtype_product_and_fixed_build() -> None:
    doc_id, fixes = read_fixes(CVRF.read_text())
    assert doc_id == "2026-Jun"
    assert Fix(20348, "KB5999022", Build(20348, 5190), hotpatch=True) in fixes
    assert Fix(26100, "KB5999025", Build(26100, 32900), hotpatch=True) in fixes  # "SecurityHotpatchUpdate"
    assert Fix(20348, "KB5999122", Build(20348, 5260), hotpatch=False) in fixes  # two product ids, one fix
    assert all(f.os in (20348, 26100) for f in fixes)  # Windows Server 2019 is not audited
    assert len(fixes) == 6


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<cvrfdoc/>", "not JSON"),
        ('{"value": []}', "this is the list of documents"),
        (
            CVRF.read_text().replace('"FixedBuild": "10.0.20348.5190"', '"FixedBuild": "20348.5190"'),
            "CVE-2026-0001) Remediations[2]: FixedBuild '20348.5190' is not 10.0.BUILD.UBR",
        ),
    ],
)
def test_unreadable_cvrf_is_refused(text: str, problem: str) -> None:
    with pytest.raises(CvrfError) as err:
        read_fixes(text)
    assert problem in str(err.value)


def test_check_reports_disagreements_and_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cat = tmp_path / "cat.yml"
    assert main(["catalog", "update", "--from", str(PAGE), "--output", str(cat)]) == 0
    before = cat.read_bytes()
    capsys.readouterr()
    assert main(["catalog", "check", "--cvrf", str(CVRF), "--catalog", str(cat)]) == 1
    printed = capsys.readouterr().out
    assert "conflict: KB5087424: CVRF says Security Update, the catalog says 20348.5074" in printed
    assert "conflict: KB5087423: CVRF says build 26100.32773, the catalog says 26100.32772" in printed
    assert "missing: KB5123456 26100.32990 (Security Update) is not in the catalog (the catalog has build" in printed
    assert "2 disagreement(s): nothing was changed" in printed
    assert cat.read_bytes() == before
    assert load_catalog([cat], user=False).find(Build(20348, 5074)) is not None


def test_check_agreeing_document_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(CVRF.read_text())
    doc["Vulnerability"] = doc["Vulnerability"][:1]
    agreeing = tmp_path / "cvrf.json"
    agreeing.write_text(json.dumps(doc))
    cat = tmp_path / "cat.yml"
    assert main(["catalog", "update", "--from", str(PAGE), "--output", str(cat)]) == 0
    assert main(["catalog", "check", "--cvrf", str(agreeing), "--catalog", str(cat)]) == 0
    assert "no disagreement" in capsys.readouterr().out
