"""How ``onboard-sync plan`` shows a write plan to people (``plan --json`` has every write as data).

Called by ``cli.run.plan``. Per deal-source instance: one sentence counting the writes by kind,
then a table grouped by onboarding (the deal's name): each task to create with its owner's name
and due day, each task to close, and each record update with one line per field, ``label  old →
new`` (the new value on its own line when both are long): an empty value reads ``(empty)``, and
labels are the canonical fields' (``Health score``). It stays readable at 80 columns: text wraps
inside its column, a long list of fields takes one line each, and ``limit`` bounds the
onboardings shown (the rest are counted; ``--json`` lists them all).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from onboard_sync.mappings import CANONICAL_FIELDS
from onboard_sync.records import ObjectKind
from onboard_sync.sync.plan import WritePlan

if TYPE_CHECKING:
    from onboard_sync.runtime import Runtime
    from onboard_sync.sync.report import InstanceReport

FieldLabels = Mapping[tuple[str, str, str], str]
"""(instance, object kind, property) → the field's label."""

EMPTY = "(empty)"
ARROW = "→"
LONG = 40
"""Old and new values longer than this together are shown on two lines."""
MIDNIGHT = re.compile(r"\d{4}-\d{2}-\d{2}T00:00(:00(\.0+)?)?(Z|\+00:00)")
_OBJECT_NAMES = {ObjectKind.DEAL.value: "deal", ObjectKind.ACCOUNT.value: "account"}


def field_labels(rt: Runtime) -> dict[tuple[str, str, str], str]:
    """The label of every mapped write field of every instance (``Onboarding phase``, …)."""
    labels: dict[tuple[str, str, str], str] = {}
    for instance, mapping in rt.mappings.items():
        for kind, obj in mapping.objects.items():
            for canonical, fmap in obj.write.items():
                field_type = CANONICAL_FIELDS.get(canonical)
                if field_type is not None:
                    label = field_type.label.removeprefix("Onboarding ")
                    labels[(instance, kind.value, fmap.property)] = label[:1].upper() + label[1:]
    return labels


def shown(value: object) -> str:
    """A value as a person reads it: no quotes, no ``None``, a date the CRM echoes as midnight UTC
    (``2026-12-03T00:00:00.000Z``) as the date."""
    if value is None or value == "":
        return EMPTY
    text = str(value)
    return text[:10] if MIDNIGHT.fullmatch(text) else text


def summary(name: str, plan: WritePlan) -> str:
    """One sentence: how many writes of each kind ``name``'s plan holds."""
    total = len(plan.tasks) + len(plan.closes) + len(plan.fields)
    if not total:
        return f"{name}: nothing to write: the CRM already matches the playbook."
    parts: list[str] = []
    if plan.tasks:
        alerts = sum(1 for t in plan.tasks if t.spec.template_key.startswith("alert."))
        parts.append(f"{_count(len(plan.tasks), 'task')} to create" + (f" ({alerts} for alerts)" if alerts else ""))
    if plan.closes:
        parts.append(f"{_count(len(plan.closes), 'alert task')} to close")
    records = Counter((f.instance, f.write.kind.value) for f in plan.fields)
    order = [ObjectKind.DEAL.value, ObjectKind.ACCOUNT.value]
    for (instance, kind), count in sorted(records.items(), key=lambda item: (item[0][0], _rank(order, item[0][1]))):
        noun = f"{instance} organization" if instance else _OBJECT_NAMES.get(kind, kind)
        parts.append(f"{_count(count, noun)} to update")
    return f"{name}: {_count(total, 'planned write')}: " + ", ".join(parts) + "."


def plan_table(
    name: str, plan: WritePlan, *, owners: Mapping[str, str], labels: FieldLabels, limit: int
) -> Table | None:
    """The writes of ``plan`` grouped by onboarding, the first ``limit`` onboardings."""
    groups = _grouped(name, plan, owners, labels)
    if not groups:
        return None
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("onboarding", width=20, overflow="fold")
    table.add_column("write", width=8)
    table.add_column("what", overflow="fold")
    for onboarding_id, writes in list(groups.items())[:limit]:
        deal = Text(plan.labels.get(onboarding_id, onboarding_id))
        deal.append(f"\ndeal {onboarding_id.split(':', 1)[-1]}", style="dim")
        for index, (write, what) in enumerate(writes):
            table.add_row(deal if index == 0 else "", write, what, end_section=index == len(writes) - 1)
    hidden = list(groups.values())[limit:]
    if hidden:
        table.caption = (
            f"… and {_count(sum(len(w) for w in hidden), 'write')} for "
            f"{_count(len(hidden), 'more onboarding')} (--limit shows more; --json lists every write)"
        )
    return table


def print_plan_instance(console: Console, name: str, inst: InstanceReport, labels: FieldLabels, *, limit: int) -> None:
    """Summary, table, API cost and notes of one deal-source instance's plan."""
    plan = inst.plan or WritePlan()
    console.print(summary(name, plan))
    table = plan_table(name, plan, owners=inst.owners, labels=labels, limit=limit)
    if table is not None:
        console.print(table)
    reads = inst.api_calls.get("total", 0)
    cost = inst.api_cost_of_writes
    calls = ", ".join(f"{endpoint} ×{count}" for endpoint, count in cost.items()) or "none"
    console.print(
        f"API cost: {_count(reads, 'read call')} made for this plan; applying it takes "
        f"{_count(sum(cost.values()), 'write call')} ({calls}).",
        highlight=False,
    )


def _grouped(
    name: str, plan: WritePlan, owners: Mapping[str, str], labels: FieldLabels
) -> dict[str, list[tuple[str, RenderableType]]]:
    groups: dict[str, list[tuple[str, RenderableType]]] = {}
    for task in plan.tasks:
        write = task.write
        owner = owners.get(write.owner_id, write.owner_id) if write.owner_id else "nobody (no owner for the role)"
        what = Text(write.subject)
        what.append(f"\nfor {owner}, due {(write.due_date or write.due_at.date()).isoformat()}", style="dim")
        if task.spec.note:  # why the due date is not the plan's
            what.append(f"\n{task.spec.note}", style="dim")
        groups.setdefault(task.onboarding_id, []).append(("create task", what))
    for close in plan.closes:
        what = Text(close.subject)
        what.append(f"\nstatus: open {ARROW} completed (its alert cleared)", style="dim")
        groups.setdefault(close.onboarding_id, []).append(("close task", what))
    for planned in plan.fields:
        instance = planned.instance or name
        kind = planned.write.kind.value
        noun = f"{instance} org" if planned.instance else _OBJECT_NAMES.get(kind, kind)
        fields = Table.grid(padding=(0, 1))
        fields.add_column(max_width=16)
        fields.add_column()
        for prop, value in planned.write.values.items():  # in the mapping's order
            # Text, not str: a value holding [brackets] (a deal named "Acme [EU]") is shown, not read as markup
            label, change = labels.get((instance, kind, prop), prop), _change(planned.before.get(prop), value)
            fields.add_row(Text(label), Text(change))
        groups.setdefault(planned.onboarding_id, []).append((f"update {noun}", fields))
    return groups


def _change(old: object, new: object) -> str:
    """``old → new``; when both are long texts, the new value on a line of its own."""
    before, after = shown(old), shown(new)
    if before != EMPTY and len(before) + len(after) > LONG:
        return f"{before}\n{ARROW} {after}"
    return f"{before} {ARROW} {after}"


def _rank(order: list[str], kind: str) -> int:
    return order.index(kind) if kind in order else len(order)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
