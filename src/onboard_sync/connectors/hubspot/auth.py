"""Access tokens for the HubSpot connector: a private-app token, or OAuth with refresh.

:class:`TokenSource` is used by the connector before each API call. A private-app token is
read once from the secrets. With OAuth (``client_id`` set) the access token is obtained from
``POST /oauth/v1/token`` with the refresh token, refreshed shortly before it expires and, once,
when HubSpot answers 401. Missing secrets raise ``AuthError`` naming the variable, never a value.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from onboard_sync.errors import AuthError

EXPIRY_MARGIN_SECONDS = 60.0
"""Refresh this long before the access token's announced expiry."""


class TokenSource:
    """Hands out a valid access token; ``refresh`` is the injected OAuth call (or None)."""

    def __init__(
        self,
        *,
        secrets: Mapping[str, str],
        where: str,
        token_env: str,
        oauth: tuple[str, str, str] | None,
        refresh: Callable[[str, str, str], Any] | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secrets = secrets
        self._where = where
        self._token_env = token_env
        self._oauth = oauth  # (client_id, client_secret_env, refresh_token_env)
        self._refresh = refresh
        self.clock = clock
        self._token: str | None = None
        self._expires_at: float | None = None
        self._refresh_token: str | None = None

    @property
    def is_oauth(self) -> bool:
        """Whether tokens come from OAuth (and can be refreshed)."""
        return self._oauth is not None

    def secret_values(self) -> tuple[str, ...]:
        """Every secret this source knows, so messages can be scrubbed of them."""
        found = [self._token, self._refresh_token]
        names = [self._token_env] if self._oauth is None else list(self._oauth[1:])
        found += [self._secrets.get(name) for name in names]
        return tuple(s for s in found if s)

    def _secret(self, name: str) -> str:
        value = self._secrets.get(name)
        if not value:
            raise AuthError(f"{name} is not set", where=self._where)
        return value

    def current(self) -> tuple[str, bool]:
        """A token valid for the next call, and whether it is new since the last ``current``."""
        if self._oauth is None:
            if self._token is None:
                self._token = self._secret(self._token_env)
                return self._token, True
            return self._token, False
        expired = self._expires_at is not None and self.clock() >= self._expires_at - EXPIRY_MARGIN_SECONDS
        if self._token is None or expired:
            return self.refresh(), True
        return self._token, False

    def refresh(self) -> str:
        """Get a new access token with the refresh token (OAuth only)."""
        if self._oauth is None or self._refresh is None:
            raise AuthError(f"the token in {self._token_env} was refused", where=self._where)
        client_id, secret_env, refresh_env = self._oauth
        client_secret = self._secret(secret_env)
        refresh_token = self._refresh_token or self._secret(refresh_env)
        answer = self._refresh(client_id, client_secret, refresh_token)
        token = getattr(answer, "access_token", None)
        if not token:
            raise AuthError("HubSpot returned no access token for the refresh token", where=self._where)
        self._token = str(token)
        self._refresh_token = getattr(answer, "refresh_token", None) or refresh_token
        expires_in = getattr(answer, "expires_in", None)
        self._expires_at = self.clock() + float(expires_in) if expires_in else None
        return self._token
