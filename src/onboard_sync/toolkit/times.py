"""Vendor timestamps as aware UTC datetimes, and back: the one time parser connectors share.

Connectors (built-in and plugins, through :mod:`onboard_sync.toolkit`) call :func:`parse_time` on
every date or date-time value a CRM or helpdesk sends: ISO-8601 with ``Z`` or an offset in either
form (``+00:00``, Salesforce's ``+0000``), a bare date (midnight UTC), or an epoch number (HubSpot's
milliseconds; ``epoch="s"`` for seconds). :func:`format_time` writes the ISO-8601 UTC form vendors
accept back.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def parse_time(value: object, *, epoch: Literal["ms", "s"] = "ms") -> datetime | None:
    """A vendor's date or date-time value as an aware UTC datetime; ``None`` for ``None`` or ``""``.

    Numbers and all-digit text are epoch times in milliseconds (``epoch="s"``: seconds). Anything
    else that is not ISO-8601 raises ``ValueError`` naming the value: a vendor sending garbage is
    an error to see, not a time to guess."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if epoch == "ms" else value, tz=UTC)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return parse_time(int(text), epoch=epoch)
    try:
        return to_utc(datetime.fromisoformat(text))
    except ValueError:
        raise ValueError(f"not an ISO-8601 date or time: {text[:40]!r}") from None


def format_time(value: datetime, *, timespec: str = "milliseconds") -> str:
    """``value`` as ISO-8601 UTC with a ``Z`` (``2026-05-01T09:30:00.000Z``)."""
    return to_utc(value).isoformat(timespec=timespec).replace("+00:00", "Z")


__all__ = ["format_time", "parse_time", "to_utc"]
