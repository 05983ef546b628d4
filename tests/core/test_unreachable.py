"""Connect failures, as each HTTP library the connectors use raises them against a real socket, are told
apart from a CRM that was reached but slow (the gate's use of it: test_gate.py)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import requests
import urllib3

from onboard_sync.calls.unreachable import connect_failure
from onboard_sync.errors import ApiError


def raised(call: Callable[[], object]) -> BaseException:
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError("the call did not fail")


def as_api_error(exc: BaseException) -> ApiError:
    """What a connector's classifier makes of it: a retryable status-0 error raised from the original."""
    try:
        raise ApiError(f"cannot reach the CRM: {exc}", retryable=True) from exc
    except ApiError as error:
        return error


CLIENTS: dict[str, Callable[[str], object]] = {
    "httpx": lambda url: httpx.get(url, timeout=2),
    "requests": lambda url: requests.get(url, timeout=2),
    "urllib3": lambda url: urllib3.PoolManager(retries=False, timeout=2).request("GET", url),
}


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_a_refused_connection_names_host_and_port(client: str, refusing_port: int) -> None:
    exc = raised(lambda: CLIENTS[client](f"http://127.0.0.1:{refusing_port}/crm/v3?token=secret-x"))

    failure = connect_failure(as_api_error(exc))

    assert failure is not None
    assert failure.reason == "connection refused"
    assert failure.host == f"127.0.0.1:{refusing_port}"


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_a_host_name_that_does_not_resolve(client: str) -> None:
    exc = raised(lambda: CLIENTS[client]("http://no-such-host.invalid/api"))

    failure = connect_failure(as_api_error(exc))

    assert failure is not None
    assert failure.reason == "the host name does not resolve"
    assert failure.host is not None
    assert failure.host.startswith("no-such-host.invalid")


@pytest.mark.parametrize(
    "call",
    [
        lambda url: httpx.get(url, timeout=httpx.Timeout(0.3, connect=2)),
        lambda url: requests.get(url, timeout=(2, 0.3)),
        lambda url: urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(2, read=0.3)).request("GET", url),
    ],
    ids=["httpx", "requests", "urllib3"],
)
def test_a_read_timeout_is_not_a_connect_failure(call: Callable[[str], object], silent_port: int) -> None:
    exc = raised(lambda: call(f"http://127.0.0.1:{silent_port}/"))

    assert connect_failure(as_api_error(exc)) is None, repr(exc)
