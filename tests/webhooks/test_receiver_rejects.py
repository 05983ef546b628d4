"""Bad input over real HTTP: forged 401, replayed (stale) 401, malformed 400, oversized 413 (declared
and streamed), unknown route 404; each counted by reason in /metrics, nothing persisted, no secret logged."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from onboard_sync.server_thread import ServerThread
from onboard_sync.store import Store
from onboard_sync.webhooks.app import ReceiverSettings, RouteConfig, build_app
from onboard_sync.webhooks.metrics import ServeMetrics
from onboard_sync.webhooks.queue import StoreQueue
from onboard_sync.webhooks.schemes import SchemeOptions, get_scheme
from onboard_sync.webhooks.signatures import hubspot_v1, hubspot_v3

SECRET = "receiver-test-secret"
LIMIT = 4096


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[str, Store, ServeMetrics]]:
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    scheme = get_scheme("hubspot")
    assert scheme is not None
    metrics = ServeMetrics()
    app = build_app(
        {"hubspot": RouteConfig("hubspot", scheme, SchemeOptions(SECRET))},
        StoreQueue(store),
        metrics,
        settings=ReceiverSettings(max_body_bytes=LIMIT),
    )
    server = ServerThread(app, name="receiver")
    server.start()
    try:
        yield server.base_url, store, metrics
    finally:
        server.stop()
        store.close()


def _signed(url: str, body: bytes, *, secret: str = SECRET, age: float = 0.0) -> dict[str, str]:
    stamp = str(int((time.time() - age) * 1000))
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": hubspot_v3(secret, "POST", url, body, stamp),
        "X-HubSpot-Request-Timestamp": stamp,
    }


def _events(n: int = 1) -> bytes:
    return json.dumps(
        [
            {
                "eventId": i,
                "subscriptionId": 1,
                "portalId": 1,
                "occurredAt": 1,
                "objectId": 10 + i,
                "subscriptionType": "deal.creation",
                "attemptNumber": 0,
            }
            for i in range(n)
        ]
    ).encode()


def _rejected(metrics: ServeMetrics, reason: str, instance: str = "hubspot") -> float:
    return metrics.rejected.labels(instance, reason)._value.get()


def test_each_bad_request_gets_its_status_and_is_counted(
    receiver: tuple[str, Store, ServeMetrics], caplog: pytest.LogCaptureFixture
) -> None:
    base, store, metrics = receiver
    url = f"{base}/webhooks/hubspot"
    body = _events()
    caplog.set_level(logging.WARNING, logger="onboard_sync.webhooks")
    with httpx.Client() as client:
        ok = client.post(url, content=body, headers=_signed(url, body))
        assert ok.status_code == 200

        forged = client.post(url, content=body, headers=_signed(url, body, secret="not-the-secret"))
        assert forged.status_code == 401
        tampered = client.post(url, content=body.replace(b"10", b"11"), headers=_signed(url, body))
        assert tampered.status_code == 401
        unsigned = client.post(url, content=body, headers={"Content-Type": "application/json"})
        assert unsigned.status_code == 401

        stale = client.post(url, content=body, headers=_signed(url, body, age=301))
        assert stale.status_code == 401
        assert stale.json()["error"] == "stale"

        garbage = b"{not json"
        malformed = client.post(url, content=garbage, headers=_signed(url, garbage))
        assert malformed.status_code == 400

        big = b"[" + b" " * (LIMIT + 10) + b"]"
        declared = client.post(url, content=big, headers=_signed(url, big))
        assert declared.status_code == 413

        def chunks() -> Iterator[bytes]:  # chunked: no Content-Length, the limit is hit while streaming
            for _ in range(10):
                yield b" " * 1024

        streamed = client.post(
            url, content=chunks(), headers={"X-HubSpot-Signature-v3": "x", "X-HubSpot-Request-Timestamp": "1"}
        )
        assert streamed.status_code == 413

        unknown = client.post(f"{base}/webhooks/nope", content=body, headers=_signed(f"{base}/webhooks/nope", body))
        assert unknown.status_code == 404
        assert client.get(f"{base}/elsewhere").status_code == 404

        text = client.get(f"{base}/metrics").text

    assert _rejected(metrics, "bad-signature") == 2
    assert _rejected(metrics, "missing-signature") == 1
    assert _rejected(metrics, "stale") == 1
    assert _rejected(metrics, "malformed") == 1
    assert _rejected(metrics, "too-large") == 2
    assert _rejected(metrics, "unknown-route", "-") == 2
    assert 'onboard_sync_webhook_rejected_total{instance="hubspot",reason="stale"} 1.0' in text
    # only the one good event was persisted
    assert [e.event_id for e in store.inbox_pending()]
    assert len(store.inbox_pending()) == 1
    # logged with status and reason, never the secret or the body
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "reason=stale" in logged
    assert "status=413" in logged
    assert SECRET not in logged
    assert "subscriptionType" not in logged


def test_v1_signed_delivery_is_accepted_and_duplicates_are_noops(receiver: tuple[str, Store, ServeMetrics]) -> None:
    base, store, metrics = receiver
    url = f"{base}/webhooks/hubspot"
    body = _events(3)
    headers = {"X-HubSpot-Signature": hubspot_v1(SECRET, body), "X-HubSpot-Signature-Version": "v1"}
    for _ in range(5):
        assert httpx.post(url, content=body, headers=headers).status_code == 200
    assert len(store.inbox_pending()) == 3
    assert metrics.received.labels("hubspot")._value.get() == 3
    assert metrics.duplicates.labels("hubspot")._value.get() == 12


def test_behind_a_proxy_the_signature_covers_the_public_url(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    scheme = get_scheme("hubspot")
    assert scheme is not None
    app = build_app(
        {"hubspot": RouteConfig("hubspot", scheme, SchemeOptions(SECRET))},
        StoreQueue(store),
        ServeMetrics(),
        settings=ReceiverSettings(trust_forwarded_headers=True),
    )
    server = ServerThread(app, name="receiver")
    server.start()
    try:
        public = "https://sync.example.com/webhooks/hubspot"
        body = _events()
        headers = {**_signed(public, body), "X-Forwarded-Proto": "https", "X-Forwarded-Host": "sync.example.com"}
        assert httpx.post(f"{server.base_url}/webhooks/hubspot", content=body, headers=headers).status_code == 200
        no_proxy_headers = _signed(public, body)
        assert (
            httpx.post(f"{server.base_url}/webhooks/hubspot", content=body, headers=no_proxy_headers).status_code == 401
        )
    finally:
        server.stop()
        store.close()
