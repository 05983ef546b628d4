"""Which tasks a phase wants, when they are due, and how long the customer has been onboarding.

Pure helpers for :mod:`onboard_sync.onboarding.machine`: :func:`phase_specs` turns a
phase's task templates into :class:`~onboard_sync.onboarding.state.TaskSpec` objects with
deterministic keys (``"{onboarding id}:{template key}:{episode}"``) and due dates from the
onboarding start (scaled by the segment) or from the phase entry; :func:`visits` reads the
phase history. Days are counted on UTC calendar dates, so nothing changes between two
evaluations a few seconds apart.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from onboard_sync.onboarding.state import OnboardingState, PhaseVisit, TaskSpec
from onboard_sync.rules.expressions import Condition
from onboard_sync.rules.model import Phase, Playbook, Segment, TaskTemplate


@dataclass(frozen=True, slots=True)
class Stay:
    """When a phase was first entered and (if it is not the current phase) last left."""

    entered_at: datetime
    left_at: datetime | None


def visits(state: OnboardingState) -> dict[str, Stay]:
    """Every phase entered so far (the current one included), from the state's history."""
    stays: dict[str, Stay] = {}
    for visit in state.history:
        first = stays.get(visit.phase)
        stays[visit.phase] = Stay(first.entered_at if first else visit.entered_at, visit.left_at)
    current = stays.get(state.phase)
    stays[state.phase] = Stay(current.entered_at if current else state.phase_entered_at, None)
    return stays


def moved(state: OnboardingState, phase: str, at: datetime, cause: PhaseVisit) -> tuple[PhaseVisit, ...]:
    """The history with the open visit closed at ``at`` and ``cause`` (the new visit) appended."""
    history = list(state.history)
    if history and history[-1].left_at is None:
        last = history[-1]
        history[-1] = PhaseVisit(last.phase, last.entered_at, last.cause, left_at=at)
    history.append(cause)
    return tuple(history)


def elapsed_days(start: datetime, now: datetime) -> int:
    """Whole UTC calendar days since ``start`` (0 on the start date)."""
    return max((now.date() - start.date()).days, 0)


def phase_specs(
    playbook: Playbook,
    phase: Phase,
    *,
    state: OnboardingState,
    segment: Segment,
    stay: Stay,
    now: datetime,
    onboarding_id: str,
    values: Mapping[str, str],
    holds: Callable[[Condition], bool],
    existing: Collection[str] = (),
) -> list[TaskSpec]:
    """The tasks ``phase`` wants to exist by ``now``.

    A template is skipped when its ``segments`` exclude the segment or its ``when`` does not
    hold (``holds``). In a phase already left, templates with a ``when`` are not re-emitted
    (a condition that turns true later creates nothing for a past phase), and repeated
    tasks stop at the time the phase was left.

    A repeated task with a ``when`` is a loop: each episode is decided on its own. The
    newest episode is wanted only while ``when`` holds; earlier ones only if they were
    created (keys in ``existing``), so a week when the condition held keeps its task and a
    week when it did not has none.
    """
    specs: list[TaskSpec] = []
    left = stay.left_at
    for template in phase.tasks:
        if template.segments is not None and segment.key not in template.segments:
            continue
        if template.repeat_every_days and template.when is not None:
            anchor = state.started_at if template.anchor == "start" else stay.entered_at
            episodes = _episodes(playbook, template, segment, anchor, stay, now, onboarding_id, values)
            newest = episodes[-1].key if episodes and left is None and holds(template.when) else None
            specs.extend(e for e in episodes if e.key in existing or e.key == newest)
            continue
        if template.when is not None and (left is not None or not holds(template.when)):
            continue
        anchor = state.started_at if template.anchor == "start" else stay.entered_at
        if template.repeat_every_days:
            specs.extend(_episodes(playbook, template, segment, anchor, stay, now, onboarding_id, values))
        else:
            due = anchor + playbook.due_offset(template, segment)
            specs.append(_spec(template, onboarding_id, 0, due, values))
    return specs


def _episodes(
    playbook: Playbook,
    template: TaskTemplate,
    segment: Segment,
    anchor: datetime,
    stay: Stay,
    now: datetime,
    onboarding_id: str,
    values: Mapping[str, str],
) -> list[TaskSpec]:
    """Episodes 1, 2, … of a repeated task: each appears one interval before it is due,
    not after the phase was left, and not for a period before the phase was entered."""
    every = template.repeat_every_days or 1
    until = template.repeat_until_day or 0
    horizon = min(now, stay.left_at) if stay.left_at else now
    out: list[TaskSpec] = []
    episode = 1
    while (template.due_day or 0) + (episode - 1) * every <= until:
        due = anchor + playbook.due_offset(template, segment, episode)
        if due - timedelta(days=every) > horizon:
            break
        if due.date() >= stay.entered_at.date():
            out.append(_spec(template, onboarding_id, episode, due, values))
        episode += 1
    return out


def _spec(
    template: TaskTemplate, onboarding_id: str, episode: int, due: datetime, values: Mapping[str, str]
) -> TaskSpec:
    rendered = {**values, "episode": str(episode)} if episode else values
    return TaskSpec(
        key=f"{onboarding_id}:{template.key}:{episode}",
        template_key=template.key,
        phase=template.phase,
        title=template.title.render(rendered),
        body=template.body.render(rendered),
        owner_role=template.owner,
        due_at=due,
        priority=template.priority,
        required=template.required,
        episode=episode,
    )
