"""The connector toolkit: what every connector would otherwise write again, written once.

For connector authors (docs/writing-a-connector.md) and the built-in connectors. Import from here:

* :class:`RestConnector` (``connector.py``): a connector for a JSON-over-HTTP API declares its
  ``base_url`` and ``authenticator`` and gets ``classify_error``, ``renew_credentials`` and ``close``;
* :class:`RestClient` (``rest.py``): requests and pages through the core's gate;
* paginators (``paging.py``): :class:`OffsetPaginator`, :class:`CursorPaginator`,
  :class:`NextLinkPaginator`, :class:`SearchAfterPaginator`;
* auth schemes (``auth.py``): :class:`ApiKeyAuth`, :class:`BearerTokenAuth`, :class:`BasicAuth`,
  :class:`OAuth2Auth` (renewed through the gate on a 401);
* batches (``batches.py``): :func:`read_by_ids`, :func:`results_in_order`, :func:`results_by_id`,
  :func:`write_each`, :func:`task_text`, :func:`patch_text`; job polling (``jobs.py``): :func:`poll`; setup
  (``setup.py``): :func:`ensure_properties`;
* task keys for CRMs without a searchable task field (``taskkeys.py``): :func:`mark`,
  :func:`marked_key`, :func:`find_marked`, :func:`create_unless_found`;
* vendor JSON to records by the record's field types (``records.py``): :func:`record`;
* shared helpers: :func:`parse_time`, :func:`format_time`, :func:`to_utc` (``times.py``),
  :func:`redact`, :func:`secret_values` (``redact.py``), :func:`status_of`, :class:`HttpError`,
  :func:`classify_http` (``http_errors.py``).
"""

from onboard_sync.toolkit.auth import ApiKeyAuth, Auth, BasicAuth, BearerTokenAuth, OAuth2Auth
from onboard_sync.toolkit.batches import (
    patch_text,
    read_by_ids,
    results_by_id,
    results_in_order,
    task_text,
    write_each,
)
from onboard_sync.toolkit.connector import RestConnector
from onboard_sync.toolkit.http_errors import HttpError, classify_http, status_of
from onboard_sync.toolkit.jobs import poll
from onboard_sync.toolkit.paging import (
    CursorPaginator,
    NextLinkPaginator,
    OffsetPaginator,
    Paginator,
    SearchAfterPaginator,
    dig,
)
from onboard_sync.toolkit.records import record
from onboard_sync.toolkit.redact import redact, secret_values
from onboard_sync.toolkit.rest import RestClient, RestPage
from onboard_sync.toolkit.setup import ensure_properties
from onboard_sync.toolkit.taskkeys import create_unless_found, find_marked, mark, marked_key
from onboard_sync.toolkit.times import format_time, parse_time, to_utc

__all__ = [
    "ApiKeyAuth",
    "Auth",
    "BasicAuth",
    "BearerTokenAuth",
    "CursorPaginator",
    "HttpError",
    "NextLinkPaginator",
    "OAuth2Auth",
    "OffsetPaginator",
    "Paginator",
    "RestClient",
    "RestConnector",
    "RestPage",
    "SearchAfterPaginator",
    "classify_http",
    "create_unless_found",
    "dig",
    "ensure_properties",
    "find_marked",
    "format_time",
    "mark",
    "marked_key",
    "parse_time",
    "patch_text",
    "poll",
    "read_by_ids",
    "record",
    "redact",
    "results_by_id",
    "results_in_order",
    "secret_values",
    "status_of",
    "task_text",
    "to_utc",
    "write_each",
]
