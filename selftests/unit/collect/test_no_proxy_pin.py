"""Sessions built in many threads at once: requests' set-and-delete of no_proxy must not race (KeyError)."""

from __future__ import annotations

import os
import threading

import pytest
import requests

from hotpatch_audit.collect.transport import NO_PROXY_PINNED

URL = "http://127.0.0.1:5985/wsman"


def _build_sessions(errors: list[BaseException]) -> None:
    for _ in range(200):
        try:
            with NO_PROXY_PINNED:
                # What pywinrm's build_session asks of requests: bypass every proxy for this endpoint.
                requests.Session().merge_environment_settings(URL, {"no_proxy": "*"}, None, None, None)
        except KeyError as err:
            errors.append(err)


@pytest.mark.parametrize("before", [None, "corp.example,10.0.0.0/8"])
def test_concurrent_sessions_never_lose_no_proxy_and_the_users_value_comes_back(
    monkeypatch: pytest.MonkeyPatch, before: str | None
) -> None:
    if before is None:
        monkeypatch.delenv("no_proxy", raising=False)
    else:
        monkeypatch.setenv("no_proxy", before)
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_build_sessions, args=(errors,)) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    assert os.environ.get("no_proxy") == before


def test_the_pin_holds_while_any_holder_is_inside(monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setenv("no_proxy", "corp.example")
    with NO_PROXY_PINNED:
        with NO_PROXY_PINNED:
            assert os.environ["no_proxy"] == "*"
        assert os.environ["no_proxy"] == "*"
    assert os.environ["no_proxy"] == "corp.example"
