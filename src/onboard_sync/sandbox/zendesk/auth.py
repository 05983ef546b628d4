"""Authentication state of the Zendesk sandbox: OAuth clients and the access tokens issued.

``POST /oauth/tokens`` grants ``client_credentials`` and ``refresh_token``; access tokens expire by
the sandbox clock. ``app.py``'s token check accepts these and the account's API token (HTTP Basic
``email/token:API_TOKEN``).
"""

from __future__ import annotations

import secrets as _secrets
import threading
from datetime import datetime, timedelta
from typing import Any

from onboard_sync.sandbox.clock import Clock


class OAuth:
    """OAuth clients and access tokens (``POST /oauth/tokens``: client_credentials, refresh_token)."""

    def __init__(self, clock: Clock, expires_in: int = 1800) -> None:
        self.clock = clock
        self.expires_in = expires_in
        self.clients: dict[str, str] = {}
        self.refresh: dict[str, str] = {}
        self.tokens: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def add_client(self, client_id: str, client_secret: str) -> str:
        with self._lock:
            self.clients[client_id] = client_secret
            refresh = f"zd-refresh-{_secrets.token_hex(8)}"
            self.refresh[refresh] = client_id
            return refresh

    def issue(self) -> str:
        token = f"zd-oauth-{_secrets.token_hex(12)}"
        with self._lock:
            self.tokens[token] = self.clock.now() + timedelta(seconds=self.expires_in)
        return token

    def grant(self, body: dict[str, Any]) -> dict[str, Any] | None:
        grant = body.get("grant_type")
        client = str(body.get("client_id") or "")
        if self.clients.get(client) != body.get("client_secret"):
            return None
        if grant == "refresh_token" and self.refresh.get(str(body.get("refresh_token"))) != client:
            return None
        if grant not in ("client_credentials", "refresh_token"):
            return None
        return {
            "access_token": self.issue(),
            "token_type": "bearer",
            "scope": body.get("scope") or "read write",
            "expires_in": self.expires_in,
        }

    def valid(self, token: str) -> bool:
        with self._lock:
            expiry = self.tokens.get(token)
        return expiry is not None and self.clock.now() < expiry


__all__ = ["OAuth"]
