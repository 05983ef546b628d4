"""SIGKILL between a chunk's recorded adoption and its writes: catch-up's skips are never lost.

Catch-up (``onboarding.catchup``) adopts an onboarding once, the first time it is seen: the tasks
of the phases that ended before are recorded ``SKIPPED`` and never created, and the next runs do
not plan them again (the adopted state no longer lists those phases as entered). So the skip rows
must be committed with the adopted state, never after it: ``Engine._finish_chunk`` records both in
one transaction, before the chunk's write-ahead intents, while earlier chunks' calls may still be
in flight (``sync.overlap.ApplyLane``). A kill anywhere from that commit to the task creates of
the chunk after must leave every recorded adoption with its skip rows, and the recovery must
create none of the skipped tasks.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from invariants import KEY, check_all
from test_crashes import run_cli

from onboard_sync.crash import CRASH_ENV
from onboard_sync.onboarding.state import TransitionCause
from onboard_sync.store import TaskState

SKIPPED_AT_ADOPTION = re.compile(r"(\d+) task\(s\) of \d+ earlier phase\(s\) skipped")


def adoptions_and_skips(project: Any) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Per onboarding: the tasks its recorded adoption skipped (from the transition's detail), and the
    keys recorded ``SKIPPED``."""
    with project.store() as store:
        transitions = store.transitions()
        owned = store.owned_tasks_for("hubspot")
    adopted: dict[str, int] = {}
    for transition in transitions:
        found = SKIPPED_AT_ADOPTION.search(transition.detail)
        if transition.cause is TransitionCause.ADOPTED and found:
            adopted[transition.onboarding_id] = int(found.group(1))
    skipped: dict[str, set[str]] = {}
    for key, task in owned.items():
        if task.state is TaskState.SKIPPED:
            skipped.setdefault(task.onboarding_id, set()).add(key)
    return adopted, skipped


@pytest.mark.parametrize(
    "point",
    ["after-state-record#2", "before-intents#2", "after-intents#2", "before-task-create", "after-task-create"],
)
def test_a_kill_after_an_adoption_is_recorded_never_loses_its_skips(project: Any, point: str) -> None:
    text = project.config_path.read_text()  # small chunks: chunk 2 is recorded while chunk 1 is sent
    project.config_path.write_text(text.replace("[onboard_sync]\n", "[onboard_sync]\nchunk_size = 8\n"))
    killed = run_cli(project, "sync", env={CRASH_ENV: point})
    assert killed.returncode == -9, killed.stderr

    adopted, skipped = adoptions_and_skips(project)
    assert adopted, "the crashed run recorded adoptions that skipped tasks"
    short = {o: (n, len(skipped.get(o, ()))) for o, n in adopted.items() if len(skipped.get(o, ())) < n}
    assert not short, f"adoptions recorded without their skipped tasks (wanted, recorded): {short}"

    again = run_cli(project, "sync")
    assert again.returncode == 0, again.stderr
    check_all(project)
    _, after = adoptions_and_skips(project)
    skipped_keys = set().union(*after.values())
    assert set().union(*skipped.values()) <= skipped_keys, "a recorded skip stays a skip"
    created = {t.properties[KEY] for t in project.sandbox.backend.tasks.values() if t.properties.get(KEY)}
    assert not created & skipped_keys, f"tasks catch-up skipped were created: {sorted(created & skipped_keys)[:5]}"
