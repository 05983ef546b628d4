"""Webhook signature checks exactly as each vendor specifies them: pure functions, no I/O.

The signature helpers any scheme may use: called by the built-in schemes (in the connector
packages) and by the sandboxes that sign their deliveries, and tested against the vendors'
published vectors (tests/webhooks/test_signatures.py). They stay in the core, not in a connector
package, because the sandboxes may not import a connector. Every comparison is constant-time
(``hmac.compare_digest``); nothing here logs or echoes a secret or a body.

* HubSpot v1 ``hex(sha256(secret + body))``, v2 ``hex(sha256(secret + method + uri + body))``,
  v3 ``base64(hmac_sha256(secret, method + decoded uri + body + timestamp))`` with a 5-minute
  window on ``X-HubSpot-Request-Timestamp`` (ms epoch; future timestamps pass, as in the SDK).
* Zendesk ``base64(hmac_sha256(secret, timestamp header + body))`` (the secret's bytes as-is).
* A shared-secret HMAC for JSON callouts we define ourselves (Salesforce Flow / Apex):
  ``X-Onboard-Sync-Signature: sha256=<hex hmac_sha256(secret, timestamp + "." + body)>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

HUBSPOT_MAX_AGE_SECONDS = 300

# The percent-escapes HubSpot's docs say to decode in the URI before computing a v3 signature.
HUBSPOT_URI_DECODE = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


class SignatureError(Exception):
    """A request failed verification; ``reason`` is a short label for metrics and logs."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def _equal(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("ascii", "replace"), given.strip().encode("ascii", "replace"))


# --- HubSpot -----------------------------------------------------------------------------


def hubspot_decode_uri(uri: str) -> str:
    """Decode the escapes in HubSpot's table (upper or lower case hex), leave any other escape as is."""
    out: list[str] = []
    i = 0
    while i < len(uri):
        chunk = uri[i : i + 3].upper()
        if uri[i] == "%" and chunk in HUBSPOT_URI_DECODE:
            out.append(HUBSPOT_URI_DECODE[chunk])
            i += 3
        else:
            out.append(uri[i])
            i += 1
    return "".join(out)


def hubspot_v1(secret: str, body: str | bytes) -> str:
    """``X-HubSpot-Signature`` version v1 (webhooks API): hex SHA-256 of secret + body."""
    return hashlib.sha256(_bytes(secret) + _bytes(body)).hexdigest()


def hubspot_v2(secret: str, method: str, uri: str, body: str | bytes) -> str:
    """Version v2 (workflow webhooks, CRM cards): hex SHA-256 of secret + method + full URI + body."""
    return hashlib.sha256(_bytes(secret) + _bytes(method.upper()) + _bytes(uri) + _bytes(body)).hexdigest()


def hubspot_v3(secret: str, method: str, uri: str, body: str | bytes, timestamp: str | int) -> str:
    """``X-HubSpot-Signature-v3``: base64 HMAC-SHA256 of method + decoded URI + body + timestamp."""
    message = _bytes(method.upper()) + _bytes(hubspot_decode_uri(uri)) + _bytes(body) + _bytes(str(timestamp))
    return base64.b64encode(hmac.new(_bytes(secret), message, hashlib.sha256).digest()).decode("ascii")


def verify_hubspot(
    secret: str,
    *,
    method: str,
    uri: str,
    body: bytes,
    headers: Mapping[str, str],
    now: float,
    max_age: float = HUBSPOT_MAX_AGE_SECONDS,
) -> str:
    """Verify a HubSpot request (v3 preferred, else v1/v2); return the version used or raise.

    ``headers`` must be case-insensitive (Starlette's are) or lower-cased. ``now`` is epoch seconds.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    v3 = lower.get("x-hubspot-signature-v3")
    if v3 is not None:
        stamp = lower.get("x-hubspot-request-timestamp", "")
        try:
            sent = int(stamp) / 1000.0
        except ValueError:
            raise SignatureError("bad-timestamp", "missing or non-numeric X-HubSpot-Request-Timestamp") from None
        if now - sent > max_age:
            raise SignatureError("stale", f"request timestamp older than {int(max_age)} s (replay?)")
        if not _equal(hubspot_v3(secret, method, uri, body, stamp), v3):
            raise SignatureError("bad-signature", "X-HubSpot-Signature-v3 does not match")
        return "v3"
    legacy = lower.get("x-hubspot-signature")
    version = lower.get("x-hubspot-signature-version", "v1").lower()
    if legacy is None:
        raise SignatureError("missing-signature", "no X-HubSpot-Signature-v3 or X-HubSpot-Signature header")
    if version == "v1":
        expected = hubspot_v1(secret, body)
    elif version == "v2":
        expected = hubspot_v2(secret, method, uri, body)
    else:
        raise SignatureError("bad-signature", f"unknown X-HubSpot-Signature-Version {version[:8]!r}")
    if not _equal(expected, legacy):
        raise SignatureError("bad-signature", f"X-HubSpot-Signature ({version}) does not match")
    return version


def public_url(
    scheme: str,
    host: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    *,
    trust_forwarded: bool,
    base_url: str | None = None,
) -> str:
    """The URL the sender called: ``base_url`` (configured public origin) wins, then
    ``X-Forwarded-Proto``/``X-Forwarded-Host`` when the proxy is trusted, else the request's own."""
    lower = {k.lower(): v for k, v in headers.items()}
    if base_url:
        origin = base_url.rstrip("/")
    else:
        if trust_forwarded:
            scheme = lower.get("x-forwarded-proto", scheme).split(",")[0].strip() or scheme
            host = lower.get("x-forwarded-host", host).split(",")[0].strip() or host
        origin = f"{scheme}://{host}"
    return f"{origin}{path}" + (f"?{query}" if query else "")


# --- Zendesk -----------------------------------------------------------------------------


def zendesk_signature(secret: str, timestamp: str, body: str | bytes) -> str:
    """``X-Zendesk-Webhook-Signature``: base64 HMAC-SHA256 of the timestamp header value + raw body."""
    digest = hmac.new(_bytes(secret), _bytes(timestamp) + _bytes(body), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_zendesk(secret: str, *, body: bytes, headers: Mapping[str, str], now: float, max_age: float = 300) -> None:
    """Verify a Zendesk webhook; the ISO-8601 timestamp must be within ``max_age`` seconds of ``now``."""
    from datetime import datetime

    lower = {k.lower(): v for k, v in headers.items()}
    given = lower.get("x-zendesk-webhook-signature")
    stamp = lower.get("x-zendesk-webhook-signature-timestamp")
    if not given or not stamp:
        raise SignatureError("missing-signature", "no X-Zendesk-Webhook-Signature(-Timestamp) header")
    try:
        sent = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise SignatureError("bad-timestamp", "X-Zendesk-Webhook-Signature-Timestamp is not ISO-8601") from None
    if abs(now - sent) > max_age:
        raise SignatureError("stale", f"request timestamp more than {int(max_age)} s away (replay?)")
    if not _equal(zendesk_signature(secret, stamp, body), given):
        raise SignatureError("bad-signature", "X-Zendesk-Webhook-Signature does not match")


# --- our own HMAC for JSON callouts (Salesforce Flow / Apex) --------------------------------

CALLOUT_SIGNATURE = "x-onboard-sync-signature"
CALLOUT_TIMESTAMP = "x-onboard-sync-timestamp"


def callout_signature(secret: str, timestamp: str, body: str | bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`` (Standard-Webhooks style)."""
    mac = hmac.new(_bytes(secret), _bytes(timestamp) + b"." + _bytes(body), hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify_callout(secret: str, *, body: bytes, headers: Mapping[str, str], now: float, max_age: float = 300) -> None:
    """Verify a JSON callout signed with ``callout_signature``; the timestamp is epoch seconds."""
    lower = {k.lower(): v for k, v in headers.items()}
    given = lower.get(CALLOUT_SIGNATURE)
    stamp = lower.get(CALLOUT_TIMESTAMP)
    if not given or not stamp:
        raise SignatureError("missing-signature", "no X-Onboard-Sync-Signature / -Timestamp header")
    try:
        sent = float(stamp)
    except ValueError:
        raise SignatureError("bad-timestamp", "X-Onboard-Sync-Timestamp is not epoch seconds") from None
    if abs(now - sent) > max_age:
        raise SignatureError("stale", f"request timestamp more than {int(max_age)} s away (replay?)")
    if not _equal(callout_signature(secret, stamp, body), given):
        raise SignatureError("bad-signature", "X-Onboard-Sync-Signature does not match")
