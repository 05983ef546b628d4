"""Salesforce error values and id/JSON helpers shared by the sandbox's backend, reads and app.

:class:`SfError` is what backend methods raise; the app renders it as Salesforce's error array
(``errorCode``) or, inside sObject Collections, as a per-record error (``statusCode``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

_CHECK = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class SfError(Exception):
    """A Salesforce error: HTTP ``status`` and an ``errorCode`` (REST) / ``statusCode`` (collections)."""

    def __init__(self, status: int, code: str, message: str, fields: tuple[str, ...] = ()) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        super().__init__(f"{code}: {message}")

    def body(self) -> list[dict[str, Any]]:
        entry: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields:
            entry["fields"] = list(self.fields)
        return [entry]

    def record_error(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields)}


def sf_id(prefix: str, n: int) -> str:
    """An 18-character id with Salesforce's case-safe checksum suffix."""
    body = ""
    while n:
        n, r = divmod(n, 62)
        body = _B62[r] + body
    base = prefix + "5g" + body.rjust(10, "0")
    suffix = ""
    for chunk in (base[0:5], base[5:10], base[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += _CHECK[bits]
    return base + suffix


def render(value: Any) -> Any:
    """A typed value as Salesforce REST JSON renders it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    return value
