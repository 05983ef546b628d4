"""REST paginators: how one page's request is built from a page token, and the next token read from
its answer. The core drives paging (it hands ``read_*`` the token of the page it wants and stops at
``None``), so a paginator keeps no state between pages: a token says everything.

Four mechanisms, each a small class with one job (named by mechanism, as in singer_sdk):

* :class:`OffsetPaginator`: ``offset`` and ``limit`` parameters; the next offset counts the records read;
* :class:`CursorPaginator`: the answer names the next page's cursor (``next``, ``meta.after_cursor``),
  sent back in one parameter; optional "has more" and "end of stream" fields;
* :class:`NextLinkPaginator`: the answer carries the next page's URL (in the body or a ``Link`` header);
* :class:`SearchAfterPaginator`: the next page starts after the last record's sort key (keyset paging).

:meth:`Paginator.advance` refuses a token that names the page just read (a loop), and
:class:`onboard_sync.toolkit.rest.RestClient.page` calls it for every page.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from onboard_sync.errors import PagingError


def dig(body: Any, path: str) -> Any:
    """The value at a dotted ``path`` in a JSON body (``"meta.after_cursor"``); ``None`` if absent."""
    value = body
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Where one page is read: a path (or a full next link) and its query parameters."""

    path: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PageAnswer:
    """What a paginator reads the next token from: the decoded body, its records and the headers."""

    body: Any
    records: list[Any]
    headers: Mapping[str, str] = field(default_factory=dict)


class Paginator(ABC):
    """One paging mechanism. Subclasses implement :meth:`request` and :meth:`next_token`."""

    @abstractmethod
    def request(self, first: PageRequest, token: str | None) -> PageRequest:
        """The request of the page at ``token`` (``None``: the first page, ``first`` as given)."""

    @abstractmethod
    def next_token(self, answer: PageAnswer, token: str | None) -> str | None:
        """The token of the page after the one ``answer`` holds; ``None`` when it was the last."""

    def advance(self, answer: PageAnswer, token: str | None) -> str | None:
        """:meth:`next_token`, refusing one that names the page just read (paging would loop)."""
        following = self.next_token(answer, token)
        if following is not None and following == token:
            raise PagingError(f"the answer names the page just read ({following!r}) as the next one: paging would loop")
        return following


@dataclass(frozen=True)
class OffsetPaginator(Paginator):
    """``?offset=N&limit=L``; the page after holds the records from ``N + records read``.

    A short page is the last; with ``total_path`` (the answer's record count) the last page is the one
    that reaches it."""

    limit: int
    offset_param: str = "offset"
    limit_param: str = "limit"
    total_path: str | None = None

    def request(self, first: PageRequest, token: str | None) -> PageRequest:
        params = {**first.params, self.offset_param: int(token or 0), self.limit_param: self.limit}
        return PageRequest(first.path, params)

    def next_token(self, answer: PageAnswer, token: str | None) -> str | None:
        following = int(token or 0) + len(answer.records)
        if not answer.records or len(answer.records) < self.limit:
            return None
        total = dig(answer.body, self.total_path) if self.total_path else None
        if total is not None and following >= int(total):
            return None
        return str(following)


@dataclass(frozen=True)
class CursorPaginator(Paginator):
    """The answer names the next cursor at ``cursor_path``, sent back as ``cursor_param``.

    Paging ends when the cursor is missing, when ``more_path`` (``has_more``) is false, or when
    ``end_path`` (``end_of_stream``) is true. With ``replaces_first`` the later pages send only the
    cursor and the parameters listed in ``keep`` (Zendesk's exports refuse ``start_time`` beside it)."""

    cursor_path: str
    cursor_param: str
    more_path: str | None = None
    end_path: str | None = None
    replaces_first: tuple[str, ...] = ()

    def request(self, first: PageRequest, token: str | None) -> PageRequest:
        if token is None:
            return first
        params = {k: v for k, v in first.params.items() if k not in self.replaces_first}
        return PageRequest(first.path, {**params, self.cursor_param: token})

    def next_token(self, answer: PageAnswer, token: str | None) -> str | None:
        if self.more_path is not None and not dig(answer.body, self.more_path):
            return None
        if self.end_path is not None and dig(answer.body, self.end_path) is not False:
            return None  # an answer without the field is taken as the end: never page forever on a guess
        cursor = dig(answer.body, self.cursor_path)
        return None if cursor in (None, "") else str(cursor)


LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass(frozen=True)
class NextLinkPaginator(Paginator):
    """The answer carries the next page's URL: at ``link_path`` in the body, or (``link_path`` None)
    in a ``Link: <…>; rel="next"`` header. The link already holds every parameter."""

    link_path: str | None = None

    def request(self, first: PageRequest, token: str | None) -> PageRequest:
        return first if token is None else PageRequest(token)

    def next_token(self, answer: PageAnswer, token: str | None) -> str | None:
        if self.link_path is not None:
            link = dig(answer.body, self.link_path)
            return str(link) if link else None
        header = next((v for k, v in answer.headers.items() if k.lower() == "link"), "")
        found = LINK_NEXT.search(header)
        return found.group(1) if found else None


@dataclass(frozen=True)
class SearchAfterPaginator(Paginator):
    """Keyset paging: the next page holds the records sorted after the last one read, sent as
    ``after_param`` = ``sort_key(last record)``. The key must be unique and in the vendor's sort
    order (an id, or ``"{modified}|{id}"``); a short page is the last."""

    limit: int
    sort_key: Callable[[Any], str]
    after_param: str = "after"
    limit_param: str = "limit"

    def request(self, first: PageRequest, token: str | None) -> PageRequest:
        params = {**first.params, self.limit_param: self.limit}
        if token is not None:
            params[self.after_param] = token
        return PageRequest(first.path, params)

    def next_token(self, answer: PageAnswer, token: str | None) -> str | None:
        if len(answer.records) < self.limit:
            return None
        return self.sort_key(answer.records[-1])


__all__ = [
    "CursorPaginator",
    "NextLinkPaginator",
    "OffsetPaginator",
    "PageAnswer",
    "PageRequest",
    "Paginator",
    "SearchAfterPaginator",
    "dig",
]
