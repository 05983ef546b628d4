"""`onboard-sync serve` runs its reconcile worker in a process of its own, at a lower CPU priority: it
reports through serve's /healthz and /metrics, stops gracefully with serve on SIGTERM, and never
outlives a killed serve."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from process_support import alive, worker_pids
from test_serve_crash import _start_serve
from webhook_support import SECRET, deal_task_keys, open_deal, wait_for

from onboard_sync.webhooks.worker_process import NICENESS

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _running_worker(base: str, serve_pid: int) -> int:
    wait_for(lambda: httpx.get(f"{base}/healthz").json()["worker"] == "running", timeout=30)
    pids = worker_pids(serve_pid)
    assert len(pids) == 1, f"one worker process expected, found {pids}"
    return pids[0]


def test_the_worker_process_reconciles_and_reports_through_serve(webhook_project: Any, tmp_path: Path) -> None:
    sb = webhook_project.sandbox
    proc, base = _start_serve(webhook_project, tmp_path / "serve.log", {})
    try:
        worker = _running_worker(base, proc.pid)
        assert worker != proc.pid
        serve_nice = os.getpriority(os.PRIO_PROCESS, proc.pid)
        assert os.getpriority(os.PRIO_PROCESS, worker) == min(19, serve_nice + NICENESS), "acks get the CPU first"
        sb.webhooks.subscribe(f"{base}/webhooks/hubspot", SECRET)
        deal_id = open_deal(sb)
        sb.backend.set_deal_stage(deal_id, "closedwon")
        assert wait_for(lambda: deal_task_keys(sb, deal_id), timeout=20)
        processed = 'onboard_sync_webhook_events_processed_total{instance="hubspot"}'

        def metrics_once_processed() -> str:
            text = httpx.get(f"{base}/metrics").text
            return text if processed in text else ""

        metrics = wait_for(metrics_once_processed, timeout=20)
        assert 'onboard_sync_reconciles_total{kind="webhook",outcome="ok"}' in metrics
        health = httpx.get(f"{base}/healthz").json()
        assert health["worker"] == "running"
        assert health["reconciles"] >= 1
        assert health["last_error"] is None
    finally:
        proc.terminate()
        proc.wait(timeout=40)


def test_sigterm_stops_serve_and_its_worker_gracefully(webhook_project: Any, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    proc, base = _start_serve(webhook_project, log, {})
    worker = _running_worker(base, proc.pid)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=40)
    assert code in (0, -signal.SIGTERM), log.read_text()
    assert not alive(worker), "the worker process outlived serve"
    assert "Traceback" not in log.read_text()


def test_a_killed_serve_takes_its_worker_down_with_it(webhook_project: Any, tmp_path: Path) -> None:
    proc, base = _start_serve(webhook_project, tmp_path / "serve.log", {})
    worker = _running_worker(base, proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL
    wait_for(lambda: not alive(worker), timeout=10)


def test_thread_mode_keeps_one_process(webhook_project: Any, tmp_path: Path) -> None:
    with webhook_project.config_path.open("a") as fh:
        fh.write('worker = "thread"\n')  # appended to the [serve] table the fixture wrote last
    proc, base = _start_serve(webhook_project, tmp_path / "serve.log", {})
    try:
        wait_for(lambda: httpx.get(f"{base}/healthz").json()["worker"] == "running", timeout=30)
        assert worker_pids(proc.pid) == []
    finally:
        proc.terminate()
        proc.wait(timeout=40)
