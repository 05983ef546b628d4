"""Webhook ingest: ack latency of ``onboard-sync serve``'s HubSpot route for 100-event batches, and events/s.

:class:`ServeProcess` runs ``onboard-sync serve --port 0`` on a project folder in a child process,
as a user does (receiver, durable SQLite inbox and reconcile worker in one process), and reads
the port it prints. :func:`hubspot_batches` builds JSON-array batches of 100 distinct
HubSpot-style events; :func:`send_batches` POSTs them signed (``X-HubSpot-Signature-v3``) over
loopback with N in flight and returns the ack latencies and the elapsed time; :func:`inbox_rows`
counts what the inbox holds afterwards. Used by :mod:`bench.scenarios.webhooks`;
``python -m bench.webhook_ack [--batches 200] [--concurrency 1]`` runs that scenario alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.measure import vm_hwm_kib
from onboard_sync.store.inbox import inbox_path
from onboard_sync.webhooks.signatures import hubspot_v3

SECRET_ENV = "HUBSPOT_CLIENT_SECRET"
"""The HubSpot connector's default ``client_secret_env``: the app secret HubSpot signs with."""


class ServeProcess:
    """``onboard-sync serve`` in a child process; a context manager. ``url`` is its base URL."""

    def __init__(
        self, project: Path, env: dict[str, str], timeout: float = 60.0, extra_args: list[str] | None = None
    ) -> None:
        self.project = project
        self.env = env
        self.extra_args = extra_args or []
        self.timeout = timeout
        self.url = ""
        self.peak_rss_mb = 0.0
        self.returncode: int | None = None
        self._text = ""
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - the child's stderr; closed in __exit__
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServeProcess:
        cmd = [sys.executable, "-m", "onboard_sync.cli", "serve", "--port", "0"]
        cmd += ["--config", str(self.project / "config.toml"), *self.extra_args]
        self._proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=self._log, env={**os.environ, **self.env}, cwd=self.project
        )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            text = self.stderr()
            if "listening on " in text:
                self.url = text.split("listening on ", 1)[1].split()[0]
                return self
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        self.__exit__()
        raise RuntimeError(f"onboard-sync serve did not start: {self.stderr()[-2000:]}")

    def stderr(self) -> str:
        if self._log.closed:
            return self._text
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def __exit__(self, *exc: object) -> None:
        """SIGTERM (uvicorn shuts down, the worker stops), then reap it; ``peak_rss_mb`` is the receiver
        process's own ``VmHWM`` (read until it exits), not ``wait4``'s figure, which on Linux also
        counts the bench's memory from before the fork (``bench.measure``)."""
        if self._proc is None or self.returncode is not None:
            return
        own_peak = vm_hwm_kib(self._proc.pid)  # its own peak (see bench.measure), not wait4's
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 45
        while True:
            own_peak = max(own_peak, vm_hwm_kib(self._proc.pid))
            pid, status, usage = os.wait4(self._proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self._proc.kill()
                pid, status, usage = os.wait4(self._proc.pid, 0)
                break
            time.sleep(0.05)
        self.returncode = os.waitstatus_to_exitcode(status)
        self._proc.returncode = self.returncode
        self.peak_rss_mb = (own_peak or usage.ru_maxrss) / 1024  # KiB on Linux
        self._text = self.stderr()
        self._log.close()


def hubspot_batches(batches: int, object_ids: list[str], first: int = 0) -> list[bytes]:
    """``batches`` JSON arrays of 100 distinct ``deal.propertyChange`` events about ``object_ids`` (cycled)."""
    out = []
    for b in range(first, first + batches):
        events = [
            {
                "eventId": b * 100 + i,
                "subscriptionId": 1,
                "portalId": 1,
                "appId": 1,
                "occurredAt": int(time.time() * 1000),
                "subscriptionType": "deal.propertyChange",
                "attemptNumber": 0,
                "objectId": int(object_ids[(b * 100 + i) % len(object_ids)]),
                "propertyName": "dealstage",
                "propertyValue": "closedwon",
                "changeSource": "CRM_UI",
            }
            for i in range(100)
        ]
        out.append(json.dumps(events).encode())
    return out


def send_batches(url: str, secret: str, bodies: list[bytes], concurrency: int) -> dict[str, Any]:
    """POST each body signed as HubSpot does, ``concurrency`` at a time; every answer must be 200."""
    latencies: list[float] = []
    failures: list[str] = []
    with httpx.Client(limits=httpx.Limits(max_connections=concurrency), timeout=30) as client:

        def send(body: bytes) -> None:
            stamp = str(int(time.time() * 1000))
            headers = {
                "Content-Type": "application/json",
                "X-HubSpot-Request-Timestamp": stamp,
                "X-HubSpot-Signature-v3": hubspot_v3(secret, "POST", url, body, stamp),
            }
            started = time.perf_counter()
            response = client.post(url, content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                failures.append(f"{response.status_code}: {response.text[:200]}")

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(send, bodies))
        elapsed = time.perf_counter() - started
    latencies.sort()
    n = len(latencies)
    return {
        "batches": n,
        "events": n * 100,
        "elapsed_s": elapsed,
        "p50_ms": latencies[n // 2] * 1000 if n else 0.0,
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0,
        "max_ms": latencies[-1] * 1000 if n else 0.0,
        "failures": failures,
    }


def inbox_rows(database: Path, source: str = "hubspot") -> tuple[int, int]:
    """``(rows, processed)`` in the webhook inbox of the SQLite store ``database`` for ``source``
    (its inbox file, ``store.inbox.inbox_path``)."""
    with contextlib.closing(sqlite3.connect(inbox_path(database))) as db:
        total, processed = db.execute(
            "SELECT count(*), count(processed_at) FROM webhook_inbox WHERE source = ?", (source,)
        ).fetchone()
    return int(total), int(processed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_ack", description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1])
    args = parser.parse_args(argv)
    from bench.run import Context, check_targets, table
    from bench.scenarios.webhooks import webhook_runs

    ctx = Context(deals=2_000, latency=0.04, naive_sample=0, memory_sizes=(), webhook_batches=args.batches)
    rows = webhook_runs(ctx, tuple(args.concurrency))
    misses = check_targets(rows)
    print(table(rows))
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
