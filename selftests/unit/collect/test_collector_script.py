"""The collector script (syntax, read-only, coverage of the facts file) and the normalisation of its output."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
import tree_sitter_powershell
from tree_sitter import Language, Parser, Query, QueryCursor

from hotpatch_audit.collect.collector import build_script, facts_from_output, probes
from hotpatch_audit.collect.powershell import STDIN_LOADER, CommandOutput
from hotpatch_audit.errors import CollectionError
from hotpatch_audit.facts import facts_schema
from hotpatch_audit.testing.simulator.shell import clixml_error_document

POWERSHELL = Language(tree_sitter_powershell.language())
ENGINE = resources.files("hotpatch_audit").joinpath("collect/collector.ps1").read_text(encoding="utf-8")
# Every command the engine may run: data conversion, CIM queries and its own functions. Nothing that writes.
ALLOWED_COMMANDS = {
    "ConvertFrom-Json", "ConvertTo-Json", "Get-CimInstance", "Select-Object", "Get-Item", "Get-ItemProperty",
    "Get-WinEvent", "Get-Date", "Get-HklmSubPath", "Get-RegistryItem", "Read-RegistryValue", "Test-RegistryKey",
    "Get-CimRows", "Get-SystemEvents", "ConvertTo-AsciiJson", "Read-Probe",
}  # fmt: skip
WRITES = ("SetValue", "CreateSubKey", "DeleteValue", "DeleteSubKey", "Set-", "Remove-", "New-Item", "Out-File",
          "Start-", "Stop-", "Invoke-CimMethod", "Set-Content", "Add-Content", "TempFile", "GetTempPath")  # fmt: skip
AT = datetime(2026, 5, 27, 6, 0, tzinfo=UTC)
CLIXML = clixml_error_document('Invalid class "x"\r\nAt line:1').encode()


def syntax_errors(source: str) -> list[tuple[int, int, str]]:
    tree = Parser(POWERSHELL).parse(source.encode())
    found, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append((node.start_point.row + 1, node.start_point.column + 1, node.type))
        stack.extend(c for c in node.children if c.has_error or c.is_error or c.is_missing)
    return sorted(found)


@pytest.mark.parametrize("source", [ENGINE, build_script(), STDIN_LOADER], ids=["engine", "built", "stdin-loader"])
def test_scripts_parse(source: str) -> None:
    assert syntax_errors(source) == []


@pytest.mark.parametrize(
    ("good", "bad"),
    [("        return $null\n    }\n", "        return $null\n"), ("'SilentlyContinue'", "'SilentlyContinue")],
    ids=["missing-brace", "open-string"],
)
def test_a_syntax_error_is_caught(good: str, bad: str) -> None:
    assert good in ENGINE
    assert syntax_errors(ENGINE.replace(good, bad, 1)) != []


def test_engine_is_read_only_and_quiet() -> None:
    tree = Parser(POWERSHELL).parse(build_script().encode())
    captures = QueryCursor(Query(POWERSHELL, "(command command_name: (command_name) @name)")).captures(tree.root_node)
    assert {(n.text or b"").decode() for n in captures["name"]} <= ALLOWED_COMMANDS
    assert [w for w in WRITES if w in ENGINE] == []
    assert "$ProgressPreference = 'SilentlyContinue'" in ENGINE
    assert ENGINE.count("OpenSubKey((Get-HklmSubPath -Path $Path), $false)") == 2  # opened read-only


def _in_full_language_branch(node: object) -> bool:
    """Inside ``if ($FullLanguage) {...}``, or after ``if (-not $FullLanguage) {... return ...}`` in a function."""
    parent = getattr(node, "parent", None)
    while parent is not None:
        text = parent.text.decode()
        if parent.type == "if_statement" and text.startswith("if ($FullLanguage)"):
            return True
        if parent.type == "function_statement":
            return "if (-not $FullLanguage) {" in text and text.index("if (-not $FullLanguage)") < text.index(
                node.text.decode()  # type: ignore[attr-defined]
            )
        parent = parent.parent
    return False


def test_dotnet_calls_run_only_in_full_language_mode() -> None:
    # Constrained Language Mode blocks .NET calls on non-core types: each one needs the Get-ItemProperty fallback.
    tree = Parser(POWERSHELL).parse(ENGINE.encode())
    found, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        text = (node.text or b"").decode()
        if node.type == "invokation_expression" and ("]::" in text or text.startswith("$Hklm") or "$key." in text):
            found.append(node)
        stack.extend(node.children)
    assert len(found) >= 6  # OpenBaseKey, two OpenSubKey, GetValue, Close, ToBase64String...
    outside = [(n.text or b"").decode() for n in found if not _in_full_language_branch(n)]
    assert outside == []


def test_the_full_language_check_can_fail() -> None:
    tree = Parser(POWERSHELL).parse(b"$x = [Convert]::ToBase64String($b)\n")
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "invokation_expression":
            assert not _in_full_language_branch(node)
            return
        stack.extend(node.children)
    raise AssertionError("no invocation found")


def test_probes_cover_every_fact_of_the_facts_file() -> None:
    schema = facts_schema()
    added = schema["allOf"][0]["then"]["properties"]
    expected = {
        f"{s}.{k}"
        for s in ("os", "security", "hotpatch", "reboot_pending", "history")
        for k in schema["properties"][s]["required"] + added.get(s, {}).get("required", [])
    }
    assert {p.fact for p in probes()} == expected | {"hotfixes"}


def output(values: dict[str, Any], errors: Any = None, rc: int = 0, stderr: bytes = b"") -> CommandOutput:
    document = {"collector_version": "1.0.0", "values": values, "errors": [] if errors is None else errors}
    return CommandOutput(rc, base64.b64encode(json.dumps(document).encode()) + b"\r\n", stderr)


def raw(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {p.fact: None for p in probes()}
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return values


def test_powershell_habits_are_normalised() -> None:
    values = raw(
        os__caption="Microsoft Windows Server 2022 Datacenter: Azure Edition ",  # trailing space, as on old Windows
        os__operating_system_sku=408,
        os__current_build="20348",  # REG_SZ
        os__ubr=5074.0,
        os__last_boot_up_time="/Date(1776219000000)/",
        security__secure_boot_enabled=1,
        security__vbs_status={"value": 2, "DisplayHint": 0},  # ETS-wrapped
        reboot_pending__pending_file_rename="\\??\\C:\\Windows\\Temp\\x.dll",  # one-element REG_MULTI_SZ unwrapped
        reboot_pending__component_based_servicing=False,
        hotfixes={"HotFixID": "KB5087424", "Description": "Security Update", "InstalledOn": "5/13/2026"},
    )
    facts = facts_from_output(
        "vm", output(values, errors={"probe": "security.vbs_configured", "message": "x\r\ny"}), AT
    )
    assert facts["collected_at"] == "2026-05-27T06:00:00Z"
    assert facts["os"]["caption"] == "Microsoft Windows Server 2022 Datacenter: Azure Edition"
    assert (facts["os"]["current_build"], facts["os"]["ubr"]) == (20348, 5074)
    assert facts["os"]["last_boot_up_time"] == "2026-04-15T02:10:00Z"
    assert facts["security"] == {
        "secure_boot_enabled": True,
        "vbs_configured": None,
        "vbs_status": 2,
        "vbs_policy": None,
        "hvci_enabled": None,
        "credential_guard": None,
    }
    assert facts["reboot_pending"]["pending_file_rename"] is True
    assert facts["reboot_pending"]["windows_update"] is None
    assert facts["hotfixes"] == [{"id": "KB5087424", "description": "Security Update", "installed_on": "2026-05-13"}]
    assert facts["errors"] == [{"probe": "security.vbs_configured", "message": "x y"}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/Date(1776219000000)/", "2026-04-15T02:10:00Z"),
        ("/Date(1776219000000+0200)/", "2026-04-15T02:10:00Z"),
        ("20260415041000.000000+120", "2026-04-15T02:10:00Z"),
        ("2026-04-15T04:10:00+02:00", "2026-04-15T02:10:00Z"),
    ],
)
def test_cim_dates_in_every_shape(text: str, expected: str) -> None:
    facts = facts_from_output("vm", output(raw(os__last_boot_up_time=text)), AT)
    assert facts["os"]["last_boot_up_time"] == expected


def filetime(day: datetime) -> str:
    return f"{int((day - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds()) * 10**7:016x}"


@pytest.mark.parametrize(
    ("installed_on", "expected"),
    [("5/13/2026", "2026-05-13"), ("20260513", "2026-05-13"), (filetime(datetime(2026, 5, 13, tzinfo=UTC)),
     "2026-05-13"), ("", None), (None, None)],
)  # fmt: skip
def test_installed_on_in_every_shape(installed_on: str | None, expected: str | None) -> None:
    row = {"HotFixID": "KB1", "Description": "Update", "InstalledOn": installed_on}
    facts = facts_from_output("vm", output(raw(hotfixes=[row, row])), AT)
    assert [h["installed_on"] for h in facts["hotfixes"]] == [expected, expected]
    assert facts["errors"] == []


def test_empty_lists_arrive_as_null() -> None:
    facts = facts_from_output("vm", output(raw(hotfixes=None, reboot_pending__pending_file_rename=None)), AT)
    assert facts["hotfixes"] == []
    assert facts["reboot_pending"]["pending_file_rename"] is False


def test_an_odd_value_is_null_with_an_errors_entry() -> None:
    values = raw(os__ubr="n/a", os__operating_system_sku=True)
    del values["os.display_version"]
    row = {"HotFixID": "KB1", "Description": "x", "InstalledOn": "13.13.2026"}
    facts = facts_from_output("vm", output({**values, "hotfixes": [row]}), AT)
    assert (facts["os"]["ubr"], facts["os"]["operating_system_sku"], facts["os"]["display_version"]) == (None,) * 3
    assert [e["probe"] for e in facts["errors"]] == [
        "os.operating_system_sku",
        "os.ubr",
        "os.display_version",
        "hotfixes",
    ]
    assert facts["hotfixes"][0]["installed_on"] is None


def test_constrained_language_output_is_read_like_base64() -> None:
    document = {"collector_version": "2.0.0", "values": raw(os__caption="Serveur \u00e9"), "errors": []}
    line = "json:" + json.dumps(document, ensure_ascii=True)
    facts = facts_from_output("vm", CommandOutput(0, line.encode() + b"\r\n", b""), AT)
    assert facts["os"]["caption"] == "Serveur \u00e9"
    with pytest.raises(CollectionError, match="not valid base64 JSON"):
        facts_from_output("vm", CommandOutput(0, b"json:{half", b""), AT)


def test_system_log_events_are_normalised_and_filtered() -> None:
    rows = [
        {"TimeCreated": "/Date(1776219000000)/", "Id": 12, "ProviderName": "Microsoft-Windows-Kernel-General",
         "Data": ["10", "0"]},
        {"TimeCreated": "/Date(1776218880000)/", "Id": 1074, "ProviderName": "User32",
         "Data": ["C:\\Windows\\servicing\\TrustedInstaller.exe (VM)", "VM", "Operating System: Upgrade",
                  "0x80020010", "restart", "", "NT AUTHORITY\\SYSTEM"]},
        {"TimeCreated": "/Date(1776219000000)/", "Id": 12, "ProviderName": "Some-Other-Provider", "Data": []},
    ]  # fmt: skip
    values = raw(history__events=rows, history__log_start="/Date(1743580800000)/")
    facts = facts_from_output("vm", output(values), AT)
    assert facts["history"] == {
        "log_start": "2025-04-02T08:00:00Z",
        "events": [
            {"time": "2026-04-15T02:08:00Z", "id": 1074, "source": "User32",
             "process": "C:\\Windows\\servicing\\TrustedInstaller.exe (VM)", "reason_code": "0x80020010",
             "shutdown_type": "restart"},
            {"time": "2026-04-15T02:10:00Z", "id": 12, "source": "Microsoft-Windows-Kernel-General"},
        ],
    }  # fmt: skip
    bad = facts_from_output("vm", output(raw(history__events=[{"Id": 12, "ProviderName": "EventLog"}])), AT)
    assert bad["history"]["events"] == []
    assert bad["errors"] == []  # 12 of EventLog is not a modeled event: skipped
    odd = facts_from_output("vm", output(raw(history__events=[{"Id": 6008, "ProviderName": "EventLog"}])), AT)
    assert odd["history"]["events"] is None
    assert [e["probe"] for e in odd["errors"]] == ["history.events"]


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (CommandOutput(1, b"", CLIXML), 'collector exited with code 1: Invalid class "x" At line:1'),
        (CommandOutput(0, b"", b""), "collector output is not valid base64 JSON: the output is empty"),
        (CommandOutput(0, base64.b64encode(b"[1, 2]"), b""), "the JSON document has no 'values' object"),
        (CommandOutput(0, base64.b64encode(b"{not json"), b""), "collector output is not valid base64 JSON: Expecting"),
        (CommandOutput(0, "Accès refusé\r\n".encode(), b""), "byte 0xc3 at offset 3 is not ASCII; output starts "
         "'Accès refusé'"),
    ],
)  # fmt: skip
def test_unusable_output_is_one_line_error(out: CommandOutput, message: str) -> None:
    with pytest.raises(CollectionError) as caught:
        facts_from_output("vm", out, AT)
    assert str(caught.value).startswith("vm: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
