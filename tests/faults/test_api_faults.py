"""API faults against the HubSpot sandbox: 429 storms, 5xx, timeouts, connection resets, 207 partial
batches, a revoked token. After each, a clean run recovers and every invariant holds."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

import pytest
from invariants import check_all

from onboard_sync.errors import AuthError

NO_SLEEP = {"sleep": lambda seconds: None}


def recover(project: Any) -> Any:
    project.sandbox.faults.clear()
    project.sandbox.latency = 0.0
    report = project.sync()
    assert report.ok, report.as_dict()
    check_all(project)
    again = project.sync()
    assert again.totals() == {"created": 0, "updated": 0, "failed": 0}, "recovery converged"
    return report


def test_a_429_storm_on_every_endpoint_is_ridden_out(project: Any) -> None:
    project.sandbox.faults.fail_next(25, status=429, retry_after=0)
    report = project.sync(**NO_SLEEP)
    calls = report.instances["hubspot"].api_calls
    assert calls["retries"] >= 25 or not report.ok
    recover(project)


@pytest.mark.parametrize("path", ["tasks/batch/create", "deals/batch/update", "/search", "associations"])
def test_server_errors_then_recovery(project: Any, path: str) -> None:
    # more failures than every concurrent stream of calls can absorb with the gate's 6 attempts each
    # (up to 4 pipelined writes; the ticket pull's searches beside the deal pull's): one call exhausts
    project.sandbox.faults.fail_next(4 * 6 + 1, status=503, path_contains=path)
    first = project.sync(**NO_SLEEP)
    assert not first.ok
    recover(project)


def test_partial_batch_failures_on_tasks_and_fields(project: Any) -> None:
    project.sandbox.faults.partial_batch(fail_every=3, path_contains="tasks/batch/create")
    project.sandbox.faults.partial_batch(fail_every=2, path_contains="deals/batch/update")
    first = project.sync()
    assert first.totals()["failed"] > 0
    recover(project)


def test_timeouts_when_the_crm_answers_after_the_client_gave_up(project: Any) -> None:
    config = project.config_path.read_text()
    project.config_path.write_text(config + "timeout_seconds = 0.3\n")
    project.sandbox.latency = 0.6  # the server still applies every write it receives
    first = project.sync(**NO_SLEEP)
    assert not first.ok
    project.config_path.write_text(config)
    recover(project)


def test_a_revoked_token_stops_the_run_and_loses_nothing(project: Any) -> None:
    project.sync()
    for deal in list(project.sandbox.backend.deals.values())[:20]:
        project.sandbox.backend.set_deal_stage(deal.id, "closedwon")
    project.sandbox.faults.revoke_token()
    with pytest.raises(AuthError):
        project.sync()
    recover(project)


class ResetProxy:
    """A TCP proxy on 127.0.0.1 that resets (RST) the first ``resets`` connections after reading
    their request, and forwards the others to ``target``."""

    def __init__(self, target_port: int, resets: int) -> None:
        self.target_port = target_port
        self.resets = resets
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        if self.resets > 0:
            self.resets -= 1
            client.recv(65536)
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.target_port))

        def pipe(a: socket.socket, b: socket.socket) -> None:
            try:
                while data := a.recv(65536):
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for s in (a, b):
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)

        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    def close(self) -> None:
        self._stop.set()
        self.server.close()


def test_connection_resets_mid_request_then_recovery(project: Any) -> None:
    proxy = ResetProxy(project.sandbox.port, resets=5)  # fewer than the gate's 6 attempts per call
    config = project.config_path.read_text()
    try:
        project.config_path.write_text(config.replace(project.sandbox.base_url, f"http://127.0.0.1:{proxy.port}"))
        report = project.sync(**NO_SLEEP)
        assert proxy.resets == 0, "the proxy reset connections"
        assert report.ok, "reset connections are retried"
        assert report.api_calls()["retries"] >= 5  # run-wide: the ticket pull goes first and may meet the resets
        check_all(project)
    finally:
        project.config_path.write_text(config)
        proxy.close()
    recover(project)
