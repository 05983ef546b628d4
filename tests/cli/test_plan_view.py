"""cli/plan_view.py: the plan as people read it, at 80 columns."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from rich.console import Console

from onboard_sync.cli.plan_view import plan_table, shown, summary
from onboard_sync.connector import FieldWrite, TaskWrite
from onboard_sync.onboarding.state import TaskSpec
from onboard_sync.records import ObjectKind
from onboard_sync.sync.plan import PlannedClose, PlannedFields, PlannedTask, WritePlan

DUE = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
LABELS = {
    ("hubspot", "deal", "onboarding_phase"): "Phase",
    ("hubspot", "deal", "onboarding_health_reasons"): "Health reasons",
    ("hubspot", "deal", "onboarding_health_score"): "Health score",
}


def _task(onboarding: str, template: str, title: str, owner: str | None) -> PlannedTask:
    key = f"{onboarding}:{template}:0"
    spec = TaskSpec(key, template, "handoff", title, "", "csm", DUE)
    return PlannedTask(onboarding, spec, TaskWrite(key, title, "", DUE, owner))


def _plan() -> WritePlan:
    reasons = "at risk (health 40): act this week; 1 milestone(s) late by more than a week; 2 task(s) overdue"
    before = {"onboarding_phase": None, "onboarding_health_score": "40", "onboarding_health_reasons": "healthy"}
    deal = FieldWrite(
        "hubspot:1:deal",
        ObjectKind.DEAL,
        "1",
        {"onboarding_phase": "handoff", "onboarding_health_score": "75", "onboarding_health_reasons": reasons},
    )
    org = FieldWrite("hubspot:1:zendesk:360", ObjectKind.ACCOUNT, "360", {"onboarding_phase": "handoff"})
    return WritePlan(
        tasks=[
            _task("hubspot:1", "sales_handoff", "Hand off Maple Networks to Customer Success", "61000001"),
            _task("hubspot:1", "alert.blockers", "Blocker open more than 3 days at Maple Networks", None),
            _task("hubspot:2", "sales_handoff", "Hand off Atlas Logistics to Customer Success", "61000002"),
        ],
        closes=[PlannedClose("hubspot:2", "hubspot:2:alert.blockers:1", "T-9", "Blocker open more than 3 days")],
        fields=[
            PlannedFields("hubspot:1", deal, before),
            PlannedFields("hubspot:1", org, {"onboarding_phase": ""}, instance="zendesk"),
        ],
        labels={"hubspot:1": "Maple Networks - Business suite", "hubspot:2": "Atlas Logistics"},
    )


def _render(plan: WritePlan, limit: int = 10) -> str:
    console = Console(width=80, record=True, color_system=None)
    table = plan_table("hubspot", plan, owners={"61000001": "Ana Souza"}, labels=LABELS, limit=limit)
    assert table is not None
    console.print(table)
    return console.export_text()


def test_writes_grouped_by_deal_with_owner_names_and_readable_values_at_80_columns() -> None:
    text = _render(_plan())
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "for Ana Souza, due 2026-11-25" in text
    assert "for 61000002, due 2026-11-25" in text, "an owner not in the list is shown by id"
    assert "for nobody (no owner for the role)" in text
    assert re.search(r"Phase +\(empty\) → handoff", text)
    assert re.search(r"Health score +40 → 75", text)
    assert "status: open → completed (its alert cleared)" in text
    assert "None" not in text
    assert "'" not in text
    # one line per field: each label starts its own line, values in a column of their own
    assert len({line.find(label) for line in lines for label in LABELS.values() if label in line}) == 1
    assert lines[1 + next(n for n, line in enumerate(lines) if "Phase" in line)].find("40 → 75") == next(
        line.find("(empty) → handoff") for line in lines if "Phase" in line
    ), "values in a column of their own"
    reasons = next(n for n, line in enumerate(lines) if "Health reasons" in line)
    assert "→ at risk (health 40)" in lines[reasons + 1], "both values long: the new one on its own line"
    org = next(n for n, line in enumerate(lines) if "onboarding_phase" in line)
    assert [lines[org].split()[0], lines[org + 1].split(), lines[org + 2].split()] == ["update", ["zendesk"], ["org"]]
    assert lines.index(next(line for line in lines if "Atlas Logistics" in line)) > lines.index(
        next(line for line in lines if "Health reasons" in line)
    ), "grouped by onboarding, in plan order"


def test_limit_counts_what_it_leaves_out() -> None:
    text = " ".join(_render(_plan(), limit=1).split())
    assert "Atlas Logistics" not in text
    assert "… and 2 writes for 1 more onboarding (--limit shows more; --json lists every write)" in text


def test_summary_counts_each_kind_and_empty_values_read_empty() -> None:
    assert summary("hubspot", _plan()) == (
        "hubspot: 6 planned writes: 3 tasks to create (1 for alerts), 1 alert task to close, "
        "1 deal to update, 1 zendesk organization to update."
    )
    assert summary("hubspot", WritePlan()) == "hubspot: nothing to write: the CRM already matches the playbook."
    assert [shown(v) for v in (None, "", "0", "75")] == ["(empty)", "(empty)", "0", "75"]
    assert shown("2026-12-03T00:00:00.000Z") == "2026-12-03", "a date echoed as midnight UTC reads as the date"
    assert shown("2026-12-03T10:00:00Z") == "2026-12-03T10:00:00Z"
