"""The four paginators: the request of the page at a token, the next token, the end, and loops refused."""

from __future__ import annotations

import pytest

from onboard_sync.errors import PagingError
from onboard_sync.toolkit.paging import (
    CursorPaginator,
    NextLinkPaginator,
    OffsetPaginator,
    PageAnswer,
    PageRequest,
    SearchAfterPaginator,
    dig,
)

FIRST = PageRequest("/v1/deals", {"stage": "won"})


def test_offset_pages_count_the_records_read_and_stop_at_a_short_page_or_the_total() -> None:
    p = OffsetPaginator(limit=2, total_path="meta.total")
    assert p.request(FIRST, None).params == {"stage": "won", "offset": 0, "limit": 2}
    assert p.request(FIRST, "4").params == {"stage": "won", "offset": 4, "limit": 2}
    assert p.advance(PageAnswer({"meta": {"total": 5}}, [1, 2]), None) == "2"
    assert p.advance(PageAnswer({"meta": {"total": 4}}, [3, 4]), "2") is None, "the total is reached"
    assert p.advance(PageAnswer({}, [5]), "4") is None, "a short page is the last"
    assert p.advance(PageAnswer({}, []), "6") is None


def test_cursor_pages_send_the_cursor_back_and_stop_on_has_more_or_end_of_stream() -> None:
    p = CursorPaginator("next", "after")
    assert p.request(FIRST, None) == FIRST
    assert p.request(FIRST, "c1").params == {"stage": "won", "after": "c1"}
    assert p.advance(PageAnswer({"next": "c2"}, [1]), "c1") == "c2"
    assert p.advance(PageAnswer({"next": None}, [1]), "c2") is None
    meta = CursorPaginator("meta.after_cursor", "page[after]", more_path="meta.has_more")
    assert meta.advance(PageAnswer({"meta": {"after_cursor": "x", "has_more": True}}, []), None) == "x"
    assert meta.advance(PageAnswer({"meta": {"after_cursor": "y", "has_more": False}}, []), "x") is None
    export = CursorPaginator("after_cursor", "cursor", end_path="end_of_stream", replaces_first=("start_time",))
    first = PageRequest("/export", {"start_time": 100, "per_page": 10})
    assert export.request(first, "c9").params == {"per_page": 10, "cursor": "c9"}, "start_time goes with the cursor"
    assert export.advance(PageAnswer({"after_cursor": "c10", "end_of_stream": False}, []), "c9") == "c10"
    assert export.advance(PageAnswer({"after_cursor": "c11", "end_of_stream": True}, []), "c10") is None
    assert export.advance(PageAnswer({"after_cursor": "c11"}, []), "c10") is None, "no end_of_stream: the end"


def test_next_link_pages_follow_the_link_in_the_body_or_the_link_header() -> None:
    body = NextLinkPaginator("links.next")
    assert body.request(FIRST, "https://api.test/v1/deals?page=2").path == "https://api.test/v1/deals?page=2"
    assert body.request(FIRST, "https://api.test/v1/deals?page=2").params == {}
    assert body.advance(PageAnswer({"links": {"next": "/v1/deals?page=3"}}, [1]), None) == "/v1/deals?page=3"
    assert body.advance(PageAnswer({"links": {}}, [1]), "/v1/deals?page=3") is None
    header = NextLinkPaginator()
    link = '<https://api.test/v1/deals?page=2>; rel="next", <https://api.test/v1/deals?page=9>; rel="last"'
    assert header.advance(PageAnswer({}, [1], {"Link": link}), None) == "https://api.test/v1/deals?page=2"
    assert header.advance(PageAnswer({}, [1], {"link": '<https://x/1>; rel="prev"'}), "t") is None


def test_search_after_pages_start_after_the_last_records_sort_key() -> None:
    p = SearchAfterPaginator(limit=2, sort_key=lambda r: f"{r['modified']}|{r['id']}")
    assert p.request(FIRST, None).params == {"stage": "won", "limit": 2}
    assert p.request(FIRST, "5|9").params == {"stage": "won", "limit": 2, "after": "5|9"}
    page = [{"id": 3, "modified": 5}, {"id": 9, "modified": 5}]
    assert p.advance(PageAnswer({}, page), None) == "5|9"
    assert p.advance(PageAnswer({}, page[:1]), "5|9") is None


def test_a_next_token_naming_the_page_just_read_is_a_paging_error() -> None:
    p = CursorPaginator("next", "after")
    with pytest.raises(PagingError, match="paging would loop"):
        p.advance(PageAnswer({"next": "c1"}, [1]), "c1")


def test_dig_reads_dotted_paths() -> None:
    assert dig({"a": {"b": [1]}}, "a.b") == [1]
    assert dig({"a": 1}, "a.b") is None
    assert dig(None, "a") is None
