"""Benchmark scenarios: one module per CRM or feature, each exporting ``SCENARIOS``.

A scenario is a callable ``run(ctx) -> list[dict]`` of table rows (see :mod:`bench.run` for the
row keys) with a ``name``: ``hubspot`` and ``salesforce-backfill`` (backfill, incremental and naive
script on each CRM's sandbox), ``memory`` (peak RSS), ``webhook-ingest`` (``onboard-sync serve``
acking signed HubSpot batches), ``cli`` (start-up of ``--help`` and ``status``), ``handoff`` (stage
change → first task and phase field under a webhook load), ``scale-out`` (1, 2 and 4 worker hosts in
network namespaces, and one worker's capacity). To add one, write a module here with
``SCENARIOS = [...]`` and add
its name to ``MODULES``. Called by :func:`bench.run.main`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MODULES = (
    "bench.scenarios.hubspot",
    "bench.scenarios.memory",
    "bench.scenarios.webhooks",
    "bench.scenarios.salesforce",
    "bench.scenarios.cli",
    "bench.scenarios.handoff",
    "bench.scenarios.scale_out",
)


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[Any], list[dict[str, Any]]]
    description: str = ""


def all_scenarios() -> list[Scenario]:
    found: list[Scenario] = []
    for name in MODULES:
        found += importlib.import_module(name).SCENARIOS
    return found
