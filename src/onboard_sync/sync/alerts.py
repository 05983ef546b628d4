"""Alert episodes: an alert fires once when its condition becomes true, and clears when it stops.

Evaluation (pure) says which of the playbook's ``[[alerts]]`` hold now (``Evaluation.alerts``).
This module, called by the engine for each deal-source instance, keeps the memory:

* condition true, no open episode → open episode *n + 1* and add its task to the evaluation's
  tasks (key ``"{onboarding id}:alert.{key}:{n}"``, due ``due_hours`` after the episode opened);
  the existing task machinery then creates it exactly once (write-ahead intent, key lookup
  after a crash) however many runs follow;
* condition true, episode open → the same task spec again (already recorded: no write);
* condition false, episode open → the episode is cleared (recorded; the task stays for the
  person, who completes it); the next time the condition holds a new episode starts;
* condition false and the rule says ``close_when_cleared`` → the latest episode's task is offered
  for closing (``closing``): the engine completes it in the CRM if it is still open there. This
  is level-triggered, so a close lost to a crash is planned again by the next run.

In a chunked run the tracker is loaded per chunk (``begin``: the latest episodes of the chunk's
onboardings, read by id), and each chunk's episode changes are recorded
(``Store.put_alert_episodes``) before that chunk's writes, so a crash between recording and
creating the task re-creates the same key, never a second one. The ``alert_raised`` /
``alert_cleared`` hooks run after every chunk's writes are recorded (notifiers); what they need
is kept only when a plugin implements them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from onboard_sync.onboarding.state import Evaluation, OnboardingState, TaskSpec
from onboard_sync.records import Account, Deal
from onboard_sync.rules.model import AlertRule, Playbook
from onboard_sync.store import AlertEpisode, Store


class AlertTracker:
    """Episode bookkeeping for one deal-source instance during one run, loaded chunk by chunk."""

    def __init__(self, store: Store, source: str, playbook: Playbook, now: datetime, *, hooked: bool = False) -> None:
        self.store = store
        self.source = source
        self.playbook = playbook
        self.now = now
        self.hooked = hooked
        self.rules: dict[str, AlertRule] = {rule.key: rule for rule in playbook.alerts}
        self.latest: dict[tuple[str, str], AlertEpisode] = {}
        self.opened: list[AlertEpisode] = []
        self.cleared: list[AlertEpisode] = []
        self._summary: dict[str, list[str]] = {"opened": [], "cleared": []}
        self.closing: list[tuple[str, str]] = []
        """``(onboarding id, task key)`` of cleared episodes whose rule closes their task."""
        self._raised: list[tuple[AlertEpisode, OnboardingState, str]] = []
        self._ended: list[tuple[AlertEpisode, OnboardingState]] = []

    def begin(self, onboarding_ids: Collection[str], now: datetime) -> None:
        """Load the latest episode of each alert of the chunk's onboardings (by id)."""
        self.now = now
        self.latest = {}
        self.opened, self.cleared, self.closing = [], [], []
        if self.rules:
            for episode in self.store.alert_episodes_of(onboarding_ids):
                self.latest[(episode.onboarding_id, episode.alert)] = episode  # ordered by episode

    def apply(self, evaluation: Evaluation, deal: Deal, account: Account | None) -> Evaluation:
        """The evaluation with the task of every active alert episode added; episode changes noted."""
        state = evaluation.state
        if state is None or not self.rules:
            return evaluation
        active = set(evaluation.alerts)
        specs: list[TaskSpec] = []
        for key, rule in self.rules.items():
            latest = self.latest.get((state.id, key))
            is_open = latest is not None and latest.cleared_at is None
            if key in active:
                if is_open:
                    assert latest is not None
                    episode = latest
                else:
                    number = latest.episode + 1 if latest else 1
                    episode = AlertEpisode(
                        onboarding_id=state.id,
                        alert=key,
                        episode=number,
                        source=self.source,
                        task_key=f"{state.id}:{rule.template_key}:{number}",
                        opened_at=self.now,
                        detail=f"health {evaluation.health.score if evaluation.health else '-'}",
                    )
                    self.opened.append(episode)
                specs.append(self._spec(rule, episode, state.phase, deal, account, state.segment))
            else:
                if is_open:
                    assert latest is not None
                    self.cleared.append(dataclasses.replace(latest, cleared_at=self.now))
                if latest is not None and rule.close_when_cleared:
                    self.closing.append((state.id, latest.task_key))
        if not specs:
            return evaluation
        return dataclasses.replace(evaluation, tasks=(*evaluation.tasks, *specs))

    def _spec(
        self,
        rule: AlertRule,
        episode: AlertEpisode,
        phase: str,
        deal: Deal,
        account: Account | None,
        segment: str,
    ) -> TaskSpec:
        seg = self.playbook.segment(segment)
        values = {
            "account.name": account.name if account else deal.name,
            "account.domain": (account.domain or "") if account else "",
            "deal.name": deal.name,
            "deal.stage": deal.stage,
            "segment": segment,
            "segment_label": seg.label if seg else segment,
            "episode": str(episode.episode),
        }
        return TaskSpec(
            key=episode.task_key,
            template_key=rule.template_key,
            phase=phase,
            title=rule.title.render(values),
            body=rule.body.render(values),
            owner_role=rule.owner,
            due_at=episode.opened_at + timedelta(hours=rule.due_hours),
            priority=rule.priority,
            required=False,
            episode=episode.episode,
        )

    def record(self, store: Store) -> None:
        """Store the episodes opened and cleared in this chunk (before the chunk's writes)."""
        if self.opened or self.cleared:
            with store.transaction():
                store.put_alert_episodes([*self.opened, *self.cleared])

    def end_chunk(self, evaluations: Iterable[tuple[Evaluation, Deal]]) -> None:
        """Note the chunk's episode changes for the report (and for the hooks, if implemented)."""
        self._summary["opened"] += [f"{e.onboarding_id}:{e.alert}:{e.episode}" for e in self.opened]
        self._summary["cleared"] += [f"{e.onboarding_id}:{e.alert}:{e.episode}" for e in self.cleared]
        if self.hooked and (self.opened or self.cleared):
            states = {ev.state.id: ev.state for ev, _ in evaluations if ev.state is not None}
            titles = {spec.key: spec.title for ev, _ in evaluations for spec in ev.tasks}
            self._raised += [
                (e, states[e.onboarding_id], titles.get(e.task_key, e.alert))
                for e in self.opened
                if e.onboarding_id in states
            ]
            self._ended += [(e, states[e.onboarding_id]) for e in self.cleared if e.onboarding_id in states]
        self.opened, self.cleared, self.closing, self.latest = [], [], [], {}

    def summary(self) -> dict[str, Any]:
        return dict(self._summary)

    def notify(self, pm: Any) -> None:
        """Call ``alert_raised`` / ``alert_cleared`` for this run's episode changes."""
        for episode, state, title in self._raised:
            pm.hook.alert_raised(
                onboarding=state,
                alert=episode.alert,
                episode=episode.episode,
                title=title,
                task_key=episode.task_key,
            )
        for episode, state in self._ended:
            pm.hook.alert_cleared(onboarding=state, alert=episode.alert, episode=episode.episode)
