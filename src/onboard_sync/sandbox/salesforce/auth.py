"""OAuth for the Salesforce sandbox: one connected app, one integration user, and the sessions issued.

``POST /services/oauth2/token`` accepts the three grants onboard-sync uses (``password``,
``client_credentials`` with HTTP Basic or form credentials, and the JWT bearer grant signed RS256
with the app's certificate key). Sessions live ``session_ttl`` seconds of sandbox time (Salesforce's
session timeout) and can be expired at will (``expire_all``) or after N more API requests
(``expire_after``), which is how tests make a session die mid-sync.
"""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from onboard_sync.sandbox.clock import Clock

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class OAuthError(Exception):
    """A refused token request: rendered as ``{"error", "error_description"}`` with HTTP 400."""

    def __init__(self, error: str, description: str) -> None:
        self.error = error
        self.description = description
        super().__init__(description)


@dataclass
class ConnectedApp:
    consumer_key: str
    consumer_secret: str
    username: str
    password: str
    private_key_pem: str
    public_key_pem: str


def make_app(seed: int) -> ConnectedApp:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return ConnectedApp(
        consumer_key=f"3MVG9sandbox{seed:04d}ConsumerKey",
        consumer_secret=f"sandbox-secret-{seed:04d}-" + "x" * 16,
        username="integration@example.test",
        password=f"sandbox-password-{seed:04d}",
        private_key_pem=private,
        public_key_pem=public,
    )


class SessionStore:
    """Issued access tokens and their expiry."""

    def __init__(self, app: ConnectedApp, clock: Clock, session_ttl: float = 7200.0) -> None:
        self.app = app
        self.clock = clock
        self.session_ttl = session_ttl
        self._lock = threading.Lock()
        self._sessions: dict[str, datetime] = {}
        self._expire_countdown: int | None = None
        self.logins = 0

    def reset(self) -> None:
        with self._lock:
            self._sessions.clear()
            self._expire_countdown = None
            self.logins = 0

    def issue(self) -> str:
        token = "00Dsandbox!" + secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[token] = self.clock.now()
            self.logins += 1
        return token

    def valid(self, token: str) -> bool:
        with self._lock:
            if self._expire_countdown is not None:
                self._expire_countdown -= 1
                if self._expire_countdown < 0:
                    self._sessions.clear()
                    self._expire_countdown = None
            issued = self._sessions.get(token)
            if issued is None:
                return False
            if self.clock.now() - issued > timedelta(seconds=self.session_ttl):
                del self._sessions[token]
                return False
            return True

    def expire_all(self) -> None:
        """Every session issued so far is invalid from now on (as when an admin revokes them)."""
        with self._lock:
            self._sessions.clear()

    def expire_after(self, requests: int) -> None:
        """Let ``requests`` more authenticated API requests through, then expire every session."""
        with self._lock:
            self._expire_countdown = requests

    def grant(self, form: dict[str, str], authorization: str | None, audiences: tuple[str, ...]) -> None:
        """Check a token request; raise :class:`OAuthError` as Salesforce answers a bad one."""
        app = self.app
        grant = form.get("grant_type")
        if grant == "password":
            if form.get("client_id") != app.consumer_key or form.get("client_secret") != app.consumer_secret:
                raise OAuthError("invalid_client_id", "client identifier invalid")
            if form.get("username") != app.username or form.get("password") != app.password:
                raise OAuthError("invalid_grant", "authentication failure")
            return
        if grant == "client_credentials":
            key, secret = form.get("client_id"), form.get("client_secret")
            if authorization and authorization.lower().startswith("basic "):
                try:
                    key, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
                except ValueError:
                    raise OAuthError("invalid_client", "invalid client credentials") from None
            if key != app.consumer_key or secret != app.consumer_secret:
                raise OAuthError("invalid_client", "invalid client credentials")
            return
        if grant == JWT_GRANT:
            self._check_jwt(form.get("assertion") or "", audiences)
            return
        raise OAuthError("unsupported_grant_type", "grant type not supported")

    def _check_jwt(self, assertion: str, audiences: tuple[str, ...]) -> None:
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                self.app.public_key_pem,
                algorithms=["RS256"],
                audience=list(audiences),
                options={"require": ["iss", "sub", "aud", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise OAuthError("invalid_grant", "expired authorization code") from None
        except jwt.InvalidAudienceError:
            raise OAuthError("invalid_grant", "audience is invalid") from None
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        if claims.get("iss") != self.app.consumer_key:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if claims.get("sub") != self.app.username:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
