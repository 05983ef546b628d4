"""SIGKILL of ``onboard-sync sync`` at named crash points, over random seeds, then recovery.

Each seed picks a crash point (``onboard_sync.crash.POINTS``: before/after every API call,
before/after every store commit) and its occurrence, optionally a first clean sync and some CRM
activity so the killed run has writes to make, kills the CLI there (a real ``kill -9``), checks
the cursor invariant on the state the crash left, recovers with a normal sync and checks every
invariant. CI runs a few seeds; ``ONBOARD_SYNC_SOAK=1`` runs every point and 60 seeds.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from typing import Any

import pytest
from invariants import check_all, check_cursor

from onboard_sync.crash import CRASH_ENV, POINTS

SOAK = os.environ.get("ONBOARD_SYNC_SOAK") == "1"
"""Many more random seeds and every named point (minutes); CI runs a few."""
SEEDS = range(60) if SOAK else range(3)
CALL_POINTS = ("before-call", "after-call")


def run_cli(project: Any, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onboard_sync.cli", *args, "--config", str(project.config_path)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=180,
        check=False,
    )


def crm_activity(project: Any, rnd: random.Random) -> None:
    """People at work between runs: complete some tasks, win some deals."""
    backend = project.sandbox.backend
    keyed = [t for t in backend.tasks.values() if t.properties.get("onboard_sync_key")]
    for task in rnd.sample(keyed, min(len(keyed), rnd.randint(0, 10))):
        backend.complete_task(task.id)
    open_deals = [d for d in backend.deals.values() if d.properties.get("dealstage") not in ("closedwon", "closedlost")]
    for deal in rnd.sample(open_deals, min(len(open_deals), rnd.randint(0, 6))):
        backend.set_deal_stage(deal.id, "closedwon")


def crash_then_recover(project: Any, point: str, nth: int, rnd: random.Random, warm: bool) -> None:
    if warm:
        assert run_cli(project, "sync").returncode == 0
        crm_activity(project, rnd)
    killed = run_cli(project, "sync", env={CRASH_ENV: f"{point}#{nth}"})
    assert killed.returncode in (0, -9), killed.stderr  # 0: the point was not reached this run
    check_cursor(project)  # the crashed state must not have moved the cursor past unrecorded work
    again = run_cli(project, "sync")
    assert again.returncode == 0, again.stderr
    check_all(project)
    final = project.sync()
    assert final.totals() == {"created": 0, "updated": 0, "failed": 0}


@pytest.mark.parametrize("seed", SEEDS)
def test_sigkill_at_a_random_point_then_recovery(project: Any, seed: int) -> None:
    rnd = random.Random(seed)
    point = rnd.choice(POINTS)
    nth = rnd.randint(1, 12) if point in CALL_POINTS else 1
    crash_then_recover(project, point, nth, rnd, warm=rnd.random() < 0.5)


@pytest.mark.skipif(not SOAK, reason="soak only (ONBOARD_SYNC_SOAK=1): every named point, cold and warm")
@pytest.mark.parametrize("warm", [False, True])
@pytest.mark.parametrize("point", POINTS)
def test_sigkill_at_every_named_point(project: Any, point: str, warm: bool) -> None:
    crash_then_recover(project, point, 1, random.Random(point), warm=warm)
