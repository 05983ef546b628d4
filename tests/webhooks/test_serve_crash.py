"""kill -9 `onboard-sync serve` after it answered 2xx and before it processed: on restart the event
is processed, once (the inbox row was committed before the answer). Its worker process dies with it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from process_support import alive, worker_pids
from webhook_support import SECRET, deal_task_keys, open_deal, wait_for


def _start_serve(project: Any, log: Path, env: dict[str, str], port: int = 0) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "onboard_sync.cli", "serve", "--config", str(project.config_path), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        env={**os.environ, **env},
    )

    def listening() -> str | None:
        match = re.search(r"listening on (http://\S+)", log.read_text(errors="replace"))
        if proc.poll() is not None and not match:
            raise AssertionError(f"serve exited early: {log.read_text(errors='replace')}")
        return match.group(1) if match else None

    return proc, wait_for(listening, timeout=30)


def test_killed_after_ack_before_processing_then_restart_processes_once(webhook_project: Any, tmp_path: Path) -> None:
    sb = webhook_project.sandbox
    proc, base = _start_serve(webhook_project, tmp_path / "serve1.log", {"ONBOARD_SYNC_CRASH_AT": "after-inbox-ack"})
    try:
        # the worker process must be up first: its start-up drain must not race the delivery
        wait_for(lambda: httpx.get(f"{base}/healthz").json()["worker"] == "running", timeout=30)
        workers = worker_pids(proc.pid) if sys.platform.startswith("linux") else []
        sb.webhooks.subscribe(f"{base}/webhooks/hubspot", SECRET, max_retries=30, retry_delay=0.2)
        deal_id = open_deal(sb)
        sb.backend.set_deal_stage(deal_id, "closedwon")
        assert proc.wait(timeout=20) == -9, "serve should have been SIGKILLed at after-inbox-ack"
    finally:
        if proc.poll() is None:
            proc.kill()
    wait_for(lambda: not any(alive(pid) for pid in workers), timeout=10)  # no orphan worker
    first = sb.webhooks.deliveries[0]
    assert first.status == 200, "the sender got its 2xx before the process died"
    assert deal_task_keys(sb, deal_id) == [], "nothing was processed before the crash"
    with webhook_project.store() as store:
        assert store.inbox_pending(), "the acknowledged events are in the inbox"

    # the same address again: the sender's retries of anything unacknowledged reach the new process
    proc, base = _start_serve(webhook_project, tmp_path / "serve2.log", {}, port=int(base.rsplit(":", 1)[1]))
    try:
        keys = wait_for(lambda: deal_task_keys(sb, deal_id), timeout=30)
        with webhook_project.store() as store:
            wait_for(lambda: not store.inbox_pending(), timeout=30)
        assert sb.webhooks.flush(30)
        assert max(Counter(deal_task_keys(sb, deal_id)).values()) == 1
        assert sorted(deal_task_keys(sb, deal_id)) == sorted(keys)
        with webhook_project.store() as store:
            assert [o.deal_id for o in store.onboardings(source="hubspot")] == [deal_id]
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) is not None
