"""``RestConnector``: the base class of connectors for JSON-over-HTTP APIs, built on the toolkit.

A subclass declares where the API is (``base_url``: by default its settings' ``base_url`` field) and
how it authenticates (``authenticator``: one of :mod:`onboard_sync.toolkit.auth`), and writes its
reads and writes with ``self.rest`` (:class:`onboard_sync.toolkit.rest.RestClient`, every call
through the gate). The base class supplies
what the core asks of every connector and is the same for every REST API: ``classify_error``
(:func:`onboard_sync.toolkit.http_errors.classify_http` with the vendor's retryable statuses, its error
text and every secret redacted), ``renew_credentials`` (the gate's one renewal on a 401: OAuth renews,
static credentials do not) and ``close``. The toycrm example (docs/writing-a-connector.md) and the
built-in Zendesk connector are written on it.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from onboard_sync.connector import Connector
from onboard_sync.errors import ApiError
from onboard_sync.toolkit.auth import Auth
from onboard_sync.toolkit.http_errors import RETRYABLE_STATUSES, HttpError, classify_http, error_text
from onboard_sync.toolkit.redact import redact
from onboard_sync.toolkit.rest import RestClient


class RestConnector(Connector):
    """A connector whose vendor speaks JSON over HTTP. Implement ``authenticator`` (and ``base_url``
    unless the settings have a ``base_url`` field)."""

    retryable_statuses: ClassVar[frozenset[int]] = RETRYABLE_STATUSES
    """Statuses worth another attempt (every 5xx is): add what your vendor documents as transient."""

    _rest: RestClient | None = None

    def base_url(self) -> str:
        """The API's root URL for this instance: by default the settings' ``base_url`` field."""
        url = getattr(self.settings, "base_url", None)
        if not url:
            raise NotImplementedError(f"{type(self).__name__}: give the settings a base_url, or override base_url()")
        return str(url)

    @abstractmethod
    def authenticator(self) -> Auth:
        """This instance's auth scheme (secrets named by the settings, read from ``self.secrets``)."""

    def request_timeout(self) -> float:
        """Connect and read timeout of each request, in seconds."""
        return 30.0

    @property
    def rest(self) -> RestClient:
        """The HTTP client, built on first use (``__init__`` stays free of I/O)."""
        if self._rest is None:
            self._rest = RestClient(
                self.base_url(), call=self.call, auth=self.authenticator(), timeout=self.request_timeout()
            )
        return self._rest

    def error_text(self, body: str) -> str:
        """The vendor's words from an error body (override for an unusual envelope)."""
        return error_text(body)

    def quota_exhausted(self, error: HttpError) -> bool:
        """Whether an answer means a long-lived quota is used up (never retried; the run stops cleanly)."""
        return False

    def secret_values(self) -> tuple[str, ...]:
        """Every secret this instance holds: what ``classify_error`` redacts from messages."""
        return self.rest.auth.secret_values() if self._rest is not None else ()

    def redact(self, text: str) -> str:
        """``text`` without any secret this instance holds (for ``WriteResult.error`` and the like)."""
        return redact(text, self.secret_values())

    def classify_error(self, exc: BaseException) -> ApiError | None:
        return classify_http(
            exc,
            self.secret_values(),
            retryable=self.retryable_statuses,
            describe=self.error_text,
            exhausted=self.quota_exhausted,
        )

    def renew_credentials(self, error: BaseException) -> bool:
        if not isinstance(error, HttpError) or error.credential is None:
            return False  # a token request refused: renewing would ask the same again
        return self.rest.auth.renew(self.rest, error.credential)

    def close(self) -> None:
        if self._rest is not None:
            self._rest.close()


__all__ = ["RestConnector"]
