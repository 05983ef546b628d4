"""Plumbing shared by the HubSpot connector's methods: SDK access, auth, search, batches.

:class:`HubSpotBase` wraps every SDK call in the core's ``call`` (with a fresh OAuth token; with
OAuth, the gate's one renewal on a 401 refreshes it: ``renew_credentials``), paces search calls,
pages search results with :mod:`.search` and maps batch answers with :mod:`.batch`. :class:`.connector.HubSpotConnector`
builds the contract methods on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar, cast

from onboard_sync.connector import (
    ApiCaller,
    Connector,
    ConnectorSettings,
    RateLimit,
    WriteResult,
)
from onboard_sync.connectors.hubspot import batch as batches
from onboard_sync.connectors.hubspot import convert, properties
from onboard_sync.connectors.hubspot.auth import TokenSource
from onboard_sync.connectors.hubspot.errors import classify
from onboard_sync.connectors.hubspot.search import MODIFIED, SearchCursor, ahead_cursors, next_cursor, search_body
from onboard_sync.connectors.hubspot.settings import HubSpotSettings
from onboard_sync.errors import ApiError, AuthError
from onboard_sync.records import ObjectKind
from onboard_sync.toolkit.http_errors import status_of

R = TypeVar("R")


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class HubSpotBase(Connector):
    """SDK client, tokens and the call helpers of the HubSpot connector."""

    search_page_size: ClassVar[int] = 200
    """HubSpot's maximum search page."""

    def __init__(self, instance: str, settings: ConnectorSettings, secrets: Mapping[str, str], call: ApiCaller) -> None:
        super().__init__(instance, settings, secrets, call)
        self.settings: HubSpotSettings = cast(HubSpotSettings, settings)
        self.where = f"connectors.{instance}"
        s = self.settings
        from onboard_sync.connectors.hubspot.client import SdkClient  # the SDK loads with a connector, not a plugin

        self._sdk = SdkClient(s.base_url, on_answer=getattr(call, "answered", lambda: None))
        self._timeout = (s.timeout_seconds, s.timeout_seconds)
        self.tokens = TokenSource(
            secrets=secrets,
            where=self.where,
            token_env=s.token_env,
            oauth=(s.client_id, s.client_secret_env, s.refresh_token_env) if s.client_id else None,
            refresh=self._refresh_token,
        )

    # --- plumbing ------------------------------------------------------------------------
    def _call(self, endpoint: str, fn: Callable[[], R], *, write: bool = False, search: bool = False) -> R:
        """``self.call`` with a valid token (on a 401 the gate calls ``renew_credentials``)."""
        token, new = self.tokens.current()
        if new:
            self._sdk.set_token(token)
        # search is exempt from the ten-secondly bucket and has its own limit ("search")
        return self.call(endpoint, fn, write=write, limit="search" if search else None)

    def renew_credentials(self, error: BaseException) -> bool:
        """With OAuth, refresh the access token (a gated ``oauth.token`` call); a private-app token can't be."""
        if not self.tokens.is_oauth:
            return False
        self._sdk.set_token(self.tokens.refresh())
        return True

    def extra_rate_limits(self) -> dict[str, RateLimit]:
        """Search: ``search_requests_per_second`` (5 per account) in any rolling second, outside the
        ten-secondly bucket. Stamped when answers arrive, so the server never counts more."""
        return {"search": RateLimit.at(self.settings.search_requests_per_second, window=1.0)}

    def _refresh_token(self, client_id: str, client_secret: str, refresh_token: str) -> Any:
        try:
            return self.call(
                "oauth.token",
                lambda: self._sdk.tokens.create(
                    grant_type="refresh_token",
                    client_id=client_id,
                    client_secret=client_secret,
                    refresh_token=refresh_token,
                    _request_timeout=self._timeout,
                ),
            )
        except Exception as exc:
            if status_of(exc) in (400, 401):
                raise AuthError(
                    f"HubSpot refused the refresh token in {self.settings.refresh_token_env} "
                    "(revoked, or the app was uninstalled): re-authorise the app",
                    where=self.where,
                ) from None
            raise

    def classify_error(self, exc: BaseException) -> ApiError | None:
        """See :func:`onboard_sync.connectors.hubspot.errors.classify`."""
        return classify(exc, self.tokens.secret_values())

    def check_auth(self) -> str:
        """One owners call (limit 1): the cheapest call every token with the owners scope may make."""
        try:
            self._call(
                "owners.list",
                lambda: self._sdk.owners.get_page(limit=1, archived=False, _request_timeout=self._timeout),
            )
        except Exception as exc:
            status = status_of(exc)
            if status not in (401, 403):
                raise  # a missing secret (AuthError without status), or not an auth problem
            sdk_error = exc.__cause__ if isinstance(exc, AuthError) and exc.__cause__ else exc
            detail = self.classify_error(sdk_error) or exc
            source = "OAuth access token" if self.tokens.is_oauth else f"token in {self.settings.token_env}"
            what = "was refused (revoked, expired or mistyped)" if status == 401 else "lacks a scope"
            raise AuthError(f"HubSpot: the {source} {what}: {detail}", where=self.where) from None
        kind = "OAuth app" if self.tokens.is_oauth else "private app"
        return f"HubSpot portal at {self.settings.base_url} ({kind} token accepted)"

    def _batch_update(
        self,
        object_type: str,
        endpoint: str,
        inputs: list[dict[str, Any]],
        keys: list[str],
        preset: Mapping[str, WriteResult],
    ) -> list[WriteResult]:
        if not inputs:
            return [preset[k] for k in keys]
        api = self._sdk.batch(object_type)
        answer = self._call(
            endpoint,
            lambda: api.update(
                batch_input_simple_public_object_batch_input={"inputs": inputs},
                _request_timeout=self._timeout,
            ),
            write=True,
        )
        key_of_id = {str(i["id"]): str(i["objectWriteTraceId"]) for i in inputs}
        done, failed = batches.split(answer, lambda o: o.object_write_trace_id or key_of_id.get(str(o.id)), key_of_id)
        results = {r.key: r for r in batches.results_in_order(key_of_id.values(), done, failed)}
        return [preset.get(k) or results[k] for k in keys]

    def _list_properties(self, kind: ObjectKind) -> list[Any]:
        api = self._sdk.properties
        object_type = properties.object_type(kind)
        answer = self._call(
            "properties.list",
            lambda: api.get_all(object_type=object_type, archived=False, _request_timeout=self._timeout),
        )
        return list(answer.results or ())

    def _create_if_absent(self, endpoint: str, fn: Callable[[], Any]) -> bool:
        try:
            self._call(endpoint, fn, write=True)
        except Exception as exc:
            if status_of(exc) == 409:
                return False
            raise
        return True

    # --- search ------------------------------------------------------------------------------
    def _search(
        self,
        object_type: str,
        filters: list[dict[str, Any]],
        since: datetime | None,
        page_token: str | None,
        props: Sequence[str],
    ) -> tuple[list[Any], str | None, tuple[str, ...]]:
        """One search page: its results, the next page's token and the tokens of the pages after
        that one (``search.ahead_cursors``, for ``Page.ahead``)."""
        cursor = SearchCursor.decode(page_token)
        limit = self.search_page_size
        body = search_body(filters, cursor, since, props, limit)
        api = self._sdk.search(object_type)
        answer = self._call(
            f"{object_type}.search",
            lambda: api.do_search(public_object_search_request=body, _request_timeout=self._timeout),
            search=True,
        )
        results = list(answer.results or ())
        nxt = answer.paging.next if answer.paging else None
        last = convert.parse_time((results[-1].properties or {}).get(MODIFIED)) if results else None
        last_ms = int(last.timestamp() * 1000) if last else None
        following = next_cursor(cursor, nxt.after if nxt else None, last_ms, limit)
        if following is None:
            return results, None, ()
        ahead = ahead_cursors(cursor, getattr(answer, "total", None), limit)
        return results, following.encode(), tuple(c.encode() for c in ahead)

    def _batch_read(
        self, object_type: str, ids: Sequence[str], props: Sequence[str], *, id_property: str | None = None
    ) -> list[Any]:
        found: dict[str, Any] = {}
        for chunk in chunks(list(dict.fromkeys(ids)), self.max_read_batch):
            body: dict[str, Any] = {
                "inputs": [{"id": i} for i in chunk],
                "properties": list(dict.fromkeys(props)),
                "propertiesWithHistory": [],
            }
            if id_property:
                body["idProperty"] = id_property
            answer = self._call(f"{object_type}.batch_read", self._batch_read_call(object_type, body))
            for obj in getattr(answer, "results", None) or ():
                ref = (obj.properties or {}).get(id_property) if id_property else obj.id
                found[str(ref)] = obj
        return [found[i] for i in dict.fromkeys(ids) if i in found]

    def _batch_read_call(self, object_type: str, body: dict[str, Any]) -> Callable[[], Any]:
        api = self._sdk.batch(object_type)
        return lambda: api.read(
            batch_read_input_simple_public_object_id=body, archived=False, _request_timeout=self._timeout
        )

    def close(self) -> None:
        """Close the SDK's connection pools."""
        self._sdk.close()
