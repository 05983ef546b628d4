"""Authentication state of the HubSpot sandbox: the private-app token and OAuth clients/tokens.

Used by ``app.py`` to check each request's ``Authorization: Bearer`` token and by the
``POST /oauth/v1/token`` route (refresh-token grant). Access tokens expire by the sandbox clock, so
tests can ``sb.clock.advance(seconds=1801)`` to exercise a refresh.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from onboard_sync.sandbox.clock import Clock


@dataclass
class _Client:
    secret: str
    refresh_tokens: set[str]


class TokenStore:
    """Valid tokens: the private-app token plus unexpired OAuth access tokens."""

    def __init__(self, private_token: str, clock: Clock, expires_in: int = 1800) -> None:
        self.private_token = private_token
        self.expires_in = expires_in
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: dict[str, _Client] = {}
        self._access: dict[str, datetime] = {}

    def add_client(self, client_id: str, client_secret: str) -> str:
        """Register an OAuth app; returns a refresh token for it."""
        token = f"na1-{secrets.token_hex(4)}-{uuid.uuid4()}"
        with self._lock:
            client = self._clients.setdefault(client_id, _Client(client_secret, set()))
            client.secret = client_secret
            client.refresh_tokens.add(token)
        return token

    def issue(self) -> tuple[str, int]:
        """A new access token (and its lifetime in seconds)."""
        token = "CO" + secrets.token_urlsafe(48)
        with self._lock:
            self._access[token] = self._clock.now() + timedelta(seconds=self.expires_in)
        return token, self.expires_in

    def check(self, token: str | None) -> tuple[str, str | None]:
        """``("ok", kind)`` with kind ``"private"``/``"oauth"``, ``("missing"|"invalid", None)`` or
        ``("expired", "N minute(s) ago")``."""
        if not token:
            return "missing", None
        if token == self.private_token:
            return "ok", "private"
        with self._lock:
            expires = self._access.get(token)
        if expires is None:
            return "invalid", None
        now = self._clock.now()
        if now >= expires:
            return "expired", f"{int((now - expires).total_seconds() // 60)} minute(s) ago"
        return "ok", "oauth"

    def grant(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """``POST /oauth/v1/token``: the refresh-token grant. Returns (status, body)."""

        def fail(status: str, message: str) -> tuple[int, dict[str, Any]]:
            return 400, {"status": status, "message": message, "correlationId": str(uuid.uuid4())}

        if form.get("grant_type") != "refresh_token":
            return fail(
                "BAD_GRANT_TYPE",
                f"unsupported grant_type {form.get('grant_type')!r} (sandbox supports refresh_token)",
            )
        with self._lock:
            client = self._clients.get(form.get("client_id", ""))
        if client is None:
            return fail("BAD_CLIENT_ID", "missing or unknown client_id")
        if form.get("client_secret") != client.secret:
            return fail("BAD_CLIENT_SECRET", "missing or invalid client_secret")
        refresh = form.get("refresh_token", "")
        if refresh not in client.refresh_tokens:
            return fail("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
        token, ttl = self.issue()
        return 200, {
            "token_type": "bearer",
            "refresh_token": refresh,
            "access_token": token,
            "expires_in": ttl,
        }

    def reset(self) -> None:
        with self._lock:
            self._clients.clear()
            self._access.clear()


__all__ = ["TokenStore"]
