"""Overlapping a run's waits: by-id reads in flight together, and a chunk's writes behind the next evaluation.

A run is bound by its API budget only if the calls go out as fast as the limit allows. Two
things kept the engine below that, measured on the HubSpot backfill benchmark (10,000 deals,
40 ms latency, 100 calls per 10 s): by-id reads went one at a time, and every chunk's
evaluation (CPU, about 2 s per 1,000 new onboardings) waited for the previous chunk's writes
(network, about 2.5 s) to finish, and the other way round.

* :func:`prefetched_pages` asks for the next page of a paged read as soon as the current one
  arrives, so the caller stages a page while the next is in flight (same calls, same order); when
  the connector names the later pages (``Page.ahead``: HubSpot search offsets), several are read at
  once, so a chain of 48 task pages is paced by the search limit rather than by each answer in turn.
* :func:`pipelined` keeps up to N calls in flight and yields their results in order (the apply's
  batch writes use it too); :func:`read_batches` reads id batches that way, with up to
  ``connector.read_concurrency`` calls in flight (each still passes the gate's rate limit).
* :class:`ReadAhead` starts by-id reads while the pull is still paging: the accounts of the first
  deal pages are read while the later pages are searched (full batches only, so the number of
  calls is the same as reading them all at the end).
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

from onboard_sync.connector import Connector, Page
from onboard_sync.errors import PagingError
from onboard_sync.store.base import chunks

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger("onboard_sync.sync")


def prefetched_pages(
    read: Callable[[str | None], Page[T]],
    *,
    what: str = "paged read",
    depth: int = 1,
    ahead_now: Callable[[], bool] = lambda: True,
) -> Iterator[Page[T]]:
    """The pages of ``read(token)`` from ``token=None`` until a page has no next token; the next
    page is requested (on a helper thread) before the current one is yielded, and, when a page names
    later ones (``Page.ahead``) and ``ahead_now()`` holds, up to ``depth`` reads are in flight at
    once. Pages are yielded in ``next_token`` order whatever order their answers arrive in.

    A next token that was already read raises :class:`PagingError` (naming ``what``) after the
    page that carried it: stopping quietly would let the run move its cursor past unread records.
    """
    depth = max(1, depth)
    with ThreadPoolExecutor(depth, thread_name_prefix="onboard-sync-page") as pool:
        seen: set[str] = set()
        early: dict[str, Future[Page[T]]] = {}  # reads started from ``Page.ahead``, by token
        pending = pool.submit(read, None)
        try:
            while True:
                page = pending.result()
                following = page.next_token or None
                looping = following is not None and following in seen
                if following is not None and not looping:
                    seen.add(following)
                    pending = early.pop(following, None) or pool.submit(read, following)
                    for token in page.ahead if ahead_now() else ():
                        if len(early) + 1 >= depth:
                            break
                        if token not in early and token not in seen:
                            early[token] = pool.submit(read, token)
                yield page
                if looping:
                    shown = following if len(following) <= 60 else following[:57] + "..."
                    pages = len(seen)
                    raise PagingError(
                        f"{what}: page token {shown!r} came back after {pages} page(s): the connector's paging loops"
                    )
                if following is None:
                    return
        finally:
            for future in early.values():
                future.cancel()


def pipelined(
    items: Sequence[T],
    call: Callable[[T], R],
    workers: int,
    *,
    issued: Callable[[T], None] = lambda item: None,
    answered: Callable[[T], None] = lambda item: None,
    name: str = "onboard-sync-call",
) -> Iterator[tuple[T, R]]:
    """``(item, call(item))`` in order, with up to ``workers`` calls in flight. ``issued(item)`` runs
    as each call is started and ``answered(item)`` as its answer is taken (the apply's crash points)."""
    workers = max(1, min(workers, len(items)))
    if workers == 1:
        for item in items:
            issued(item)
            result = call(item)
            answered(item)
            yield item, result
        return
    with ThreadPoolExecutor(workers, thread_name_prefix=name) as pool:
        queue: deque[tuple[T, Future[R]]] = deque()
        try:
            for item in items:
                issued(item)
                queue.append((item, pool.submit(call, item)))
                if len(queue) >= workers:
                    done, future = queue.popleft()
                    result = future.result()
                    answered(done)
                    yield done, result
            while queue:
                done, future = queue.popleft()
                result = future.result()
                answered(done)
                yield done, result
        finally:
            for _, future in queue:
                future.cancel()


def read_batches(
    connector: Connector, ids: Sequence[str], read: Callable[[Sequence[str]], R]
) -> Iterator[tuple[Sequence[str], R]]:
    """``(batch, read(batch))`` for each ``max_read_batch`` slice of ``ids``, in order, with up to
    ``connector.read_concurrency`` reads in flight."""
    batches = list(chunks(ids, connector.max_read_batch))
    return pipelined(batches, read, connector.read_concurrency, name="onboard-sync-read")


class ReadAhead(Generic[R]):
    """By-id reads started as ids become known; results taken in request order, in the caller's thread.

    ``request(ids)`` queues ids not queued or in flight already and sends every full ``max_read_batch``
    with up to ``read_concurrency`` calls in flight (an id whose result was taken is forgotten: a
    run's caller asks for each id once, ``sync.chunks.Staged.take_unread``, and memory stays
    flat in the number of ids); ``ready()`` yields the results that have
    arrived; ``finish()`` sends the partial last batch and yields everything still outstanding.
    With ``read_concurrency`` 1 nothing is read before ``finish()`` (one thread: no overlap to gain).
    """

    def __init__(self, connector: Connector, read: Callable[[Sequence[str]], R]) -> None:
        self._read = read
        self._size = connector.max_read_batch
        threads = max(1, connector.read_concurrency)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="onboard-sync-read") if threads > 1 else None
        self._requested: set[str] = set()
        self._queued: list[str] = []
        self._futures: deque[tuple[list[str], Future[R]]] = deque()

    def request(self, ids: Iterable[str]) -> None:
        fresh = sorted(set(ids) - self._requested)
        self._requested.update(fresh)
        self._queued.extend(fresh)
        if self._pool is None:
            return
        while len(self._queued) >= self._size:
            batch, self._queued = self._queued[: self._size], self._queued[self._size :]
            self._futures.append((batch, self._pool.submit(self._read, batch)))

    def _take(self) -> R:
        batch, future = self._futures.popleft()
        self._requested.difference_update(batch)
        return future.result()

    def ready(self) -> Iterator[R]:
        while self._futures and self._futures[0][1].done():
            yield self._take()

    def finish(self) -> Iterator[R]:
        """Send what is still queued and yield every outstanding result, in request order."""
        try:
            if self._pool is None:
                for batch in chunks(self._queued, self._size):
                    self._requested.difference_update(batch)
                    yield self._read(batch)
                return
            for batch in chunks(self._queued, self._size):
                self._futures.append((list(batch), self._pool.submit(self._read, batch)))
            while self._futures:
                yield self._take()
        finally:
            self.close()

    def close(self) -> None:
        """Drop what is queued, cancel what has not started, wait for the calls in flight."""
        self._queued = []
        if self._pool is not None:
            for _, future in self._futures:
                future.cancel()
            self._pool.shutdown(wait=True)

    def __enter__(self) -> ReadAhead[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
