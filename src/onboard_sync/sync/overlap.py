"""Overlapping a run's waits: by-id reads in flight together, and a chunk's writes behind the next evaluation.

A run is bound by its API budget only if the calls go out as fast as the limit allows. Two
things kept the engine below that, measured on the HubSpot backfill benchmark (10,000 deals,
40 ms latency, 100 calls per 10 s): by-id reads went one at a time, and every chunk's
evaluation (CPU, about 2 s per 1,000 new onboardings) waited for the previous chunk's writes
(network, about 2.5 s) to finish, and the other way round.

* :func:`read_batches` reads id batches with up to ``connector.read_concurrency`` calls in flight
  (each still passes the gate's rate limit) and yields the results in batch order.
* :class:`ApplyLane` runs one apply at a time on a background thread. The engine evaluates chunk
  N+1 while chunk N's writes are in flight, then waits for them before it records chunk N+1's
  states and hands over its writes: what is persisted, and in what order, is exactly as without
  the lane (states of a chunk, then its intents, calls and results), so crash safety is unchanged;
  only the evaluation, which persists nothing, moved earlier. An apply's error is raised by the
  next ``wait`` (before anything more is recorded).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TypeVar

from onboard_sync.connector import Connector

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger("onboard_sync.sync")


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def read_batches(
    connector: Connector, ids: Sequence[str], read: Callable[[Sequence[str]], R]
) -> Iterator[tuple[Sequence[str], R]]:
    """``(batch, read(batch))`` for each ``max_read_batch`` slice of ``ids``, in order, with up to
    ``connector.read_concurrency`` reads in flight."""
    batches = list(batched(ids, connector.max_read_batch))
    workers = max(1, min(connector.read_concurrency, len(batches)))
    if workers == 1:
        for batch in batches:
            yield batch, read(batch)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="onboard-sync-read") as pool:
        queue: deque[tuple[Sequence[str], Future[R]]] = deque()
        try:
            for batch in batches:
                queue.append((batch, pool.submit(read, batch)))
                if len(queue) >= workers:
                    done, future = queue.popleft()
                    yield done, future.result()
            while queue:
                done, future = queue.popleft()
                yield done, future.result()
        finally:
            for _, future in queue:
                future.cancel()


class ApplyLane:
    """One background apply at a time (or none: ``enabled=False`` applies in the caller's thread)."""

    def __init__(self, *, enabled: bool) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="onboard-sync-apply") if enabled else None
        self._pending: Future[None] | None = None

    def submit(self, apply: Callable[[], None]) -> None:
        """Wait for the previous apply (raising its error), then start ``apply``."""
        self.wait()
        if self._pool is None:
            apply()
        else:
            self._pending = self._pool.submit(apply)

    def wait(self) -> None:
        """Block until the apply in flight (if any) finished; raise what it raised."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> ApplyLane:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if exc is None:
                self.wait()
            else:  # the run failed already: let the apply in flight finish, report the first error
                try:
                    self.wait()
                except Exception:
                    log.exception("a chunk's writes failed while the run was stopping")
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
