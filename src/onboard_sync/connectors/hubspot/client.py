"""The official SDK (``hubspot-api-client``), built once per connector with its APIs cached.

Every property access on ``HubSpot`` (``client.crm.deals.search_api``) builds a new ApiClient
and urllib3 pool, so :class:`SdkClient` builds each API object once. The SDK's own urllib3
retries are switched off (the core retries, honouring Retry-After, and counts every attempt),
and a new access token (OAuth refresh) is pushed into every cached API's configuration; each
answer is reported to the gate as it arrives (``note_answers``), before it is parsed.
The SDK parses every ``createdAt``/``updatedAt`` with ``dateutil`` (about 0.1 ms each, a fifth of
a 10,000-deal backfill's CPU); :func:`fast_parse` reads HubSpot's ISO-8601 stamps with
``datetime.fromisoformat`` and falls back to ``dateutil`` for anything else.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from dateutil.parser import parse as dateutil_parse
from hubspot import HubSpot
from urllib3.util.retry import Retry

NO_RETRIES = Retry(total=0, connect=0, read=0, redirect=0, status=0, other=0, raise_on_status=False)
"""One attempt per call: a failure surfaces at once for the core's retry loop to decide."""


def fast_parse(value: str) -> datetime:
    """``dateutil.parser.parse`` for the SDK's deserializer, fast on ISO-8601 (``...T09:30:00.000Z``)."""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return dateutil_parse(value)


def _use_fast_parse(api: Any) -> None:
    """Point the ``parse`` the SDK module of ``api`` deserializes datetimes with at :func:`fast_parse`."""
    module = sys.modules.get(type(api.api_client).__module__)
    if module is not None and getattr(module, "parse", None) is dateutil_parse:
        module.parse = fast_parse


def note_answers(api: Any, on_answer: Callable[[], None]) -> None:
    """Make ``api`` call ``on_answer`` as each HTTP answer has been read, before the SDK deserializes
    it (parsing a page of 200 records takes tens of milliseconds, which the search limit's rolling
    window would otherwise count as part of the call)."""
    client = api.api_client
    request = client.request

    def request_noted(*args: Any, **kwargs: Any) -> Any:
        response = request(*args, **kwargs)
        on_answer()
        return response

    client.request = request_noted


class SdkClient:
    """Lazily built, cached SDK API objects for one portal."""

    def __init__(
        self, base_url: str, access_token: str | None = None, *, on_answer: Callable[[], None] = lambda: None
    ) -> None:
        self._hubspot = HubSpot(access_token=access_token, host=base_url, retry=NO_RETRIES)
        self._on_answer = on_answer
        """Called as each HTTP answer arrives, before the SDK parses it (the gate's ``answered``)."""
        self._apis: dict[str, Any] = {}
        self._lock = threading.Lock()
        """The engine calls from several threads (the deal and task pulls run side by side)."""

    def _api(self, name: str, build: Callable[[HubSpot], Any]) -> Any:
        api = self._apis.get(name)
        if api is None:
            with self._lock:
                api = self._apis.get(name)
                if api is None:
                    api = self._apis[name] = build(self._hubspot)
                    _use_fast_parse(api)
                    note_answers(api, self._on_answer)
        return api

    def set_token(self, access_token: str) -> None:
        """Use ``access_token`` from now on, in the APIs already built and in those to come."""
        with self._lock:
            self._hubspot.access_token = access_token
            for api in self._apis.values():
                api.api_client.configuration.access_token = access_token

    # --- object APIs: "deals", "companies", "contacts", "tasks" ---------------------------
    def search(self, object_type: str) -> Any:
        """The search API of a CRM object type."""
        return self._api(f"{object_type}.search", lambda h: _objects(h, object_type).search_api)

    def batch(self, object_type: str) -> Any:
        """The batch API (read, create, update) of a CRM object type."""
        return self._api(f"{object_type}.batch", lambda h: _objects(h, object_type).batch_api)

    @property
    def associations(self) -> Any:
        """The v4 associations batch API."""
        return self._api("associations", lambda h: h.crm.associations.v4.batch_api)

    @property
    def owners(self) -> Any:
        """The owners API."""
        return self._api("owners", lambda h: h.crm.owners.owners_api)

    @property
    def properties(self) -> Any:
        """The properties core API (list, create)."""
        return self._api("properties", lambda h: h.crm.properties.core_api)

    @property
    def groups(self) -> Any:
        """The property groups API."""
        return self._api("groups", lambda h: h.crm.properties.groups_api)

    @property
    def tokens(self) -> Any:
        """The OAuth v1 tokens API (refresh)."""
        return self._api("tokens", lambda h: h.oauth.tokens_api)

    def close(self) -> None:
        """Close every pool the cached APIs opened."""
        with self._lock:
            for api in self._apis.values():
                api.api_client.rest_client.pool_manager.clear()
                api.api_client.close()
            self._apis.clear()


def _objects(hubspot: HubSpot, object_type: str) -> Any:
    if object_type == "tasks":
        return hubspot.crm.objects.tasks
    if object_type in ("deals", "companies", "contacts", "tickets"):
        return getattr(hubspot.crm, object_type)
    raise ValueError(f"unsupported HubSpot object type {object_type!r}")
