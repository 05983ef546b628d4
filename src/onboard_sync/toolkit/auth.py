"""Authentication strategies for REST connectors, named by scheme: an API key, a static bearer token,
HTTP Basic, and OAuth 2 (client credentials or a refresh token) whose access token is renewed.

:class:`onboard_sync.toolkit.rest.RestClient` asks its strategy to ``prepare`` before each request (the
OAuth token is fetched or refreshed ahead of its expiry there, outside any rate-limit turn) and to
``apply`` itself to the request it sends. On a 401 the gate calls the connector's
``renew_credentials``, which :class:`onboard_sync.toolkit.connector.RestConnector` hands to
:meth:`Auth.renew`: only OAuth renews; a static key or token is refused for good (``AuthError``).
Token requests go through the gate like every other call (counted as ``oauth.token``, paced).
Secrets are read from the connector's ``secrets`` by variable name when needed; a missing one is an
``AuthError`` naming the variable, and :meth:`Auth.secret_values` lists every value for redaction.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from onboard_sync.errors import AuthError
from onboard_sync.toolkit.http_errors import status_of

if TYPE_CHECKING:  # httpx loads when a connector builds its client, not with the plugin
    import httpx

    from onboard_sync.toolkit.rest import RestClient

EXPIRY_MARGIN = 60.0
"""An OAuth token is renewed this many seconds before its announced expiry."""


def secret(secrets: Mapping[str, str], name: str, where: str, what: str) -> str:
    """The value of the variable ``name``, or an ``AuthError`` naming it (never a value)."""
    value = secrets.get(name)
    if not value:
        raise AuthError(f"environment variable {name} ({what}) is not set", where=where)
    return value


class Auth:
    """A scheme's base: nothing to prepare, nothing to renew. ``generation`` counts renewals."""

    generation: int = 0

    def prepare(self, client: RestClient) -> None:
        """Make the credentials ready for the next request (may fetch a token through the gate)."""

    def apply(self, request: httpx.Request) -> None:
        """Put the credentials on ``request``."""

    def renew(self, client: RestClient, stale: int | None) -> bool:
        """New credentials after a 401 on a request sent with generation ``stale``; False: can't."""
        return False

    def secret_values(self) -> tuple[str, ...]:
        """Every secret value the scheme holds (for redaction)."""
        return ()


@dataclass
class StaticSecretAuth(Auth):
    """A scheme with one secret that never changes, read from the variable ``env`` at each request:
    missing, it is an ``AuthError`` naming the variable; refused, a 401 is final (nothing to renew)."""

    secrets: Mapping[str, str]
    env: str
    where: str
    what: ClassVar[str] = "the API key"
    """What the secret is, for the error when its variable is not set."""

    def prepare(self, client: RestClient) -> None:
        secret(self.secrets, self.env, self.where, self.what)

    def secret_values(self) -> tuple[str, ...]:
        return tuple(v for v in (self.secrets.get(self.env),) if v)


@dataclass
class ApiKeyAuth(StaticSecretAuth):
    """A static API key in a header (``X-Api-Key``) or, with ``query``, a query parameter."""

    header: str = "X-Api-Key"
    query: str | None = None

    def apply(self, request: httpx.Request) -> None:
        key = self.secrets[self.env]
        if self.query:
            request.url = request.url.copy_merge_params({self.query: key})
        else:
            request.headers[self.header] = key


@dataclass
class BearerTokenAuth(StaticSecretAuth):
    """A static bearer token (a private-app token, an OAuth access token issued elsewhere)."""

    what: ClassVar[str] = "the access token"

    def apply(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = f"Bearer {self.secrets[self.env]}"


class BasicAuth(StaticSecretAuth):
    """HTTP Basic with a user name and a secret password or token (Zendesk: ``email/token`` + API token)."""

    what: ClassVar[str] = "the password or API token"

    def __init__(self, username: str, secrets: Mapping[str, str], env: str, where: str) -> None:
        super().__init__(secrets, env, where)
        self.username = username

    def apply(self, request: httpx.Request) -> None:
        pair = f"{self.username}:{self.secrets[self.env]}".encode()
        request.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()


@dataclass
class OAuth2Auth(Auth):
    """OAuth 2 access tokens from ``token_path``: the refresh-token grant when ``refresh_token_env`` is
    set, else client credentials (with ``scope``). Renewed ``EXPIRY_MARGIN`` before it expires and once
    after a 401; a rotated refresh token is kept. The request body is JSON (``form``: form-encoded)."""

    token_path: str
    client_id: str
    client_secret_env: str
    secrets: Mapping[str, str]
    where: str
    refresh_token_env: str | None = None
    scope: str | None = None
    form: bool = False
    token: str | None = None
    expires_at: float | None = None
    refresh_token: str | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def prepare(self, client: RestClient) -> None:
        with self._lock:
            due = self.expires_at is not None and client.call.monotonic() >= self.expires_at - EXPIRY_MARGIN
            if self.token is None or due:
                self._fetch(client)

    def apply(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = f"Bearer {self.token}"

    def renew(self, client: RestClient, stale: int | None) -> bool:
        with self._lock:
            if stale is not None and stale != self.generation:
                return True  # another thread renewed it since that request went out
            self._fetch(client)
            return True

    def _grant(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "client_id": self.client_id,
            "client_secret": secret(self.secrets, self.client_secret_env, self.where, "the OAuth client secret"),
        }
        refresh = self.refresh_token or (self.secrets.get(self.refresh_token_env) if self.refresh_token_env else None)
        if self.refresh_token_env and not refresh:
            secret(self.secrets, self.refresh_token_env, self.where, "the OAuth refresh token")
        if refresh:
            body.update(grant_type="refresh_token", refresh_token=refresh)
        else:
            body.update(grant_type="client_credentials", **({"scope": self.scope} if self.scope else {}))
        return body

    def _fetch(self, client: RestClient) -> None:
        body = self._grant()
        try:
            answer = client.request(
                "oauth.token",
                "POST",
                self.token_path,
                **({"data": body} if self.form else {"json": body}),
                authenticated=False,
            )
        except Exception as exc:
            if status_of(exc) in (400, 401, 403):
                raise AuthError(
                    f"the OAuth {body['grant_type']} grant was refused (HTTP {status_of(exc)}): check client_id, "
                    f"{self.client_secret_env}" + (f" and {self.refresh_token_env}" if self.refresh_token_env else ""),
                    where=self.where,
                ) from None
            raise
        token = answer.get("access_token") if isinstance(answer, Mapping) else None
        if not token:
            raise AuthError("the OAuth token answer carried no access_token", where=self.where)
        self.token = str(token)
        self.refresh_token = answer.get("refresh_token") or self.refresh_token
        expires = answer.get("expires_in")
        self.expires_at = client.call.monotonic() + float(expires) if expires else None
        self.generation += 1

    def secret_values(self) -> tuple[str, ...]:
        names = (self.client_secret_env, self.refresh_token_env)
        held = [self.secrets.get(n) for n in names if n] + [self.token, self.refresh_token]
        return tuple(v for v in held if v)


__all__ = ["ApiKeyAuth", "Auth", "BasicAuth", "BearerTokenAuth", "OAuth2Auth", "StaticSecretAuth", "secret"]
