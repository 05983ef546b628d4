"""HTTP for the Zendesk connector: an httpx client with OAuth bearer or API-token auth.

:class:`ZendeskHTTP` sends one request and raises :class:`ZendeskHTTPError` (status, body,
``Retry-After``) on any 4xx/5xx so the core's gate can classify and retry it. Authentication,
in order of preference: an OAuth access token from ``oauth_token_env``; an OAuth client
(``client_id`` + secret, with a refresh token or the client-credentials grant) exchanged at
``POST /oauth/tokens`` and renewed when it expires or is refused; or the legacy API token
(``email/token:API_TOKEN``). Secrets never appear in errors or logs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx

from onboard_sync.connectors.zendesk.settings import ZendeskSettings
from onboard_sync.errors import AuthError


class ZendeskHTTPError(Exception):
    """A Zendesk answer with status >= 400."""

    def __init__(self, status: int, body: str, retry_after: float | None, path: str) -> None:
        self.status, self.body, self.retry_after, self.path = status, body, retry_after, path
        super().__init__(f"HTTP {status} on {path}: {body[:300]}")


class ZendeskHTTP:
    """One account's HTTP client. ``request`` returns decoded JSON."""

    def __init__(self, settings: ZendeskSettings, secrets: Mapping[str, str], instance: str) -> None:
        self.settings = settings
        self.secrets = secrets
        self.instance = instance
        self.http = httpx.Client(
            base_url=settings.api_root,
            timeout=settings.timeout_seconds,
            headers={"Accept": "application/json", "User-Agent": "onboard-sync"},
        )
        self._token: str | None = secrets.get(settings.oauth_token_env) or None
        self._expires = float("inf")
        self._lock = threading.Lock()
        self.mode = self._mode()

    def _mode(self) -> str:
        s = self.settings
        if self._token:
            return "oauth"
        if s.client_id:
            if not self.secrets.get(s.client_secret_env):
                raise AuthError(
                    f"environment variable {s.client_secret_env} (OAuth client secret) is not set",
                    where=f"connectors.{self.instance}.client_secret_env",
                )
            return "oauth-client"
        if s.email and self.secrets.get(s.token_env):
            return "api-token"
        raise AuthError(
            f"no Zendesk credentials: set {s.oauth_token_env} (OAuth access token), or client_id with "
            f"{s.client_secret_env}, or email with {s.token_env} (API tokens stop working on 2027-04-30)",
            where=f"connectors.{self.instance}",
        )

    def secret_values(self) -> list[str]:
        s = self.settings
        names = (s.oauth_token_env, s.client_secret_env, s.token_env, s.refresh_token_env or "")
        values = [self.secrets.get(n) or "" for n in names]
        return [v for v in (*values, self._token or "") if len(v) >= 4]

    def _auth(self) -> dict[str, str] | httpx.BasicAuth:
        if self.mode == "api-token":
            return httpx.BasicAuth(f"{self.settings.email}/token", self.secrets[self.settings.token_env])
        with self._lock:
            if self.mode == "oauth-client" and (self._token is None or time.monotonic() >= self._expires):
                self._fetch_token()
            return {"Authorization": f"Bearer {self._token}"}

    def _fetch_token(self) -> None:
        s = self.settings
        body: dict[str, Any] = {"client_id": s.client_id, "client_secret": self.secrets[s.client_secret_env]}
        refresh = self.secrets.get(s.refresh_token_env) if s.refresh_token_env else None
        if refresh:
            body.update(grant_type="refresh_token", refresh_token=refresh)
        else:
            body.update(grant_type="client_credentials", scope=s.scope)
        answer = self.http.post("/oauth/tokens", json=body)
        if answer.status_code >= 400:
            raise ZendeskHTTPError(answer.status_code, "OAuth token request refused", None, "/oauth/tokens")
        data = answer.json()
        self._token = data["access_token"]
        self._expires = time.monotonic() + max(60.0, float(data.get("expires_in") or 1800) - 60.0)

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> Any:
        answer = self._send(method, path, params, json)
        if answer.status_code == 401 and self.mode == "oauth-client":
            with self._lock:
                self._token = None  # expired or revoked early: fetch a new one and try once more
            answer = self._send(method, path, params, json)
        if answer.status_code >= 400:
            retry = answer.headers.get("Retry-After")
            raise ZendeskHTTPError(
                answer.status_code, answer.text, float(retry) if retry and retry.isdigit() else None, path
            )
        return answer.json() if answer.content else {}

    def _send(self, method: str, path: str, params: Any, json: Any) -> httpx.Response:
        auth = self._auth()
        kwargs: dict[str, Any] = {"params": params, "json": json}
        if isinstance(auth, httpx.BasicAuth):
            kwargs["auth"] = auth
        else:
            kwargs["headers"] = auth
        return self.http.request(method, path, **kwargs)

    def close(self) -> None:
        self.http.close()


__all__ = ["ZendeskHTTP", "ZendeskHTTPError"]
