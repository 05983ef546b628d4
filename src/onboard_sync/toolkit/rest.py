"""One REST API's HTTP client: every request through the core's gate, credentials applied, failures
raised as :class:`onboard_sync.toolkit.http_errors.HttpError` for the connector's ``classify_error``.

:class:`RestClient` is what :class:`onboard_sync.toolkit.connector.RestConnector` builds from its
``base_url`` and ``authenticator``; connectors call :meth:`RestClient.request` for one call and
:meth:`RestClient.page` for one page of a paged read (a :mod:`onboard_sync.toolkit.paging` paginator
turns the core's page token into the request and the answer into the next token). Each call is one
gated attempt per try: counted under its endpoint label, paced by the instance's limiter (or a named
one), retried on what ``classify_error`` calls retryable, refused in ``plan`` when flagged ``write``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from onboard_sync.connector import ApiCaller
from onboard_sync.errors import PagingError
from onboard_sync.toolkit.auth import Auth
from onboard_sync.toolkit.http_errors import HttpError, retry_after_seconds
from onboard_sync.toolkit.paging import PageAnswer, PageRequest, Paginator, dig

if TYPE_CHECKING:  # httpx loads when a connector builds its client, not with the plugin (a snappy CLI)
    import httpx


@dataclass(frozen=True, slots=True)
class RestPage:
    """One page of a paged read: the raw records, the next page's token and the whole body."""

    records: list[Any]
    next_token: str | None
    body: Any


class RestClient:
    """An httpx client for one account of one API, its auth scheme and the gate (``call``)."""

    def __init__(
        self,
        base_url: str,
        *,
        call: ApiCaller,
        auth: Auth,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self.call = call
        self.auth = auth
        self.http = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": "onboard-sync", **(headers or {})},
            transport=transport,
        )

    def request(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        write: bool = False,
        limit: str | None = None,
        authenticated: bool = True,
    ) -> Any:
        """One call as ``endpoint`` (the label ``sync --json`` counts): decoded JSON, ``{}`` when empty.

        ``write`` for anything that changes the vendor's data (refused in ``plan``); ``limit`` names
        a limit of ``extra_rate_limits``; ``authenticated=False`` sends no credentials (a token request)."""
        body, _ = self._exchange(endpoint, method, path, params, json, data, write, limit, authenticated)
        return body

    def page(
        self,
        endpoint: str,
        path: str,
        paginator: Paginator,
        token: str | None,
        *,
        records: str = "results",
        params: Mapping[str, Any] | None = None,
        limit: str | None = None,
    ) -> RestPage:
        """The page at ``token`` (``None``: the first, read with ``params``) and the next page's token.

        ``records`` is the dotted path of the record list in the answer."""
        where = paginator.request(PageRequest(path, dict(params or {})), token)
        body, headers = self._exchange(endpoint, "GET", where.path, where.params, None, None, False, limit, True)
        found = list(dig(body, records) or ())
        return RestPage(found, paginator.advance(PageAnswer(body, found, headers), token), body)

    def records(
        self,
        endpoint: str,
        path: str,
        paginator: Paginator,
        *,
        records: str = "results",
        params: Mapping[str, Any] | None = None,
        max_pages: int = 100,
    ) -> list[Any]:
        """Every record of a paged read the connector needs whole (the activities of one deal), at most
        ``max_pages`` pages: a token that comes back, or more pages than that, is a ``PagingError``."""
        found: list[Any] = []
        seen: set[str] = set()
        token: str | None = None
        for _ in range(max_pages):
            page = self.page(endpoint, path, paginator, token, records=records, params=params)
            found += page.records
            if page.next_token is None:
                return found
            if page.next_token in seen:
                raise PagingError(f"{endpoint}: page token {page.next_token!r} came back: paging loops")
            seen.add(token := page.next_token)
        raise PagingError(f"{endpoint}: more than {max_pages} pages")

    def _exchange(
        self,
        endpoint: str,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Mapping[str, Any] | None,
        write: bool,
        limit: str | None,
        authenticated: bool,
    ) -> tuple[Any, dict[str, str]]:
        if authenticated:
            self.auth.prepare(self)  # a token fetch goes through the gate before this call takes its turn

        def send() -> tuple[Any, dict[str, str]]:
            request = self.http.build_request(method, path, params=params or None, json=json, data=data)
            credential = None
            if authenticated:  # read at send time: the attempt after a renewal sends the new credentials
                credential = self.auth.generation
                self.auth.apply(request)
            answer = self.http.send(request)
            if answer.status_code >= 400:
                retry_after = retry_after_seconds(answer.headers.get("Retry-After"))
                raise HttpError(
                    answer.status_code, answer.text, request.url.path, retry_after=retry_after, credential=credential
                )
            return (answer.json() if answer.content else {}), dict(answer.headers)

        return self.call(endpoint, send, write=write, limit=limit)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()


__all__ = ["RestClient", "RestPage"]
