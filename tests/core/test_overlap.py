"""sync/overlap.py: prefetched pages, concurrent by-id reads, read-ahead and the apply lane keep the calls
and their order what they were without overlap, and never swallow an error."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from onboard_sync.connector import Page
from onboard_sync.errors import PagingError
from onboard_sync.sync.overlap import ApplyLane, ReadAhead, prefetched_pages, read_batches


class FakeConnector:
    """Only what overlap.py reads of a connector."""

    def __init__(self, max_read_batch: int = 3, read_concurrency: int = 4) -> None:
        self.max_read_batch = max_read_batch
        self.read_concurrency = read_concurrency


def test_prefetched_pages_reads_each_token_once_in_order_and_asks_ahead() -> None:
    asked: list[str | None] = []
    consumed = threading.Event()

    def read(token: str | None) -> Page[int]:
        asked.append(token)
        n = 0 if token is None else int(token)
        return Page([n], str(n + 1) if n < 3 else None)

    seen = []
    for page in prefetched_pages(read):
        seen.append(page.records[0])
        if page.records[0] == 0:
            deadline = time.monotonic() + 5
            while len(asked) < 2 and time.monotonic() < deadline:  # page 1 is requested before we ask
                time.sleep(0.001)
            consumed.set()
    assert seen == [0, 1, 2, 3]
    assert asked == [None, "1", "2", "3"]
    assert consumed.is_set()


def test_prefetched_pages_reads_the_pages_a_page_names_at_once_and_yields_them_in_order() -> None:
    """Each page names every later one (``Page.ahead``): up to ``depth`` reads are in flight while
    the first answer is held back, every token is read once, and the pages come out in order."""
    asked: list[str | None] = []
    lock = threading.Lock()
    three_asked = threading.Event()

    def read(token: str | None) -> Page[int]:
        with lock:
            asked.append(token)
            if len(asked) >= 3:
                three_asked.set()
        n = 0 if token is None else int(token)
        if n == 1:
            assert three_asked.wait(5), "pages 2 and 3 were not asked for while page 1 was in flight"
        return Page([n], str(n + 1) if n < 5 else None, ahead=tuple(str(k) for k in range(n + 2, 6)))

    pages = list(prefetched_pages(read, depth=3))
    assert [p.records[0] for p in pages] == [0, 1, 2, 3, 4, 5]
    assert sorted(asked, key=lambda t: -1 if t is None else int(t)) == [None, "1", "2", "3", "4", "5"]

    asked.clear()
    three_asked.set()
    closed = list(prefetched_pages(read, depth=3, ahead_now=lambda: False))
    assert [p.records[0] for p in closed] == [0, 1, 2, 3, 4, 5]
    assert asked == [None, "1", "2", "3", "4", "5"], "one page after another while ahead_now() is false"


def test_prefetched_pages_raises_on_a_token_that_comes_back_and_passes_read_errors_on() -> None:
    looping = {None: Page([1], "a"), "a": Page([2], "b"), "b": Page([3], "a")}
    pages = prefetched_pages(lambda token: looping[token], what="deals")
    assert [next(pages).records for _ in range(3)] == [[1], [2], [3]], "every page is handed over first"
    with pytest.raises(PagingError, match=r"deals: page token 'a' came back after 2 page\(s\)"):
        next(pages)

    def failing(token: str | None) -> Page[int]:
        if token:
            raise RuntimeError("page 2 failed")
        return Page([1], "2")

    pages = prefetched_pages(failing)
    assert next(pages).records == [1]
    with pytest.raises(RuntimeError, match="page 2 failed"):
        next(pages)


def test_read_batches_keeps_batch_order_with_reads_in_flight() -> None:
    ids = [str(i) for i in range(10)]

    def read(batch: Sequence[str]) -> list[str]:
        time.sleep(0.02 if batch[0] == "0" else 0.0)  # the first batch answers last
        return [f"r{i}" for i in batch]

    out = list(read_batches(FakeConnector(), ids, read))  # type: ignore[arg-type]
    assert [list(b) for b, _ in out] == [["0", "1", "2"], ["3", "4", "5"], ["6", "7", "8"], ["9"]]
    assert [r for _, rs in out for r in rs] == [f"r{i}" for i in ids]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_read_ahead_sends_full_batches_early_and_the_rest_at_finish(concurrency: int) -> None:
    calls: list[list[str]] = []
    lock = threading.Lock()

    def read(batch: Sequence[str]) -> list[str]:
        with lock:
            calls.append(list(batch))
        return list(batch)

    with ReadAhead(FakeConnector(3, concurrency), read) as ahead:  # type: ignore[arg-type]
        ahead.request(["b", "a"])  # not a full batch yet: nothing sent
        time.sleep(0.01)
        assert calls == []
        ahead.request(["a", "c", "d", "e"])  # "a" again is not requested twice
        got = [r for rs in ahead.finish() for r in rs]
    assert sorted(got) == ["a", "b", "c", "d", "e"]
    assert sorted(map(len, calls)) == [2, 3]  # ceil(5 / 3) calls, as reading all at the end would
    if concurrency == 1:
        assert calls == [["a", "b", "c"], ["d", "e"]]  # nothing before finish(): no thread to overlap with


def test_read_ahead_raises_a_failed_read() -> None:
    def read(batch: Sequence[str]) -> list[str]:
        raise ConnectionError("down")

    with ReadAhead(FakeConnector(2), read) as ahead:  # type: ignore[arg-type]
        ahead.request(["a", "b", "c"])
        with pytest.raises(ConnectionError):
            list(ahead.finish())


def test_apply_lane_runs_one_apply_at_a_time_in_order() -> None:
    events: list[str] = []

    def apply(name: str, pause: float) -> Any:
        def run() -> None:
            events.append(f"start {name}")
            time.sleep(pause)
            events.append(f"end {name}")

        return run

    with ApplyLane(enabled=True) as lane:
        lane.submit(apply("1", 0.03))
        events.append("evaluating 2")  # the caller goes on while 1 is applied
        lane.submit(apply("2", 0.0))  # waits for 1 first
    assert events.index("evaluating 2") < events.index("end 1")
    assert events[-3:] == ["end 1", "start 2", "end 2"]


def test_apply_lane_raises_an_apply_error_at_the_next_wait() -> None:
    def fail() -> None:
        raise RuntimeError("write failed")

    lane = ApplyLane(enabled=True)
    lane.submit(fail)
    with pytest.raises(RuntimeError, match="write failed"):
        lane.wait()
    lane.__exit__(None, None, None)


def test_apply_lane_lets_the_apply_in_flight_finish_when_the_caller_fails() -> None:
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.05)
        finished.set()

    def run_and_fail() -> None:
        with ApplyLane(enabled=True) as lane:
            lane.submit(slow)
            raise ValueError("evaluation failed")

    with pytest.raises(ValueError, match="evaluation failed"):
        run_and_fail()
    assert finished.is_set()


def test_disabled_apply_lane_applies_in_the_callers_thread() -> None:
    threads: list[str] = []
    with ApplyLane(enabled=False) as lane:
        lane.submit(lambda: threads.append(threading.current_thread().name))
    assert threads == [threading.current_thread().name]
