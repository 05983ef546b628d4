"""Group commit of the webhook inbox: deliveries that arrive while a commit is under way are written
together by the next one, each answered only after the commit that holds its events."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from onboard_sync.store import Store
from onboard_sync.webhooks.queue import StoreQueue

AT = datetime(2026, 12, 3, tzinfo=UTC)
SENDERS = 10


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'state.db'}") as opened:
        yield opened


class CommitSpy:
    """Wraps ``inbox_add_deliveries``: records each commit's deliveries; the first commit is held
    until ``hold_until`` deliveries wait behind it, so the grouping is deterministic."""

    def __init__(self, store: Store, queue: StoreQueue, hold_until: int, fail_first: bool = False) -> None:
        self.real = store.inbox_add_deliveries
        self.queue = queue
        self.hold_until = hold_until
        self.fail_first = fail_first
        self.groups: list[list[str]] = []

    def __call__(self, deliveries: list[tuple[str, list[tuple[str, bytes]], datetime]]) -> list[int]:
        first = not self.groups
        self.groups.append([events[0][0] for _, events, _ in deliveries])
        if first:
            deadline = time.monotonic() + 30
            while len(self.queue._queued) < self.hold_until and time.monotonic() < deadline:
                time.sleep(0.005)
            if self.fail_first:
                raise OSError("disk I/O error")
        return self.real(deliveries)


def _send_all(queue: StoreQueue) -> tuple[dict[str, int], dict[str, BaseException]]:
    results: dict[str, int] = {}
    errors: dict[str, BaseException] = {}

    def send(n: int) -> None:
        try:
            results[f"d{n}"] = queue.enqueue("hubspot", [(f"d{n}", b"x"), (f"d{n}-b", b"y")], AT)
        except BaseException as exc:
            errors[f"d{n}"] = exc

    first = threading.Thread(target=send, args=(0,))
    first.start()
    while not getattr(queue, "_committing", False):
        time.sleep(0.001)
    others = [threading.Thread(target=send, args=(n,)) for n in range(1, SENDERS)]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join(30)
    return results, errors


def test_deliveries_waiting_for_a_commit_are_written_by_the_next_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = StoreQueue(store)
    spy = CommitSpy(store, queue, hold_until=SENDERS - 1)
    monkeypatch.setattr(store, "inbox_add_deliveries", spy)

    results, errors = _send_all(queue)

    assert errors == {}
    assert results == {f"d{n}": 2 for n in range(SENDERS)}
    assert [len(group) for group in spy.groups] == [1, SENDERS - 1], "ten deliveries, two commits"
    assert len(store.inbox_pending(100)) == 2 * SENDERS


def test_a_failed_commit_fails_each_of_its_deliveries_and_the_next_commit_works(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = StoreQueue(store)
    spy = CommitSpy(store, queue, hold_until=SENDERS - 1, fail_first=True)
    monkeypatch.setattr(store, "inbox_add_deliveries", spy)

    results, errors = _send_all(queue)

    assert list(errors) == ["d0"]
    assert isinstance(errors["d0"], OSError)
    assert results == {f"d{n}": 2 for n in range(1, SENDERS)}
    assert queue.enqueue("hubspot", [("later", b"z"), ("d1", b"x")], AT) == 1
    assert len(store.inbox_pending(100)) == 2 * (SENDERS - 1) + 1
