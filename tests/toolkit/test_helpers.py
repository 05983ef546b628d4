"""The toolkit's shared helpers: one time parser, one redaction, one status reader, one HTTP classifier."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import httpx
import pytest

from onboard_sync.errors import ApiError, AuthError, RateLimitExhausted
from onboard_sync.toolkit.http_errors import HttpError, classify_http, error_text, retry_after_seconds, status_of
from onboard_sync.toolkit.redact import redact, secret_values
from onboard_sync.toolkit.times import format_time, parse_time, to_utc

NOON = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01T12:00:00Z",  # Zendesk, HubSpot
        "2024-05-01T12:00:00.000Z",
        "2024-05-01T12:00:00.000+0000",  # Salesforce
        "2024-05-01T14:00:00+02:00",
        "1714564800000",  # HubSpot's ms epoch as text
        1714564800000,
        datetime(2024, 5, 1, 12, 0),  # naive: taken as UTC
        datetime(2024, 5, 1, 7, 0, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_every_vendor_time_form_is_one_aware_utc_datetime(value: object) -> None:
    parsed = parse_time(value)
    assert parsed == NOON
    assert parsed is not None
    assert parsed.tzinfo is UTC


def test_dates_epoch_seconds_blanks_and_garbage() -> None:
    assert parse_time("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_time(date(2024, 5, 1)) == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_time(1714564800, epoch="s") == NOON
    assert parse_time("1714564800", epoch="s") == NOON
    assert parse_time(None) is None
    assert parse_time("") is None
    with pytest.raises(ValueError, match="not an ISO-8601 date or time: 'next tuesday'"):
        parse_time("next tuesday")


def test_format_time_writes_iso_utc_with_a_z() -> None:
    assert format_time(datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))) == "2024-05-01T12:00:00.000Z"
    assert format_time(NOON, timespec="seconds") == "2024-05-01T12:00:00Z"
    assert to_utc(datetime(2024, 5, 1, 12)) == NOON


def test_redact_masks_every_known_secret_longest_first() -> None:
    text = "token abcd1234 and abcd1234-refresh sent to us, and ab"
    assert redact(text, ["abcd1234", "abcd1234-refresh", "ab", None]) == "token *** and *** sent to us, and ab"
    assert secret_values({"A": "one-secret", "B": ""}, ["A", "B", None, "MISSING"], "held-token", None) == (
        "one-secret",
        "held-token",
    )


def test_status_of_looks_through_the_gates_auth_error() -> None:
    vendor = HttpError(401, "{}", "/v1/me")
    refused = AuthError("refused")
    refused.__cause__ = vendor
    assert status_of(refused) == 401
    assert status_of(vendor) == 401
    assert status_of(RuntimeError("x")) is None


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("1.5") == 1.5
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now=lambda: now) == 30.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None


def test_classify_http_keeps_the_vendors_words_and_no_secret() -> None:
    body = '{"errors": [{"title": "key sk-live-123456 is not allowed here"}]}'
    error = classify_http(HttpError(422, body, "/v1/x"), ["sk-live-123456"])
    assert isinstance(error, ApiError)
    assert (error.status, error.retryable, str(error)) == (422, False, "key *** is not allowed here")
    busy = classify_http(HttpError(429, "{}", "/v1/x", retry_after=3.0), [])
    assert busy is not None
    assert busy.retryable
    assert busy.retry_after == 3.0
    assert classify_http(HttpError(502, "bad gateway", "/v1/x"), []).retryable  # type: ignore[union-attr]
    assert classify_http(HttpError(409, "{}", "/v1/x"), [], retryable=frozenset({409})).retryable  # type: ignore[union-attr]
    quota = classify_http(HttpError(429, '{"code": "daily"}', "/v1/x"), [], exhausted=lambda e: "daily" in e.body)
    assert isinstance(quota, RateLimitExhausted)
    down = classify_http(httpx.ConnectError("refused"), [])
    assert down is not None
    assert (down.status, down.retryable) == (0, True)
    assert classify_http(KeyError("bug"), []) is None, "a bug stays a bug"


def test_error_text_reads_the_common_envelopes() -> None:
    assert error_text('{"error": "RecordNotFound", "description": "Not found"}') == "RecordNotFound: Not found"
    assert error_text('{"message": "bad stage"}') == "bad stage"
    assert error_text('{"errors": [{"code": "X"}]}') == "X"
    assert error_text("  plain text  ") == "plain text"
