"""``sync.chunks.deal_chunks``: every deal once, in order, the first chunks smaller (``RAMP``)."""

from __future__ import annotations

from pathlib import Path

from onboard_sync.store import Store
from onboard_sync.sync.chunks import chunk_sizes, deal_chunks
from onboard_sync.sync.scratch import RunScratch


def test_chunk_sizes_ramp_up_to_the_chunk_size_and_never_reach_zero() -> None:
    sizes = chunk_sizes(1000)
    assert [next(sizes) for _ in range(5)] == [250, 500, 1000, 1000, 1000]
    tiny = chunk_sizes(1)
    assert [next(tiny) for _ in range(3)] == [1, 1, 1]


def test_changed_deals_come_in_ramped_chunks_each_once_in_pull_order(tmp_path: Path) -> None:
    ids = [str(9000 - i) for i in range(23)]  # pull order, not sorted
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store, RunScratch() as scratch:
        changed = scratch.ids("deals")
        changed.add(ids)
        chunks = list(deal_chunks(store, "hubspot", changed, None, 8))
    assert [len(c) for c in chunks] == [2, 4, 8, 8, 1]
    assert [deal_id for chunk in chunks for deal_id in chunk] == ids
