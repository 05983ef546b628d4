"""Secret redaction for every message a connector passes on (errors, ``WriteResult.error``, logs).

Vendors echo what they were sent (a token in a query string, a key in a validation message), so
connectors run each message through :func:`redact` with the secret values they know before it can
reach the run report, the audit or a log line. :func:`secret_values` gathers those values from the
``secrets`` mapping by variable name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

MIN_SECRET_LENGTH = 4
"""Shorter values are not replaced: they would mangle ordinary words and no real secret is that short."""
MASK = "***"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret value of at least four characters replaced by ``***``
    (longest first, so a secret containing another is masked whole)."""
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def secret_values(secrets: Mapping[str, str], names: Iterable[str | None], *held: str | None) -> tuple[str, ...]:
    """The values of the variables ``names`` (those set) and the values ``held`` (tokens the connector
    obtained itself), for :func:`redact`."""
    found = [secrets.get(name) for name in names if name] + list(held)
    return tuple(dict.fromkeys(v for v in found if v))


__all__ = ["MASK", "redact", "secret_values"]
