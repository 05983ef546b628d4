"""The playbook model: segments, phases, task templates and health components, as loaded from TOML.

These frozen dataclasses are what :func:`onboard_sync.rules.loader.load_playbook` builds
and what the pure state machine (:mod:`onboard_sync.onboarding.machine`) and health
scoring (:mod:`onboard_sync.onboarding.health`) read. Conditions are already-compiled
:class:`~onboard_sync.rules.expressions.Condition` objects; titles are pre-parsed
:class:`TextTemplate` objects. Nothing here does I/O. The schema is documented in
docs/playbook-rules.md.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from onboard_sync.rules.expressions import Condition

#: Owner roles a task may name; the engine resolves them to CRM users (``resolve_owner`` hook).
OWNER_ROLES: Mapping[str, str] = {
    "sales": "the deal owner (the account executive who closed the deal)",
    "csm": "the customer success manager assigned to the account",
    "implementation": "the implementation specialist / implementation team",
    "tam": "the technical account manager (enterprise)",
    "support": "the support / technical support team",
    "account_manager": "the account manager who owns the customer after onboarding",
}

PRIORITIES = ("LOW", "MEDIUM", "HIGH")

#: Metrics health components and conditions can read (``metrics.<name>``). A metric with
#: no data is absent: a component that needs it is not scored.
METRICS: Mapping[str, str] = {
    "overdue_required_tasks": "open required tasks whose due date has passed",
    "late_milestones": "open milestone tasks late by more than [health].milestone_grace_days",
    "stale_blockers": "open blocker tasks older than [health].blocker_days",
    "open_urgent_tickets": "open tickets with priority urgent or high",
    "stale_urgent_tickets": "open urgent/high tickets older than [health].ticket_stale_days (default blocker_days)",
    "open_tickets": "tickets not solved or closed",
    "tickets_last_7_days": "tickets opened in the last 7 days (ticket spike)",
    "stakeholder_changes": "key stakeholder changes (count, from the CRM or a signal)",
    "tickets_per_month": "tickets opened per 30 days since go-live (only after go-live)",
    "days_since_go_live": "days since go-live (only after go-live)",
    "adoption_rate": "active users as a percentage of licensed users (0-100)",
    "active_users": "weekly active users",
    "licensed_users": "licensed / purchased seats",
    "weekly_logins": "average product uses per user per week",
    "nps": "latest NPS answer (0-10)",
    "meeting_attendance": "attendance at scheduled meetings and trainings, percent (0-100)",
    "engagement_score": "engagement score (0-100) from the CRM or a signal",
    "business_outcomes": "measured business outcomes achieved (count)",
}

#: Canonical onboarding field names evaluation writes on the deal and the account.
FIELD_NAMES: tuple[str, ...] = (
    "phase",
    "phase_label",
    "status",
    "segment",
    "day",
    "planned_days",
    "start_date",
    "next_step",
    "next_step_due",
    "go_live_date",
    "health_score",
    "health_status",
    "health_reasons",
    "health_components",
    "health_computed",
)

#: Placeholders a task title or body may use.
PLACEHOLDERS = frozenset(
    {"account.name", "account.domain", "deal.name", "deal.stage", "segment", "segment_label", "episode"}
)

#: What a placeholder says when its value is missing or blank (a company without a name, say):
#: the first of the other placeholders listed that has a value, else the words given. A CRM
#: text never shows ``{account.name}``, ``None`` or a gap where a name should be.
FALLBACKS: Mapping[str, tuple[tuple[str, ...], str]] = {
    "account.name": (("deal.name",), "the customer"),
    "account.domain": ((), "the customer's domain"),
    "deal.name": (("account.name",), "the deal"),
    "deal.stage": ((), "its current stage"),
    "segment_label": (("segment",), "this segment"),
    "segment": (("segment_label",), "this segment"),
}

_MISSING_VALUES = frozenset({"", "none", "null"})


@dataclass(frozen=True, slots=True)
class TextTemplate:
    """A title/body with ``{account.name}``-style placeholders, pre-parsed at load time.

    Rendering joins literal text with looked-up values: no attribute access, no ``eval``.
    """

    source: str
    parts: tuple[tuple[str, str | None], ...]

    @classmethod
    def parse(cls, source: str, allowed: frozenset[str] = PLACEHOLDERS) -> TextTemplate:
        """Parse ``source``; raise ``ValueError`` naming a placeholder not in ``allowed``."""
        parts: list[tuple[str, str | None]] = []
        try:
            parsed = list(string.Formatter().parse(source))
        except ValueError as exc:
            raise ValueError(f"bad braces in {source!r}: {exc} (write {{{{ and }}}} for literal braces)") from None
        for literal, name, spec, conversion in parsed:
            if name is not None and name not in allowed:
                known = ", ".join("{" + p + "}" for p in sorted(allowed))
                raise ValueError(f"unknown placeholder {{{name}}} (known: {known})")
            if spec or conversion:
                raise ValueError(f"format specs are not supported in {{{name}}}")
            parts.append((literal, name))
        return cls(source=source, parts=tuple(parts))

    @property
    def names(self) -> frozenset[str]:
        """The placeholders the text uses."""
        return frozenset(name for _, name in self.parts if name is not None)

    def render(self, values: Mapping[str, str | None]) -> str:
        """The text with every placeholder replaced by its value, or by its :data:`FALLBACKS`
        when the value is missing, blank or ``None`` (empty for a placeholder without one)."""
        if len(self.parts) == 1 and self.parts[0][1] is None:
            return self.source
        return "".join(literal + (_value(values, name) if name else "") for literal, name in self.parts)


def _value(values: Mapping[str, str | None], name: str) -> str:
    """``values[name]`` when it says something, else the first fallback that does."""
    alternatives, words = FALLBACKS.get(name, ((), ""))
    for candidate in (name, *alternatives):
        value = values.get(candidate)
        if value is not None and str(value).strip().casefold() not in _MISSING_VALUES:
            return str(value).strip()
    return words


@dataclass(frozen=True, slots=True)
class Segment:
    """A customer segment: its planned duration scales due dates and selects tasks."""

    key: str
    label: str
    duration_days: int
    timeline_factor: float
    description: str = ""
    when: Condition | None = None
    where: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    """A task a phase asks for. Due ``due_day`` days after the start (scaled), or ``due_hours``.

    With ``anchor = "phase"`` the offset counts from when the phase was first entered and is
    never scaled (e.g. "welcome e-mail within 1 hour of CS taking over").
    """

    key: str
    phase: str
    title: TextTemplate
    body: TextTemplate
    owner: str
    priority: str = "MEDIUM"
    required: bool = True
    due_day: float | None = None
    due_hours: float | None = None
    scale: bool = True
    anchor: str = "start"
    when: Condition | None = None
    segments: frozenset[str] | None = None
    repeat_every_days: int | None = None
    repeat_until_day: int | None = None
    milestone: bool = False
    blocker: bool = False
    first_value: bool = False
    where: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision point of a phase: when the phase is done and ``when`` holds, go to ``goto``.

    Decisions are tried in order, before ``extend_when``; the first that holds wins and the
    onboarding jumps forward to ``goto`` (a later phase), skipping the phases in between.
    When none holds, the phase is followed by the next one (or extended) as usual.
    """

    key: str
    label: str
    when: Condition
    goto: str
    where: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Phase:
    """One step of the playbook. Days are in the base (unscaled) plan."""

    key: str
    label: str
    description: str = ""
    plan_start_day: int = 0
    plan_end_day: int = 0
    exit_when: Condition | None = None
    extend_when: Condition | None = None
    tasks: tuple[TaskTemplate, ...] = ()
    decisions: tuple[Decision, ...] = ()
    where: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class HealthComponent:
    """One health criterion. It passes when its metric is within bounds or ``ok_when`` holds.

    A component is *scored* only when its data exists (every metric it reads is present),
    ``applies_when`` holds and, with ``after_go_live``, the customer is live.
    """

    key: str
    weight: float
    reason: TextTemplate
    metric: str | None = None
    min: float | None = None
    max: float | None = None
    above: float | None = None
    below: float | None = None
    ok_when: Condition | None = None
    applies_when: Condition | None = None
    after_go_live: bool = False
    cap: str | None = None
    where: str = field(default="", compare=False)

    @property
    def metrics(self) -> frozenset[str]:
        """Every metric this component needs data for."""
        needed = set(self.ok_when.metrics if self.ok_when else ())
        if self.metric:
            needed.add(self.metric)
        return frozenset(needed)


@dataclass(frozen=True, slots=True)
class HealthModel:
    """How the 0-100 health score and its status are computed."""

    healthy_min: int = 80
    at_risk_min: int = 50
    at_risk_statuses: frozenset[str] = frozenset({"at-risk", "critical"})
    blocker_days: int = 3
    milestone_grace_days: int = 7
    components: tuple[HealthComponent, ...] = ()
    ticket_stale_days: int | None = None
    status_reasons: Mapping[str, str] = field(default_factory=dict)
    """Optional text per status (``healthy``/``at-risk``/``critical``) put first in the reasons."""

    @property
    def stale_ticket_days(self) -> int:
        """Age beyond which an open urgent ticket counts as stale (``ticket_stale_days`` or ``blocker_days``)."""
        return self.blocker_days if self.ticket_stale_days is None else self.ticket_stale_days

    def status_for(self, score: int) -> str:
        """``healthy`` / ``at-risk`` / ``critical`` for a score."""
        if score >= self.healthy_min:
            return "healthy"
        return "at-risk" if score >= self.at_risk_min else "critical"


@dataclass(frozen=True, slots=True)
class AlertRule:
    """A trigger alert: when ``when`` becomes true an episode opens and a task goes to ``owner``.

    The task key is ``"{onboarding id}:alert.{key}:{episode}"``; the episode clears when ``when``
    stops holding, and the next time it holds a new episode (and task) starts.
    """

    key: str
    when: Condition
    title: TextTemplate
    body: TextTemplate
    owner: str
    priority: str = "HIGH"
    due_hours: float = 24.0
    description: str = ""
    close_when_cleared: bool = False
    """Complete the episode's task in the CRM when ``when`` stops holding (else it stays for the person)."""
    where: str = field(default="", compare=False)

    @property
    def template_key(self) -> str:
        return f"alert.{self.key}"


@dataclass(frozen=True)
class Playbook:
    """A whole playbook. ``phases`` are ordered; the last one is terminal (entering it completes)."""

    name: str
    phases: tuple[Phase, ...]
    segments: tuple[Segment, ...]
    health: HealthModel = field(default_factory=HealthModel)
    description: str = ""
    version: str = ""
    base_days: int = 30
    go_live_phase: str | None = None
    roles: frozenset[str] = frozenset(OWNER_ROLES)
    sources: tuple[str, ...] = ()
    alerts: tuple[AlertRule, ...] = ()

    def __post_init__(self) -> None:
        index = {p.key: i for i, p in enumerate(self.phases)}
        templates = {t.key: t for p in self.phases for t in p.tasks}
        names = {p.key.casefold(): p.key for p in self.phases}
        names.update({p.label.casefold(): p.key for p in self.phases})
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_templates", templates)
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_segments", {s.key: s for s in self.segments})

    def phase_keys(self) -> tuple[str, ...]:
        """The phase keys in order."""
        return tuple(p.key for p in self.phases)

    def field_names(self) -> tuple[str, ...]:
        """The canonical onboarding field names evaluation writes (see :data:`FIELD_NAMES`)."""
        return FIELD_NAMES

    def phase(self, key: str) -> Phase:
        """The phase with ``key`` (``KeyError`` if none)."""
        return self.phases[self._index[key]]  # type: ignore[attr-defined]

    def phase_index(self, key: str) -> int:
        """Position of phase ``key`` in the playbook (``KeyError`` if none)."""
        return self._index[key]  # type: ignore[attr-defined,no-any-return]

    def has_phase(self, key: str) -> bool:
        """Whether ``key`` is a phase key."""
        return key in self._index  # type: ignore[attr-defined]

    def resolve_phase(self, value: str | None) -> str | None:
        """The phase key for a CRM value that is a phase key or label (case-insensitive)."""
        if value is None:
            return None
        return self._names.get(value.strip().casefold())  # type: ignore[attr-defined,no-any-return]

    def template(self, key: str) -> TaskTemplate | None:
        """The task template with ``key``, if the playbook has one."""
        return self._templates.get(key)  # type: ignore[attr-defined,no-any-return]

    def segment(self, key: str) -> Segment | None:
        """The segment with ``key``, if any."""
        return self._segments.get(key)  # type: ignore[attr-defined,no-any-return]

    def scaled_day(self, day: float, segment: Segment) -> float:
        """Base-plan ``day`` → days after start for ``segment``.

        The implementation window (days up to ``base_days``, i.e. go-live in the base plan)
        stretches or shrinks with the segment's timeline factor; days after it keep their
        distance from go-live (a weekly check-in stays weekly).
        """
        factor = segment.timeline_factor
        if day <= self.base_days:
            return day * factor
        return self.base_days * factor + (day - self.base_days)

    def plan_day(self, elapsed_days: int, segment: Segment) -> int:
        """Inverse of :meth:`scaled_day`: days since start → day in the base plan (floored)."""
        live = self.base_days * segment.timeline_factor
        if elapsed_days <= live:
            return math.floor(elapsed_days / segment.timeline_factor + 1e-9)
        return math.floor(elapsed_days - live + self.base_days + 1e-9)

    def due_days(self, template: TaskTemplate, segment: Segment, episode: int = 0) -> float:
        """How many days after its anchor (start, or phase entry) a task (episode) is due in the plan:
        ``due_hours`` / 24, or its due day (plus the repeats), scaled for ``segment`` and rounded up to
        a whole day when anchored at the start. ``onboarding.timeline`` puts it on the calendar."""
        if template.due_hours is not None:
            return template.due_hours / 24
        day = template.due_day or 0.0
        if template.repeat_every_days and episode > 1:
            day += (episode - 1) * template.repeat_every_days
        if template.scale and template.anchor == "start":
            return math.ceil(self.scaled_day(day, segment) - 1e-9)
        return day
