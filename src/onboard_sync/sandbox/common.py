"""Small helpers shared by the sandbox simulators: the request log and time formatting.

Used by every dialect's ASGI app (to record what it served) and by tests that count calls, e.g.
"a plan sends no write" or "the sync made exactly two batch calls".
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request a simulator answered. ``template`` has ids replaced by ``{placeholders}``.

    ``at`` is when the answer was ready, ``received`` when the request came in (before any injected
    latency), ``client`` the caller's IP address: together they show which host called a portal when
    (the multi-host tests check that no two hosts call one portal at overlapping times).
    """

    method: str
    path: str
    template: str
    status: int
    at: datetime
    client: str | None = None
    received: datetime | None = None

    @property
    def key(self) -> str:
        """``"METHOD template"``, the key of :meth:`RequestLog.counts`."""
        return f"{self.method} {self.template}"


class RequestLog(list[RequestRecord]):
    """A thread-safe append-only list of :class:`RequestRecord` (``clear()`` works as usual)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def record(self, entry: RequestRecord) -> None:
        with self._lock:
            self.append(entry)

    def counts(self) -> Counter[str]:
        """Requests by ``"METHOD template"``."""
        with self._lock:
            return Counter(r.key for r in self)

    def writes(self) -> list[RequestRecord]:
        """Requests that may change state (anything but GET and read-only POSTs such as search)."""
        read_only = ("/search", "/batch/read")
        with self._lock:
            return [r for r in self if r.method != "GET" and not any(r.template.endswith(s) for s in read_only)]


def client_host(scope: Mapping[str, Any]) -> str | None:
    """The caller's IP address from an ASGI ``scope`` (``None`` when the server did not say)."""
    client = scope.get("client")
    return str(client[0]) if client else None


def iso_ms(dt: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and ``Z``: ``2026-01-05T09:30:00.000Z``."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


_DAYS: dict[int, str] = {}
_HMS: dict[int, str] = {}
_MILLIS = [f"{i:03d}Z" for i in range(1000)]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_from_ms(ms: int) -> str:
    """:func:`iso_ms` for a ms-epoch integer, fast (the seeder formats hundreds of thousands)."""
    day, rem = divmod(ms, 86_400_000)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%dT")
    sec, milli = divmod(rem, 1000)
    hms = _HMS.get(sec)
    if hms is None:
        hms = _HMS[sec] = f"{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}."
    return date + hms + _MILLIS[milli]


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def parse_instant(value: str) -> datetime | None:
    """Parse a ms-epoch string or an ISO-8601 date/datetime (``Z`` allowed); ``None`` if neither."""
    text = value.strip()
    if not text:
        return None
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def epoch_ms(dt: datetime) -> int:
    return (dt - _EPOCH) // timedelta(milliseconds=1)


__all__ = [
    "RequestLog",
    "RequestRecord",
    "client_host",
    "epoch_ms",
    "from_ms",
    "iso_from_ms",
    "iso_ms",
    "parse_instant",
]
