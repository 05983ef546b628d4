"""Logging in to Salesforce: OAuth JWT bearer, client credentials or username-password.

:func:`login` posts to ``{login_url}/services/oauth2/token`` through simple-salesforce's own
``token_login`` (so its error handling applies) and returns ``(access_token, instance_host)``.
Salesforce issues no refresh token in these flows and no expiry time: the connector logs in again
when an API call answers 401 ``INVALID_SESSION_ID``. Missing secrets and refused logins raise
``AuthError`` naming the setting or variable, never a secret.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from onboard_sync.connectors.salesforce.settings import SalesforceSettings
from onboard_sync.errors import AuthError

if TYPE_CHECKING:  # requests, PyJWT and simple-salesforce load with the first login, not with the plugin
    import requests

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _secret(secrets: Mapping[str, str], name: str, where: str, why: str) -> str:
    value = secrets.get(name)
    if not value:
        raise AuthError(f"{name} is not set ({why})", where=where)
    return value


def token_request(
    settings: SalesforceSettings, secrets: Mapping[str, str], where: str
) -> tuple[dict[str, str], dict[str, str] | None]:
    """The form and headers of the token request for the configured flow."""
    s = settings
    if s.auth == "client_credentials":
        secret = _secret(secrets, s.client_secret_env, where, "the connected app's consumer secret")
        basic = base64.b64encode(f"{s.client_id}:{secret}".encode()).decode()
        return {"grant_type": "client_credentials"}, {"Authorization": f"Basic {basic}"}
    if not s.username:
        raise AuthError(f"auth = {s.auth!r} needs username (the integration user)", where=where)
    if s.auth == "password":
        return {
            "grant_type": "password",
            "client_id": s.client_id,
            "client_secret": _secret(secrets, s.client_secret_env, where, "the connected app's consumer secret"),
            "username": s.username,
            "password": _secret(secrets, s.password_env, where, "password followed by the security token"),
        }, None
    if s.private_key_file:
        try:
            key = Path(s.private_key_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise AuthError(f"cannot read private_key_file: {exc.strerror}", where=where) from None
    else:
        key = _secret(secrets, s.private_key_env, where, "PEM private key of the connected app's certificate")
    import jwt

    claims = {"iss": s.client_id, "sub": s.username, "aud": s.jwt_audience(), "exp": int(time.time()) + 180}
    try:
        assertion = jwt.encode(claims, key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise AuthError(
            f"the JWT private key is not a usable RSA PEM key ({type(exc).__name__})", where=where
        ) from None
    return {"grant_type": JWT_GRANT, "assertion": assertion}, None


def login(
    settings: SalesforceSettings, secrets: Mapping[str, str], session: requests.Session, where: str
) -> tuple[str, str]:
    """Run the OAuth flow; ``(access_token, instance host[:port])``."""
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed
    from simple_salesforce.login import token_login

    form, headers = token_request(settings, secrets, where)
    url = f"{settings.login_url}/services/oauth2/token"
    try:
        token, instance = token_login(url, form, "login", settings.client_id, headers, None, session)
    except SalesforceAuthenticationFailed as exc:
        raise AuthError(
            f"Salesforce refused the {settings.auth} login at {settings.login_url}: {exc.code}: {exc.message}",
            where=where,
        ) from None
    if not token or not instance:
        raise AuthError("Salesforce's token answer had no access_token or instance_url", where=where)
    return str(token), str(instance).rstrip("/")
