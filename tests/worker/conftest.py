"""Fixtures for the durable engine's tests: a HubSpot sandbox project whose store is a fresh
PostgreSQL schema (the engine's ``<schema>_dbos`` beside it, both dropped after)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from onboard_sync.testing.postgres import SchemaFactory, pg_unreachable


@pytest.fixture
def pg_store_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new Postgres schema's store URL, also set as ``ONBOARD_SYNC_STORE`` for the config."""
    reason = pg_unreachable()
    if reason:
        pytest.skip(reason)
    factory = SchemaFactory()
    url = factory()
    monkeypatch.setenv("ONBOARD_SYNC_STORE", url)
    yield url
    factory.close()
