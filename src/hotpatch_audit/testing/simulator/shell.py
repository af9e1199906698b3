"""What a simulated guest's WinRS shell does with a command line: cmd.exe first, then Windows PowerShell.

WinRS hands every command line to cmd.exe (``WINRS_SKIP_CMD_SHELL=FALSE``). cmd.exe refuses a line longer than
8191 characters, runs ``powershell ... -EncodedCommand <base64 UTF-16LE>``, answers ``hostname`` and ``echo``,
and reports anything else as not recognized. In PowerShell the guest runs the audit's collector (interpreting
the probe list it carries) and the stdin loader that delivers scripts too big for a command line; any other
script fails the way PowerShell reports errors, as CLIXML on stderr.
"""

from __future__ import annotations

import base64
import binascii
import html
import itertools
import shlex
from dataclasses import dataclass

from hotpatch_audit.collect.powershell import CMD_LINE_LIMIT, STDIN_LOADER
from hotpatch_audit.testing.simulator.model import GuestState
from hotpatch_audit.testing.simulator.windows import WindowsView, probe_list, run_collector

_TOO_LONG = "The command line is too long.\r\n"
_NOT_RECOGNIZED = "'{}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"
_GARBAGE = "Get-CimInstance : Provider load failure \r\n+ CategoryInfo : NotSpecified 0x80041013\r\n"
_LOCALIZED = "Zugriff verweigert: Überprüfung der Größe (\u00e9chec) \u2014 WMI-Anbieter nicht verfügbar.\r\n"
_ENCODED_OPTIONS = ("-encodedcommand", "-enc", "-ec", "-e")


@dataclass(frozen=True)
class Outcome:
    """What a command printed and its exit code."""

    stdout: bytes
    stderr: bytes
    rc: int


def needs_stdin(command_line: str) -> bool:
    """True when the command is the stdin loader, which runs only once its stdin has been sent."""
    script = _encoded_script(command_line)
    return script is not None and _is_stdin_loader(script)


def run(state: GuestState, command_line: str, stdin: bytes, codepage: int) -> Outcome:
    """Run `command_line` as the guest's cmd.exe would; `codepage` encodes what is printed."""
    encoding = "utf-8" if codepage == 65001 else f"cp{codepage}"

    def text(out: str = "", err: str = "", rc: int = 0) -> Outcome:
        return Outcome(out.encode(encoding, errors="replace"), err.encode(encoding, errors="replace"), rc)

    if state.faults.command_line_too_long or len(command_line) > CMD_LINE_LIMIT:
        return text(err=_TOO_LONG, rc=1)
    words = command_line.split(None, 1)
    if not words:
        return text()
    program = words[0].strip('"').rsplit("\\", 1)[-1].lower().removesuffix(".exe")
    if program == "hostname":
        return text(out=f"{state.computer_name}\r\n")
    if program == "echo":
        return text(out=(words[1] if len(words) > 1 else "ECHO is on.") + "\r\n")
    if program != "powershell":
        return text(err=_NOT_RECOGNIZED.format(words[0]), rc=1)
    script = _encoded_script(command_line)
    if script is not None and _is_stdin_loader(script):
        try:
            script = base64.b64decode(b"".join(stdin.split()), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return text(err=clixml_error_document('Exception calling "FromBase64String"'), rc=1)
    spec = probe_list(script or "")
    if spec is None:
        message = "The simulated guest runs only the hotpatch-audit collector; this script was not run."
        return text(err=clixml_error_document(message), rc=1)
    if state.faults.garbage_output:
        return text(out=_GARBAGE)
    if state.faults.non_ascii_output:
        return text(out=_LOCALIZED)
    return text(out=run_collector(WindowsView(state), spec) + "\r\n")


def _encoded_script(command_line: str) -> str | None:
    """The script of ``powershell ... -EncodedCommand <b64>``, or None for any other command line."""
    try:
        words = shlex.split(command_line, posix=False)
    except ValueError:
        return None
    for option, value in itertools.pairwise(words):
        if option.lower() in _ENCODED_OPTIONS:
            try:
                return base64.b64decode(value, validate=True).decode("utf-16-le")
            except (binascii.Error, UnicodeDecodeError):
                return None
    return None


def _is_stdin_loader(script: str) -> bool:
    # The audit's loader, recognised by its exact text: a real guest would simply run it.
    return script.strip() == STDIN_LOADER.strip()


def clixml_error_document(message: str) -> str:
    """A CLIXML stderr document carrying `message` as Windows PowerShell writes it ."""
    escaped = html.escape(message, quote=False).replace("\r", "_x000D_").replace("\n", "_x000A_")
    return (
        "#< CLIXML\r\n"
        '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        f'<S S="Error">{escaped}_x000D__x000A_</S></Objs>'
    )
