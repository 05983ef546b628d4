"""The error types every part of onboard-sync raises, so the CLI can turn them into one clear line.

``UserError`` and its subclasses are problems the user can fix (bad config, missing
property, revoked token): the CLI prints ``error: <where>: <what>`` and exits 2 with no
traceback. ``ApiError`` describes one failed vendor call after the core's retries gave up.
Messages never contain secrets: connectors strip the secret values they hold from any text they
put in an error (the HubSpot and Salesforce connectors' ``_redact``), and store URLs are shown with
the password replaced (``onboard_sync.store.database.redact_url``).
"""

from __future__ import annotations


class OnboardSyncError(Exception):
    """Base class of all onboard-sync errors."""


class UserError(OnboardSyncError):
    """Something the user can fix. ``where`` names the file and line, key path or record."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(UserError):
    """A config, mapping or rules file is malformed or inconsistent."""


class AuthError(UserError):
    """Credentials are missing, expired, revoked or lack a scope."""


class Unreachable(UserError):
    """Every attempt of an API call failed to connect (refused, unknown host, no route, connect
    timeout): the connector's URL is wrong or the network is down. Names the host."""


class SchemaError(UserError):
    """A mapped CRM property does not exist or has the wrong type."""


class ApiError(OnboardSyncError):
    """A vendor API call that failed for good (after retries, or not retryable).

    ``status`` is the HTTP status (0 when the connection itself failed), ``endpoint`` the
    logical endpoint name used for call accounting, ``retry_after`` the server's advice
    in seconds if it gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        endpoint: str = "",
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.endpoint = endpoint
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(f"{endpoint}: HTTP {status}: {message}" if endpoint else message)


class UnknownPropertiesError(ApiError):
    """A batch field write the CRM refused as a whole because it has no such properties (HubSpot 400
    ``PROPERTY_DOESNT_EXIST``, Salesforce 400 ``INVALID_FIELD``): deleted after the run checked its
    schema. ``properties`` names them; the core sends the batch again without them."""

    def __init__(self, properties: tuple[str, ...], *, crm: str = "the CRM", endpoint: str = "") -> None:
        self.properties = properties
        names = ", ".join(repr(name) for name in properties)
        super().__init__(f"property {names} does not exist in {crm}", status=400, endpoint=endpoint)


class PagingError(OnboardSyncError):
    """A connector's paged read handed back a page token it had already returned: its paging
    loops (a connector bug). The pull stops with this error and the cursor does not move."""


class RateLimitExhausted(ApiError):
    """A daily or otherwise long-lived quota is used up: stop the run cleanly, resume later."""


class LockHeld(UserError):
    """Another sync holds the run lock (two cron runs must never overlap)."""
