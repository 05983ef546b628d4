"""Helpers of the engine tests (imported by name: a `conftest` module name is shared by every folder)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def running_worker(runtime: Any, **options: Any) -> Iterator[list[tuple[str, str, str, float]]]:
    """A worker serving the queue in a thread of this process; yields its reconcile log."""
    from onboard_sync.durable.worker import WorkerOptions, run_worker

    stop, ready = threading.Event(), threading.Event()
    reconciled: list[tuple[str, str, str, float]] = []
    failed: list[BaseException] = []

    def main() -> None:
        try:
            run_worker(
                runtime,
                stop,
                options=WorkerOptions(poll_seconds=0.2, **options),
                reconciled=lambda *entry: reconciled.append(entry),
                started=lambda worker_id: ready.set(),
            )
        except BaseException as exc:
            failed.append(exc)
            ready.set()

    thread = threading.Thread(target=main, name="test-worker")
    thread.start()
    assert ready.wait(60), "worker did not start"
    if failed:
        raise failed[0]
    try:
        yield reconciled
    finally:
        stop.set()
        thread.join(60)


def wait_result(client: Any, workflow_id: str, timeout: float = 60.0) -> Any:
    """The result of a workflow once it ends (fails the test after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.retrieve_workflow(workflow_id).get_status()
        if status.status in ("SUCCESS", "ERROR"):
            return client.retrieve_workflow(workflow_id).get_result()
        time.sleep(0.2)
    raise AssertionError(f"workflow {workflow_id} did not finish in {timeout} s")
