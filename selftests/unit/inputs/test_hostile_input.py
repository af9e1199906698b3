"""Hostile inventories get a located error, fast and small: never a traceback, never a run on what was not meant."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from hotpatch_audit.errors import InventoryError
from hotpatch_audit.inputs.inventory import load_inventory

LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)

HOSTILE: dict[str, tuple[str, str]] = {
    "billion_laughs": (LAUGHS, "YAML aliases expand to more than 100,000 values"),
    "recursive_alias": ("all: &a\n  children: {g: *a}\n", "YAML nesting deeper than 64 levels"),
    "deep_lists": ("all:\n  vars:\n    x: " + "[" * 5000 + "]" * 5000 + "\n", ":3: YAML nesting deeper than 64"),
    "deep_mappings": ("all:\n  vars:\n    x: " + "{a: " * 200 + "1" + "}" * 200 + "\n", "deeper than 64 levels"),
    "range_product": ("all:\n  hosts:\n    h[0:9999][0:9999]:\n", ":3: all.hosts.h[0:9999][0:9999]: host range"),
    "range_too_long": ("all:\n  hosts:\n    h[0:100000]:\n", "more than 100,000 hosts"),
    "ranges_adding_up": ("all:\n  hosts:\n    a[0:60000]:\n    b[0:60000]:\n", ":4: all.hosts.b[0:60000]: host range"),
    "range_step_zero": (
        "all:\n  hosts:\n    h[1:9:0]:\n",
        ":3: all.hosts.h[1:9:0]: host range [1:9:0] must have a whole",
    ),
    "port_too_high": ("all:\n  hosts:\n    h: {ansible_port: 70000}\n", ":3: all.hosts.h.ansible_port (host 'h')"),
    "port_zero": ("all:\n  vars: {ansible_port: 0}\n  hosts: {h: null}\n", ":2: all.vars.ansible_port (host 'h')"),
    "port_entry_too_high": ("all:\n  hosts:\n    h:99999:\n", ":3: all.hosts.h:99999: port 99999"),
    "timeout_infinite": (
        "all:\n  hosts:\n    h: {ansible_winrm_operation_timeout_sec: .inf}\n",
        ":3: all.hosts.h.ansible_winrm_operation_timeout_sec (host 'h'): must be a whole number",
    ),
    "timeout_nan": ("all:\n  hosts:\n    h: {ansible_winrm_connection_timeout: .nan}\n", "must be a whole number"),
    "timeout_huge": ("all:\n  hosts:\n    h: {ansible_winrm_read_timeout_sec: 1e300}\n", "must be"),
    "name_with_path": ("all:\n  hosts:\n    ../../../../srv/x/config:\n", ":3: all.hosts.../../../../srv/x/config"),
    "name_with_backslash": ("all:\n  hosts:\n    'a\\b':\n", ":3: all.hosts"),
    "name_with_control": (
        'all:\n  hosts:\n    "vm\\a":\n',
        ":3: all.hosts.vm\\x07: a guest name cannot contain control",
    ),
    "name_with_escape_sequence": ('all:\n  hosts:\n    "vm\\e[31m":\n', ":3: all.hosts.vm\\x1b[31m: host range"),
    "name_with_newline": ('all:\n  hosts:\n    "vm\\nINFO fake":\n', "control characters"),
    "name_with_markup": ('all:\n  hosts:\n    "n2\'\\"><svg onload=x>":\n', ":3: all.hosts"),
    "name_empty": ("all:\n  hosts:\n    '':\n", "a guest name cannot be empty"),
    "name_too_long": (f"all:\n  hosts:\n    {'a' * 300}:\n", "at most 255 characters, this one has 300"),
    "name_dotdot": ("all:\n  hosts:\n    a..b:\n", "cannot contain '/', '\\' or '..'"),
    "unknown_tag": ("all:\n  vars:\n    x: !!python/object/apply:os.system [id]\n", ":3: all.vars.x"),
    "vault_outside_inventory_syntax": (
        "all:\n  vars: !vault |\n    abc\n",
        ":2: all.vars: vars of group 'all' must be a mapping",
    ),
}

HOSTILE_JSON: dict[str, tuple[str, str]] = {
    "truncated": ('{"all": [', ":1: not the JSON of ansible-inventory --list"),
    "meta_not_an_object": ('{"all": {"hosts": ["a"]}, "_meta": 3}', ": _meta.hostvars must be an object"),
    "deep": ('{"all": ' + "[" * 100_000 + "]" * 100_000 + "}", ": JSON nested too deeply"),
    "group_not_an_object": ('{"all": {"hosts": "a"}}', ": all.hosts: must be a list of names"),
    "host_name_with_path": ('{"all": {"hosts": ["../x"]}}', ": all.hosts: a guest name cannot contain"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_JSON))
def test_hostile_json_inventory_is_a_located_error(tmp_path: Path, name: str) -> None:
    text, expected = HOSTILE_JSON[name]
    path = tmp_path / "inv.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InventoryError) as err:
        load_inventory(path)
    assert str(err.value).startswith(f"{path}{expected}")


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_inventory_is_a_located_error(tmp_path: Path, name: str) -> None:
    text, expected = HOSTILE[name]
    path = tmp_path / "inv.yml"
    path.write_text(text, encoding="utf-8")
    started = time.process_time()
    with pytest.raises(InventoryError) as err:
        load_inventory(path)
    assert time.process_time() - started < 2
    message = str(err.value)
    assert message.isprintable()
    assert message.startswith(str(path))
    assert (f"{path}{expected}" if expected.startswith(":") else expected) in message
    assert len(message) < 600


# Runs the command and reports its own peak memory and CPU time, which other processes on the machine cannot skew.
MEASURED = """
import resource, sys
from hotpatch_audit.__main__ import main
code = main(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_SELF)
print(f"{usage.ru_maxrss / 1024:.0f} {usage.ru_utime + usage.ru_stime:.2f}", file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.slow  # a fresh interpreter per case, so its CPU time and memory are measured alone
@pytest.mark.parametrize("name", ["billion_laughs", "range_product", "deep_lists", "recursive_alias"])
def test_inventory_command_exits_4_within_two_seconds_and_200_mb(tmp_path: Path, name: str) -> None:
    path = tmp_path / "inv.yml"
    path.write_text(HOSTILE[name][0], encoding="utf-8")
    assert len(LAUGHS) < 410
    proc = subprocess.run(
        [sys.executable, "-c", MEASURED, "inventory", str(path), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    *message, measured = proc.stderr.splitlines()
    peak_mib, cpu_s = (float(v) for v in measured.split())
    assert proc.returncode == 4
    assert message[0].startswith(f"inventory: {path}:")
    assert "Traceback" not in proc.stderr
    assert cpu_s < 2, cpu_s
    assert peak_mib < 200, peak_mib
