"""Benchmark: ack latency of `serve`'s HubSpot route for 100-event batches on loopback, and events/s.

Run: ``python bench/webhook_ack.py [--batches 200] [--concurrency 1]``. Starts the receiving app
(verification + durable SQLite inbox, as `serve` does) on 127.0.0.1, POSTs signed JSON-array
batches of 100 distinct events, and prints p50/p99 ack latency and persisted events per second.
Loopback only, bounded in count; it stops by itself.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from onboard_sync.sandbox.server import ServerThread
from onboard_sync.store import Store
from onboard_sync.webhooks.app import RouteConfig, build_app
from onboard_sync.webhooks.metrics import ServeMetrics
from onboard_sync.webhooks.queue import StoreQueue
from onboard_sync.webhooks.schemes import SchemeOptions, get_scheme
from onboard_sync.webhooks.signatures import hubspot_v3

SECRET = "bench-secret"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'state.db'}")
        scheme = get_scheme("hubspot")
        assert scheme is not None
        app = build_app(
            {"hubspot": RouteConfig("hubspot", scheme, SchemeOptions(SECRET))}, StoreQueue(store), ServeMetrics()
        )
        server = ServerThread(app, name="bench")
        server.start()
        url = f"{server.base_url}/webhooks/hubspot"
        bodies = [
            json.dumps(
                [
                    {
                        "eventId": b * 100 + i,
                        "subscriptionId": 1,
                        "portalId": 1,
                        "appId": 1,
                        "occurredAt": 1,
                        "subscriptionType": "deal.propertyChange",
                        "attemptNumber": 0,
                        "objectId": 9_000_000_000 + i,
                        "propertyName": "dealstage",
                        "propertyValue": "closedwon",
                        "changeSource": "CRM_UI",
                    }
                    for i in range(100)
                ]
            ).encode()
            for b in range(args.batches)
        ]
        latencies: list[float] = []
        with httpx.Client(limits=httpx.Limits(max_connections=args.concurrency)) as client:

            def send(body: bytes) -> None:
                stamp = str(int(time.time() * 1000))
                headers = {
                    "Content-Type": "application/json",
                    "X-HubSpot-Request-Timestamp": stamp,
                    "X-HubSpot-Signature-v3": hubspot_v3(SECRET, "POST", url, body, stamp),
                }
                started = time.perf_counter()
                response = client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text

            send(bodies[0])  # warm-up (also a duplicate check below)
            latencies.clear()
            started = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                list(pool.map(send, bodies))
            elapsed = time.perf_counter() - started
        server.stop()
        persisted = len(store.inbox_pending(10_000_000))
        store.close()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"{args.batches} batches x 100 events, concurrency {args.concurrency}: "
        f"ack p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
        f"{args.batches * 100 / elapsed:.0f} events/s persisted ({persisted} rows)"
    )


if __name__ == "__main__":
    main()
