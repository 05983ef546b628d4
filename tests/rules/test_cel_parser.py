"""The CEL parser tables cached in the user's cache folder parse exactly as cel-python's own parser."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import celpy
import pytest
from celpy.celparser import CELParser

from onboard_sync.rules import cel_parser

EXPRESSIONS = [
    'deal.amount >= 100000.0 && account.properties.tier == "enterprise"',
    "plan_day > 30 || !(health.status in ['healthy', 'at-risk'])",
    "metrics.weekly_active_users / 2.0 < 0.7 && has(deal.properties.segment)",
    "deal.properties.exists(k, k.startsWith('x')) ? true : false",
]


@pytest.fixture
def fresh_parser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No parser built yet, and a cache folder of this test's own; the process's parser is restored."""
    saved = CELParser.CEL_PARSER
    monkeypatch.setenv(cel_parser.CACHE_ENV, str(tmp_path / "cache"))
    CELParser.CEL_PARSER = None
    yield tmp_path / "cache" / "onboard-sync"
    CELParser.CEL_PARSER = saved


def _trees() -> list[str]:
    environment = celpy.Environment()
    return [environment.compile(text).pretty() for text in EXPRESSIONS]


def test_cached_parser_parses_as_cel_python_does_and_loads_from_its_cache(fresh_parser: Path) -> None:
    own = _trees()  # cel-python builds its parser itself
    CELParser.CEL_PARSER = None

    cel_parser.install_cached_parser()  # builds the tables and writes the cache
    written = _trees()
    [cache] = fresh_parser.glob("cel-parser-lark-*.pickle")
    CELParser.CEL_PARSER = None
    cel_parser.install_cached_parser()  # from the cache file
    loaded = _trees()

    assert own == written == loaded
    assert stat.S_IMODE(fresh_parser.stat().st_mode) == 0o700
    assert cache.stat().st_size > 0


def test_without_a_writable_cache_folder_cel_python_builds_its_own(
    fresh_parser: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv(cel_parser.CACHE_ENV, str(blocker))

    cel_parser.install_cached_parser()

    assert CELParser.CEL_PARSER is None
    assert _trees()[0].startswith("expr")
