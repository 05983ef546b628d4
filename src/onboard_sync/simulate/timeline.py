"""The simulator's output: one :class:`DayRecord` per simulated day, and their rendering.

Built by :mod:`onboard_sync.simulate.runner`; printed by ``onboard-sync simulate`` as text
(only the days on which something happened, plus the first and last) or as JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class DayRecord:
    """What the synthetic onboarding looked like at the end of one simulated day."""

    day: int
    date: str
    phase: str
    status: str
    health_score: int | None
    health_status: str | None
    created: list[str] = field(default_factory=list)  # template keys (":episode" when repeated)
    completed: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    transitions: list[str] = field(default_factory=list)
    health_reasons: list[str] = field(default_factory=list)
    tickets_opened: int = 0

    @property
    def eventful(self) -> bool:
        return bool(self.created or self.completed or self.alerts or self.decisions or self.transitions)


@dataclass
class Timeline:
    """A whole simulation: its inputs, its days and a summary."""

    rules: str
    playbook: str
    segment: str
    scenario: str
    start: str
    days: list[DayRecord] = field(default_factory=list)
    elapsed_seconds: float = 0.0
    store_url: str | None = None

    def phases_entered(self) -> dict[str, int]:
        """Phase -> the first simulated day it was current (in the order entered)."""
        out: dict[str, int] = {}
        for record in self.days:
            out.setdefault(record.phase, record.day)
        return out

    def decisions(self) -> list[tuple[int, str]]:
        return [(r.day, d) for r in self.days for d in r.decisions]

    def alerts(self) -> list[tuple[int, str]]:
        return [(r.day, a) for r in self.days for a in r.alerts]

    def created(self) -> dict[str, int]:
        """Task (template key, ``key:episode`` when repeated) -> day created."""
        return {key: r.day for r in self.days for key in r.created}

    def completed(self) -> dict[str, int]:
        return {key: r.day for r in self.days for key in r.completed}

    def final(self) -> DayRecord:
        return self.days[-1]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rules": self.rules,
            "playbook": self.playbook,
            "segment": self.segment,
            "scenario": self.scenario,
            "start": self.start,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "store": self.store_url,
            "phases_entered": self.phases_entered(),
            "final": {"phase": self.final().phase, "status": self.final().status} if self.days else None,
            "days": [asdict(d) for d in self.days],
        }

    def render(self, *, every_day: bool = False) -> list[str]:
        """Human-readable lines: one per eventful day (every day with ``every_day``)."""
        lines = [
            f"playbook {self.playbook} ({self.rules}); segment {self.segment}; scenario {self.scenario}; "
            f"start {self.start}"
        ]
        last = len(self.days) - 1
        for i, r in enumerate(self.days):
            if not (every_day or r.eventful or i in (0, last)):
                continue
            health = f"{r.health_score} {r.health_status}" if r.health_score is not None else "-"
            lines.append(f"day {r.day:>3} {r.date}  {r.phase:<22} {r.status:<9} health {health}")
            for text in r.transitions:
                lines.append(f"        → {text}")
            for text in r.decisions:
                lines.append(f"        ◆ DECISION {text}")
            if r.created:
                lines.append(f"        + created {', '.join(r.created)}")
            if r.completed:
                lines.append(f"        ✓ completed {', '.join(r.completed)}")
            for text in r.alerts:
                lines.append(f"        ! ALERT {text}")
            if r.tickets_opened:
                lines.append(f"        # {r.tickets_opened} ticket(s) opened")
        lines.append(f"simulated {len(self.days) - 1} days in {self.elapsed_seconds:.2f} s")
        return lines
