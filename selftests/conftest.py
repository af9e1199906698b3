"""Self-test setup: make the helpers importable and mark the slow stages. The compliance plugin never loads here.

Everything under ``e2e/`` spawns a child pytest, a simulated fleet or a browser: it is marked ``slow`` so that
``pytest selftests -m "not slow"`` (``tox -e unit``) runs the unit tests alone in seconds. The comparisons with
ansible-core under ``e2e/ansible/`` are also marked ``differential``: they run in their own env
(``tox -e differential``), as they start Ansible a few hundred times.
"""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if (HERE / "e2e") in item.path.parents:
            item.add_marker(pytest.mark.slow)
        if (HERE / "e2e" / "ansible") in item.path.parents:
            item.add_marker(pytest.mark.differential)
