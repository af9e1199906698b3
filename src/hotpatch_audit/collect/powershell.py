"""How a PowerShell script reaches a WinRS shell, and what comes back: shared by the transport and the simulator.

A WinRS command line goes through cmd.exe, which stops at 8191 characters. A script is sent as
``powershell -EncodedCommand <base64 of UTF-16LE>`` (immune to cmd.exe quoting) while that line fits; a longer
script is sent on stdin, as base64 of its UTF-8 text, to the short :data:`STDIN_LOADER`, which decodes and runs
it. Windows PowerShell reports errors on stderr as CLIXML; :meth:`CommandOutput.error_text` reduces them to text.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from typing import Protocol

CMD_LINE_LIMIT = 8191  # cmd.exe's maximum command line, in characters
# Reads its stdin (base64 of a UTF-8 script; $input enumerates the lines) and runs it in a child scope.
STDIN_LOADER = """$ProgressPreference = 'SilentlyContinue'
$text = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String((@($input) -join '')))
& ([ScriptBlock]::Create($text))
"""


def powershell_command(script: str) -> str:
    """The cmd.exe line that runs `script` in Windows PowerShell."""
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return f"powershell -NoProfile -NonInteractive -EncodedCommand {encoded}"


def stdin_payload(script: str) -> bytes:
    """What :data:`STDIN_LOADER` expects on stdin for `script`: one ASCII line."""
    return base64.b64encode(script.encode("utf-8")) + b"\r\n"


@dataclass(frozen=True)
class CommandOutput:
    """What one command returned: exit code and raw output bytes."""

    rc: int
    stdout: bytes
    stderr: bytes

    def error_text(self) -> str:
        """Stderr as one line of text, PowerShell's CLIXML error records reduced to their messages."""
        text = self.stderr.decode("utf-8", errors="replace")
        if text.startswith("#< CLIXML"):
            text = clixml_errors(text) or text
        return " ".join(text.split())


class PowerShellRunner(Protocol):
    """What the collector needs from a transport."""

    def run_powershell(self, script: str, *, deadline_sec: float | None = None) -> CommandOutput:
        """Run a Windows PowerShell script; raise CollectionError when the transport fails."""
        ...


def clixml_errors(text: str) -> str:
    """The error-stream strings of a PowerShell CLIXML document, with its _xHHHH_ escapes decoded."""
    parts = [html.unescape(m) for m in re.findall(r'<S S="Error">(.*?)</S>', text, flags=re.DOTALL)]
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), "".join(parts))
