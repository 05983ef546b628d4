"""Helpers for the plan-predicts-sync tests: a CRM book with a helpdesk, one frozen clock, and a
``plan`` then ``sync`` at the same instant whose writes are compared key by key.

A ``Book`` is a config folder wired to a sandbox CRM (HubSpot with a linked Zendesk, or Salesforce
with its Cases) sharing one ``SandboxClock`` with the engine, so the two runs of a round see the
same world at the same time. ``plan_then_sync`` runs ``plan`` (read-only store, its ``changes``
rows), checks the store file is untouched, then ``sync`` (the rows ``sync --json`` prints, from
the audit), and returns both.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from onboard_sync.records import TaskStatus
from onboard_sync.sandbox.clock import SandboxClock
from onboard_sync.store import Store, TaskState
from onboard_sync.sync.engine import Engine
from onboard_sync.sync.writes import run_changes

Row = dict[str, Any]
WriteKey = tuple[str, str, str]

ZENDESK_TOKEN_ENV = "ONBOARD_SYNC_TEST_ZENDESK_TOKEN"


def zendesk_tables(zendesk: Any, crm: str) -> str:
    """The ``[connectors.zendesk]`` tables of a Zendesk linked to ``crm``."""
    return f"""
[connectors.zendesk]
type = "zendesk"
base_url = "{zendesk.base_url}"
email = "{zendesk.email}"
token_env = "{ZENDESK_TOKEN_ENV}"

[connectors.zendesk.link]
crm = "{crm}"
by = ["external_id", "domain"]
"""


def closing_alerts(playbook_text: str) -> str:
    """The playbook with every alert completing its task when it clears (so closes are planned)."""
    return re.sub(r"^\[\[alerts\]\]\n", "[[alerts]]\nclose_when_cleared = true\n", playbook_text, flags=re.M)


def by_write(rows: list[Row]) -> dict[WriteKey, Row]:
    """Rows by (action, instance, key); a key written twice in one run fails the test."""
    keyed = {(r["action"], r["instance"], r["key"]): r for r in rows}
    assert len(keyed) == len(rows), f"a write key appears twice: {Counter(map(str, rows)).most_common(1)}"
    return keyed


def figures(rows: list[Row]) -> Counter[str]:
    """How many writes of each kind a round compared (``create task``, ``update zendesk account`` …)."""
    counts: Counter[str] = Counter()
    for row in rows:
        counts[f"{row['action']} {row['instance']} {row['object']}"] += 1
        if row["action"] == "create" and ":alert." in row["key"]:
            counts["alert tasks"] += 1
    return counts


@dataclass
class Book:
    """A config folder wired to a sandbox CRM (and helpdesk), with the clock they share."""

    name: str
    path: Path
    clock: SandboxClock
    crm: str
    sandbox: Any
    zendesk: Any = None
    rounds: list[Counter[str]] = field(default_factory=list)

    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    def runtime(self) -> Any:
        from onboard_sync.runtime import load_runtime

        return load_runtime(self.config_path)

    @contextmanager
    def store(self, *, read_only: bool = False) -> Iterator[Store]:
        with Store.open(self.runtime().config.store_url, read_only=read_only) as store:
            yield store

    def set_up(self) -> None:
        """Create the CRM properties and helpdesk fields the mappings write (``onboard-sync setup``)."""
        from onboard_sync.schema import property_specs

        rt = self.runtime()
        for name in rt.config.connectors:
            connector = rt.connector(name)
            try:
                specs = property_specs(rt.mappings[name], rt.playbook)
                if name == self.crm:
                    specs = connector.required_properties() + specs
                connector.ensure_properties(specs, apply=True)
            finally:
                connector.close()

    def plan_then_sync(self) -> tuple[list[Row], list[Row]]:
        """``plan`` and then ``sync`` at the same instant: their writes (rows of ``changes``)."""
        self.clock.advance(minutes=2)  # Zendesk exports leave out the most recent minute
        rt = self.runtime()
        db = self.path / "onboard-sync.db"
        before = _digest(db)
        with self.store(read_only=True) as store:
            planned = Engine(rt, store, plan_mode=True, clock=self.clock.now, sleep=lambda s: None).run()
        assert planned.ok, planned.as_dict()
        assert _digest(db) == before, "plan wrote nothing, the store included"
        with self.store() as store:
            synced = Engine(rt, store, clock=self.clock.now, sleep=lambda s: None).run()
            assert synced.ok, synced.as_dict()
            assert synced.run_id is not None
            done = list(run_changes(store, synced.run_id, list(synced.instances)))
        return planned.as_dict()["changes"], done

    def open_tasks(self) -> dict[str, list[tuple[str, str]]]:
        """Per onboarding, its open CRM tasks as (key, remote id), from the store."""
        with self.store() as store:
            owned = store.owned_tasks_for(self.crm)
        out: dict[str, list[tuple[str, str]]] = {}
        for key, task in sorted(owned.items()):
            if task.state is TaskState.CREATED and task.status is TaskStatus.OPEN and task.remote_id:
                out.setdefault(task.onboarding_id, []).append((key, task.remote_id))
        return out


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


DAY = timedelta(days=1)
