"""What the multi-host tests check, from the portals' request logs and the shared store.

* :func:`client_blocks`: a portal's requests in the order they came in, cut into maximal runs from one
  client address; two hosts calling the portal at overlapping times show as a block that starts before
  the previous block's last answer (:func:`overlaps`), and two runs interleaving show as many blocks.
* :func:`check_exactly_once`: one CRM task per (onboarding, template, episode) key in every portal,
  every won deal with an onboarding in the store, no task intent left PENDING, and every keyed CRM task
  recorded with its remote id.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from onboard_sync.runtime import load_runtime
from onboard_sync.sandbox.common import RequestRecord
from onboard_sync.schema import property_specs
from onboard_sync.store import Store, TaskState
from onboard_sync.testing.hosts import Host, HostNetwork
from onboard_sync.testing.pgserver import PostgresServer
from onboard_sync.testing.portals import Portals, won_deals

KEY = "onboard_sync_key"


@dataclass(frozen=True)
class Block:
    """Consecutive requests to one portal from one client address."""

    client: str | None
    first_received: datetime
    last_answered: datetime
    requests: int


@dataclass
class Cluster:
    network: HostNetwork
    pg: PostgresServer
    portals: Portals
    config: Path
    store_url: str

    def cli(self, host: Host, *args: str) -> subprocess.Popen[str]:
        """``onboard-sync ARGS --config ...`` started on ``host`` (stdout and stderr captured)."""
        argv = [sys.executable, "-m", "onboard_sync.cli", *args, "--config", str(self.config)]
        return host.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.config.parent)

    def log_path(self, host: Host) -> Path:
        return self.config.parent / f"{host.name}.log"

    def host_log(self, host: Host) -> str:
        path = self.log_path(host)
        return path.read_text(errors="replace") if path.exists() else ""

    def setup_crm(self) -> None:
        rt = load_runtime(self.config)
        for name in rt.config.connectors:
            connector = rt.connector(name)
            try:
                specs = connector.required_properties() + property_specs(rt.mappings[name], rt.playbook)
                connector.ensure_properties(specs, apply=True)
            finally:
                connector.close()
        self.portals.clear_logs()

    def store(self) -> Store:
        return Store.open(self.store_url, read_only=True)

    def crm_writes(self) -> int:
        return sum(len(sb.requests.writes()) for _, sb in self.portals.items())


def client_blocks(requests: Sequence[RequestRecord]) -> list[Block]:
    ordered = sorted(requests, key=lambda r: r.received or r.at)
    blocks: list[Block] = []
    for r in ordered:
        start = r.received or r.at
        last = blocks[-1] if blocks else None
        if last is not None and last.client == r.client:
            blocks[-1] = Block(r.client, last.first_received, max(last.last_answered, r.at), last.requests + 1)
        else:
            blocks.append(Block(r.client, start, r.at, 1))
    return blocks


def overlaps(blocks: Sequence[Block]) -> list[tuple[Block, Block]]:
    """Pairs of consecutive blocks of different clients where the second began before the first ended."""
    return [(a, b) for a, b in itertools.pairwise(blocks) if b.first_received < a.last_answered]


def blocks_by_portal(portals: Portals) -> dict[str, list[Block]]:
    return {name: client_blocks(list(sb.requests)) for name, sb in portals.items()}


def check_no_overlap(portals: Portals) -> dict[str, list[Block]]:
    """Assert that no two hosts called one portal at overlapping times; return the blocks per portal."""
    blocks = blocks_by_portal(portals)
    clashes = {name: overlaps(b) for name, b in blocks.items() if overlaps(b)}
    assert not clashes, f"two hosts called one portal at overlapping times: {clashes}"
    return blocks


def check_exactly_once(cluster: Cluster) -> None:
    """One CRM task per key, no onboarding lost, nothing PENDING, every keyed task recorded."""
    with cluster.store() as store:
        for name, sb in cluster.portals.items():
            crm = [t for t in sb.backend.tasks.values() if t.properties.get(KEY) and not t.archived]
            dupes = {k: n for k, n in Counter(t.properties[KEY] for t in crm).items() if n > 1}
            assert not dupes, f"{name}: more than one CRM task per key: {dupes}"
            onboarded = {o.deal_id for o in store.onboardings(source=name)}
            lost = sorted(won_deals(sb) - onboarded)
            assert not lost, f"{name}: won deals without an onboarding: {lost}"
            owned = store.owned_tasks_for(name)
            pending = sorted(k for k, t in owned.items() if t.state is TaskState.PENDING)
            assert not pending, f"{name}: task intents left PENDING: {pending[:5]}"
            for task in crm:
                mine = owned.get(task.properties[KEY])
                assert mine is not None, f"{name}: CRM task {task.id} has no intent in the store"
                assert mine.remote_id == task.id, f"{name}: CRM task {task.id} recorded as {mine.remote_id}"
            assert crm, f"{name}: no task was written at all (the check would be empty)"


def finish(procs: Sequence[subprocess.Popen[str]], timeout: float = 120) -> list[tuple[int, str]]:
    """Wait for ``procs``; their exit codes and stderr."""
    out = []
    for proc in procs:
        _, err = proc.communicate(timeout=timeout)
        out.append((proc.returncode, err))
    return out


def summary(results: Sequence[tuple[int, str]]) -> str:
    return "; ".join(f"exit {code}: {err.strip().splitlines()[-1] if err.strip() else ''}" for code, err in results)


__all__ = ["Block", "Cluster", "check_exactly_once", "check_no_overlap", "client_blocks", "finish", "overlaps"]
