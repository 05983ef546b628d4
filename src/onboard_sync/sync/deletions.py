"""Deals and tasks deleted in the CRM: onboardings of gone deals are cancelled, gone tasks let go.

A CRM search never returns a deleted deal (archived, merged away, in the recycle bin), so the
incremental pull cannot see one go. Two paths notice it:

* the webhook worker reads the deals of its events by id (``chunks.pull_subset``; HubSpot sends
  ``deal.deletion``): a tracked deal that the read does not return is gone;
* a cron run, once every ``[onboard_sync] deleted_check_hours`` (default 24), reads by id the
  deals of the open onboardings its pull did not return (``check_due`` / ``missing_deals``):
  one call per ``max_read_batch`` ids (HubSpot: 100), none when no onboarding is open.

A gone deal's open onboarding becomes CANCELLED (transition cause ``deal-deleted``); the state
and its transition are recorded in one store transaction, and nothing is sent to the CRM (the
record is gone). If the deal is restored and still won, the next pull returns it and the state
machine's "won again" rule reopens the onboarding at its phase.

The same daily check looks up the open owned tasks of open onboardings by key (``find_tasks``,
one call per ``max_read_batch`` keys). A task a person deleted becomes ``DELETED``: it no longer
blocks its phase and is never created again (a person wins); if it is restored, the task pull
sees it and its status is the CRM's again. ``plan`` records nothing: it counts what a sync would
record and lays it over what it evaluates (``chunks.Staged``), so it plans what sync would write.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from onboard_sync.connector import Connector, ReadOptions
from onboard_sync.onboarding.state import OPEN_STATUSES, OnboardingState, OnboardingStatus, Transition, TransitionCause
from onboard_sync.records import TaskStatus
from onboard_sync.store import Store
from onboard_sync.sync.overlap import read_batches
from onboard_sync.sync.report import InstanceReport

if TYPE_CHECKING:
    from onboard_sync.sync.chunks import ChunkedRun
    from onboard_sync.sync.scratch import IdLog

CHECK_STREAM = "deals-exist"
"""The store cursor holding when a run last checked that the open onboardings' deals exist."""

DETAIL = "the CRM no longer returns the deal by id (deleted, merged into another deal, or outside the filter)"


def check_due(store: Store, source: str, now: datetime, every: timedelta | None) -> bool:
    """Whether this run checks the deals of open onboardings (``every`` None: never)."""
    if every is None:
        return False
    last = store.get_cursor(source, CHECK_STREAM)
    return last is None or now - last >= every


def open_deal_ids(store: Store, source: str, *, page: int = 1000) -> list[str]:
    """The deal ids of every open onboarding of ``source`` (keyset pages of the store)."""
    ids: list[str] = []
    after: str | None = None
    while True:
        found = store.deal_ids_after(source, after, page, statuses=OPEN_STATUSES)
        ids.extend(deal_id for _, deal_id in found)
        if len(found) < page:
            return ids
        after = found[-1][0]


def missing_deals(connector: Connector, deal_ids: Sequence[str], options: ReadOptions) -> set[str]:
    """Which of ``deal_ids`` the CRM does not return when read by id."""
    found: set[str] = set()
    for _, deals in read_batches(connector, deal_ids, partial(connector.read_deals_by_id, options=options)):
        found.update(deal.id for deal in deals)
    return set(deal_ids) - found


def missing_tasks(connector: Connector, keys: Sequence[str], deal_ids: Mapping[str, str]) -> set[str]:
    """Which of the task ``keys`` (of the deals ``deal_ids`` names) the CRM does not find."""
    found: set[str] = set()
    for _, tasks in read_batches(connector, keys, partial(connector.find_tasks, deal_ids=deal_ids)):
        found.update(task.key for task in tasks if task.key)
    return set(keys) - found


def cancel_gone(
    store: Store,
    source: str,
    deal_ids: Collection[str],
    now: datetime,
    report: InstanceReport,
    *,
    record: bool,
) -> list[tuple[OnboardingState, Transition]]:
    """Cancel the open onboardings of ``deal_ids`` (deals the CRM no longer has); with ``record``
    False (plan) do not record them. Returns the new states with their transitions."""
    states = store.get_onboardings([f"{source}:{deal_id}" for deal_id in sorted(deal_ids)])
    gone = [state for state in states.values() if state.status in OPEN_STATUSES]
    report.deals_deleted += len(gone)
    changed = [
        (
            dataclasses.replace(state, status=OnboardingStatus.CANCELLED, cancelled_at=now),
            Transition(
                state.id,
                state.phase,
                state.phase,
                state.status,
                OnboardingStatus.CANCELLED,
                TransitionCause.DEAL_DELETED,
                now,
                DETAIL,
            ),
        )
        for state in gone
    ]
    if not record or not changed:
        return changed
    with store.transaction():
        store.save_onboardings([state for state, _ in changed])
        store.record_transitions([transition for _, transition in changed])
    return changed


def handle_deleted(
    store: Store,
    run: ChunkedRun,
    pulled: IdLog,
    options: ReadOptions,
    gone: set[str] | None,
    *,
    now: datetime,
    every: timedelta | None,
    record: bool,
) -> None:
    """One run's part: ``gone`` deals from a webhook subset's read; else, when ``check_due``, the
    open onboardings' deals the pull did not return (``pulled``) and their open tasks, read by id.
    With ``record`` False (plan) it only counts."""
    name = run.name
    checked = gone is None
    if gone is None:
        if not check_due(store, name, now, every):
            return
        unseen = pulled.missing(open_deal_ids(store, name))
        gone = missing_deals(run.connector, unseen, options) if unseen else set()
    changed = cancel_gone(store, name, gone, now, run.report, record=record)
    run.report.transitions += len(changed)
    if not record:
        run.staged.cancelled.update(state.deal_id for state, _ in changed)
    elif run.hooked:
        run.transitioned.extend((state, [transition]) for state, transition in changed)
    if not checked:
        return
    keys = store.open_task_keys(name)
    deleted = missing_tasks(run.connector, keys, store.deals_of_tasks(keys)) if keys else set()
    if record:
        run.report.tasks_deleted += store.close_open_tasks(name, deleted, TaskStatus.DELETED, now)
        store.set_cursor(name, CHECK_STREAM, now)
    else:
        run.report.tasks_deleted += len(deleted)
        run.staged.mark_deleted(deleted, now)
