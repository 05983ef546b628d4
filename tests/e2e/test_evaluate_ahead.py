"""Chunks settled while the task pull still runs (``sync.speculation``) are checked after it.

The task page that says an onboarding's tasks were completed is held back until the engine has
settled that onboarding's chunk ahead; the run must still see the completion, advance the phase,
create the next phase's tasks and write the phase, as a run that evaluates after the pull does.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest

from onboard_sync.connectors.hubspot.connector import HubSpotConnector
from onboard_sync.records import TaskStatus
from onboard_sync.sync.engine import Engine
from onboard_sync.sync.speculation import ChunkEvaluation


def test_a_completion_on_a_task_page_that_arrives_after_its_chunk_was_settled_advances_the_phase(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.sync()
    with project.store() as store:
        first = {o.id: o for o in store.onboardings(source="hubspot")}
        target = sorted(first)[0]
        open_tasks = [t for t in store.owned_tasks_of([target]).values() if t.status is TaskStatus.OPEN and t.remote_id]
    assert open_tasks
    for task in open_tasks:
        project.sandbox.backend.complete_task(task.remote_id)

    settled: list[list[str]] = []
    settled_ahead = threading.Event()
    evaluate_chunk = Engine._evaluate_chunk

    def evaluate_and_note(self: Engine, run: Any, deal_ids: Sequence[str]) -> ChunkEvaluation:
        chunk = evaluate_chunk(self, run, deal_ids)
        settled.append(list(deal_ids))
        settled_ahead.set()
        return chunk

    read_tasks = HubSpotConnector.read_tasks

    def read_tasks_after_a_chunk_was_settled(self: HubSpotConnector, **kwargs: Any) -> Any:
        assert settled_ahead.wait(60), "no chunk was settled while the task pull ran"
        return read_tasks(self, **kwargs)

    monkeypatch.setattr(Engine, "_evaluate_chunk", evaluate_and_note)
    monkeypatch.setattr(HubSpotConnector, "read_tasks", read_tasks_after_a_chunk_was_settled)
    second = project.sync()
    assert second.ok, second.as_dict()
    assert any(first[target].deal_id in chunk for chunk in settled), "the target's chunk was settled ahead"

    with project.store() as store:
        after = store.get_onboarding(target)
        transitions = [t for t in store.transitions(target) if t.old_phase is not None]
        new_tasks = [t for t in store.owned_tasks_of([target]).values() if after and t.phase == after.phase]
    phases = project.runtime().playbook.phase_keys()
    assert after is not None
    assert phases.index(after.phase) > phases.index(first[target].phase)
    assert transitions
    assert transitions[-1].cause.value == "tasks-completed"
    assert new_tasks, "the new phase's tasks were created"
    assert project.sandbox.backend.deals[after.deal_id].properties["onboarding_phase"] == after.phase
