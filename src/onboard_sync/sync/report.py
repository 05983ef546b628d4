"""Run reports: what one ``sync`` or ``plan`` pulled, evaluated, wrote and spent in API calls.

``RunReport.as_dict()`` is the ``sync --json`` / ``plan --json`` object and what the store
keeps in run history; it always has ``writes.created``, ``writes.updated``,
``writes.failed``, ``api_calls.total`` and ``api_calls.by_endpoint``; a plan's also has
``changes``, every write as a ``sync.writes`` row (``sync --json`` adds its own from the audit).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onboard_sync.sync.plan import WritePlan


@dataclass
class InstanceReport:
    """One connector instance's part of a run."""

    name: str
    deals_pulled: int = 0
    won_before_cutoff: int = 0
    """Won deals left without an onboarding: they closed before ``onboard_won_since``."""
    deals_deleted: int = 0
    """Open onboardings whose deal the CRM no longer has: cancelled (``sync.deletions``)."""
    tasks_deleted: int = 0
    """Open owned tasks a person deleted in the CRM: no longer blocking (``sync.deletions``)."""
    tasks_pulled: int = 0
    onboardings_evaluated: int = 0
    started: int = 0
    adopted: int = 0
    """Onboardings first seen after their start, joined at their plan's phase (``onboarding.catchup``)."""
    tasks_skipped: int = 0
    """Tasks of the plan recorded as skipped, never created (phases that ended before adoption)."""
    transitions: int = 0
    writes_created: int = 0
    writes_updated: int = 0
    writes_failed: int = 0
    recovered: int = 0
    unresolved: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    api_calls: dict[str, Any] = field(default_factory=dict)
    api_cost_of_writes: dict[str, int] = field(default_factory=dict)
    plan: WritePlan | None = None
    owners: dict[str, str] = field(default_factory=dict)
    """Plan only: owner id → name, for the people reading the plan."""
    error: str | None = None
    signals: dict[str, Any] = field(default_factory=dict)
    """Helpdesk signals: tickets matched, account links, unlinked organizations, alert episodes."""

    def as_dict(self, *, include_plan: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "deals_pulled": self.deals_pulled,
            "won_before_cutoff": self.won_before_cutoff,
            "deals_deleted": self.deals_deleted,
            "tasks_deleted": self.tasks_deleted,
            "tasks_pulled": self.tasks_pulled,
            "onboardings_evaluated": self.onboardings_evaluated,
            "onboardings_started": self.started,
            "onboardings_adopted": self.adopted,
            "tasks_skipped": self.tasks_skipped,
            "transitions": self.transitions,
            "writes": {
                "created": self.writes_created,
                "updated": self.writes_updated,
                "failed": self.writes_failed,
            },
            "recovered_unknown_writes": self.recovered,
            "api_calls": self.api_calls,
            "error": self.error,
        }
        if self.signals:
            out["signals"] = self.signals
        if self.failures:
            out["failures"] = self.failures[:50]
        if include_plan and self.plan is not None:
            out["planned_write_calls"] = self.api_cost_of_writes
        return out


@dataclass
class RunReport:
    """A whole run over every deal-source instance."""

    mode: str
    started_at: datetime
    finished_at: datetime | None = None
    run_id: int | None = None
    instances: dict[str, InstanceReport] = field(default_factory=dict)
    ticket_sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per ticket-source instance: tickets and organizations pulled, API calls, error."""

    @property
    def ok(self) -> bool:
        return all(i.error is None and i.writes_failed == 0 for i in self.instances.values()) and not any(
            t.get("error") for t in self.ticket_sources.values()
        )

    def totals(self) -> dict[str, int]:
        return {
            "created": sum(i.writes_created for i in self.instances.values()),
            "updated": sum(i.writes_updated for i in self.instances.values()),
            "failed": sum(i.writes_failed for i in self.instances.values()),
        }

    def api_calls(self) -> dict[str, Any]:
        by_endpoint: Counter[str] = Counter()
        calls = [(name, inst.api_calls) for name, inst in self.instances.items()]
        calls += [(f"{name}.tickets", t.get("api_calls", {})) for name, t in self.ticket_sources.items()]
        for name, summary in calls:
            for endpoint, count in summary.get("by_endpoint", {}).items():
                by_endpoint[f"{name}:{endpoint}"] += count
        return {
            "total": sum(by_endpoint.values()),
            "by_endpoint": dict(sorted(by_endpoint.items())),
            "retries": sum(summary.get("retries", 0) for _, summary in calls),
        }

    def planned_changes(self) -> list[dict[str, Any]]:
        """Plan only: every planned write as a ``sync.writes`` row, instance by instance."""
        return [
            row for name, i in self.instances.items() if i.plan is not None for row in i.plan.as_rows(name, i.owners)
        ]

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` object; in plan with the ``changes`` it would make (``sync --json`` adds the
        ones it made, from the audit, in the same form)."""
        planned = {}
        if self.mode == "plan":
            changes = self.planned_changes()
            planned = {
                "planned_writes": sum(1 for row in changes if row["action"] != "skip"),  # CRM writes
                "planned_skips": sum(1 for row in changes if row["action"] == "skip"),
                "planned_write_calls": sum(sum(i.api_cost_of_writes.values()) for i in self.instances.values()),
                "changes": changes,
            }
        return {
            "ok": self.ok,
            "mode": self.mode,
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_s": round((self.finished_at - self.started_at).total_seconds(), 3) if self.finished_at else None,
            "writes": self.totals(),
            "api_calls": self.api_calls(),
            "onboardings": {
                "evaluated": sum(i.onboardings_evaluated for i in self.instances.values()),
                "started": sum(i.started for i in self.instances.values()),
                "transitions": sum(i.transitions for i in self.instances.values()),
            },
            **planned,
            "connectors": {
                name: inst.as_dict(include_plan=self.mode == "plan") for name, inst in self.instances.items()
            },
            "ticket_sources": self.ticket_sources,
        }
