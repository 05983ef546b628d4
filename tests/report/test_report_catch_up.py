"""The report on onboardings adopted under way: the funnel counts them past the phases before the one
they joined, and the page says how many tasks were skipped, from a store with known contents."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

from report_page import charts, values

from onboard_sync.onboarding.state import OnboardingState, OnboardingStatus, PhaseVisit, TransitionCause
from onboard_sync.report import collect, render_html
from onboard_sync.rules import default_playbook_path, load_playbook
from onboard_sync.store import OwnedTask, Store, TaskState

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def _state(deal: str, phase: str, started: datetime, *, adopted: bool) -> OnboardingState:
    entered = NOW if adopted else started
    cause = TransitionCause.ADOPTED if adopted else TransitionCause.STARTED
    return OnboardingState(
        id=f"hs:{deal}",
        source="hs",
        deal_id=deal,
        account_id=None,
        segment="mid_market",
        phase=phase,
        status=OnboardingStatus.ACTIVE,
        started_at=started,
        phase_entered_at=entered,
        history=(PhaseVisit(phase, entered, cause),),
        adopted_at=NOW if adopted else None,
    )


def test_adopted_onboardings_count_past_the_phases_before_and_their_skipped_tasks_are_reported(
    tmp_path: Path,
) -> None:
    # A: adopted at configuration (phase 4) with 3 skipped tasks; B: adopted at kickoff with 1; C: new today
    a = _state("a", "configuration", NOW - timedelta(days=15), adopted=True)
    b = _state("b", "kickoff", NOW - timedelta(days=2), adopted=True)
    c = _state("c", "handoff", NOW, adopted=False)
    skipped = [("a", "sales_handoff"), ("a", "kickoff_call"), ("a", "success_metrics"), ("b", "assign_csm")]
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store.open(url) as store, store.transaction():
        store.save_onboardings([a, b, c])
        store.record_skipped_tasks(
            [
                OwnedTask(f"hs:{d}:{t}:0", f"hs:{d}", "hs", t, "handoff", state=TaskState.SKIPPED, note="ended before")
                for d, t in skipped
            ]
        )
    playbook = load_playbook(default_playbook_path())
    with Store.open(url, read_only=True) as store:
        data = collect(store, playbook, NOW)
    html = render_html(data)

    funnel = values(charts(html)["funnel"][0])
    assert funnel["Sales handoff"] == "3", "A and B are past handoff, C is in it"
    assert funnel["Kickoff"] == "2", "A past it, B in it"
    assert funnel["Discovery"] == "1"
    assert funnel["Configuration"] == "1"
    assert funnel["Training"] == "0"
    note = re.search(r'<p class="note" id="catch-up">(.*?)</p>', html, re.S)
    assert note
    assert unescape(re.sub(r"<.*?>", "", note.group(1))).startswith(
        "2 onboarding(s) were already under way when onboard-sync began following them: 4 task(s) of the "
        "phases that had ended were skipped, not created"
    )
    assert "skipped" not in "".join(data.tasks), "skipped tasks are not tasks in the CRM"


def test_what_happened_before_adoption_is_not_measured(tmp_path: Path) -> None:
    """An onboarding adopted past go-live has no known go-live moment, and the stay in the phase it
    was adopted in began before onboard-sync saw it: neither counts in first value or phase durations."""
    live = dataclasses.replace(
        _state("e", "adoption", NOW - timedelta(days=40), adopted=True), go_live_at=NOW
    )  # adoption sets go-live when it joins past it
    moved_on = dataclasses.replace(
        _state("f", "training", NOW - timedelta(days=15), adopted=True),
        history=(
            PhaseVisit("configuration", NOW - timedelta(days=6), TransitionCause.ADOPTED, NOW - timedelta(days=2)),
            PhaseVisit("training", NOW - timedelta(days=2), TransitionCause.TASKS_COMPLETED),
        ),
    )
    watched = dataclasses.replace(
        _state("g", "training", NOW - timedelta(days=21), adopted=False),
        go_live_at=None,
        history=(
            PhaseVisit(
                "configuration", NOW - timedelta(days=10), TransitionCause.TASKS_COMPLETED, NOW - timedelta(days=3)
            ),
            PhaseVisit("training", NOW - timedelta(days=3), TransitionCause.TASKS_COMPLETED),
        ),
    )
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store.open(url) as store, store.transaction():
        store.save_onboardings([live, moved_on, watched])
    with Store.open(url, read_only=True) as store:
        data = collect(store, load_playbook(default_playbook_path()), NOW)
    assert data.first_value == [], "no go-live was seen happen"
    configuration = next(d for d in data.durations["Mid-market"] if d.phase == "configuration")
    assert (configuration.actual, configuration.samples) == (7.0, 1), "only g's whole stay is measured"
    assert data.first_value_before_adoption == 1, "e went live before onboard-sync followed it"
    page = unescape(re.sub(r"<.*?>", "", render_html(data)))
    assert "none has reached first value (go-live) since onboard-sync began following it; 1 was adopted" in page
    assert "no onboarding has reached first value" not in page, "e did reach it: the page must not say none has"
