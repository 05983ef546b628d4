"""Connect failures, as each HTTP library the connectors use raises them against a real socket, are told
apart from a CRM that was reached but slow; the gate turns only the first into ``Unreachable``."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import httpx
import pytest
import requests
import urllib3

from onboard_sync.connector import RateLimit
from onboard_sync.errors import ApiError, Unreachable
from onboard_sync.sync.gate import ApiGate
from onboard_sync.sync.unreachable import connect_failure


@pytest.fixture
def refusing_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts connections (the kernel's backlog) and never answers: a read timeout, not a connect failure."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


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


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def httpx_gate(t: FakeTime) -> ApiGate:
    """A gate whose connector classifies every httpx failure as a retryable transport error."""
    gate = ApiGate(
        lambda exc: ApiError(f"transport: {exc}", retryable=True) if isinstance(exc, httpx.HTTPError) else None,
        RateLimit(per_second=100, burst=100),
        sleep=t.sleep,
        clock=t.clock,
    )
    gate.instance = "crm"
    return gate


def test_the_gate_retries_then_says_unreachable_in_one_line(refusing_port: int) -> None:
    t = FakeTime()
    gate = httpx_gate(t)

    with pytest.raises(Unreachable) as caught:
        gate("deals.search", lambda: httpx.get(f"http://127.0.0.1:{refusing_port}/", timeout=2))

    assert gate.calls["deals.search"] == gate.max_attempts, "the bounded retries ran first"
    assert str(caught.value) == (
        f"connectors.crm: cannot reach 127.0.0.1:{refusing_port} (connection refused) after 6 attempts in 16 s; "
        "check the connector's URL setting and the network"
    )


def test_the_gate_leaves_a_slow_crm_an_ordinary_retryable_error(silent_port: int) -> None:
    t = FakeTime()
    gate = httpx_gate(t)
    gate.max_attempts = 2

    with pytest.raises(ApiError) as caught:
        gate("deals.search", lambda: httpx.get(f"http://127.0.0.1:{silent_port}/", timeout=httpx.Timeout(0.2)))

    assert not isinstance(caught.value, Unreachable)
    assert gate.calls["deals.search"] == 2
