"""Schedules in the database: each instance's ``schedule`` from config.toml as a DBOS schedule.

Every worker applies the config's schedules when it starts (:func:`apply_configured`, DBOS
``apply_schedules``: an upsert by name that keeps a schedule's paused/active status and its last
fire time), and deletes the schedules of instances that no longer have one. A schedule named
``reconcile:INSTANCE`` fires the ``onboard_sync.schedule_tick`` workflow once per tick across the
cluster, which enqueues that instance's reconcile. ``onboard-sync schedules`` reads them through a
DBOS client (:func:`list_views`, :func:`set_paused`) without running a worker.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from onboard_sync.cron import next_fire
from onboard_sync.errors import UserError

if TYPE_CHECKING:
    from dbos import DBOSClient

    from onboard_sync.runtime import Runtime

PREFIX = "reconcile:"


def schedule_name(instance: str) -> str:
    return f"{PREFIX}{instance}"


def configured(runtime: Runtime) -> dict[str, str]:
    """Instance name → cron expression, for every instance with a ``schedule``."""
    return {name: s.schedule for name, s in runtime.config.connectors.items() if s.schedule}


def apply_configured(runtime: Runtime) -> dict[str, str]:
    """Make the database's schedules those of the config (inside a launched DBOS); return them."""
    from dbos import DBOS

    from onboard_sync.durable.workflows import schedule_tick

    wanted = configured(runtime)
    DBOS.apply_schedules(
        [
            {"schedule_name": schedule_name(name), "workflow_fn": schedule_tick, "schedule": cron, "context": name}
            for name, cron in wanted.items()
        ]
    )
    for existing in DBOS.list_schedules(schedule_name_prefix=PREFIX):
        if existing["schedule_name"][len(PREFIX) :] not in wanted:
            DBOS.delete_schedule(existing["schedule_name"])
    return wanted


@dataclass(frozen=True)
class ScheduleView:
    """One schedule as ``onboard-sync schedules`` shows it."""

    instance: str
    schedule: str
    status: str  # ACTIVE or PAUSED
    last_run: datetime | None
    next_run: datetime | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("last_run", "next_run"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def list_views(client: DBOSClient, now: datetime | None = None) -> list[ScheduleView]:
    """Every instance schedule in the database, by instance name."""
    now = now or datetime.now(UTC)
    views = []
    for row in client.list_schedules(schedule_name_prefix=PREFIX):
        last = _time(row.get("last_fired_at"))
        active = row["status"] == "ACTIVE"
        views.append(
            ScheduleView(
                instance=row["schedule_name"][len(PREFIX) :],
                schedule=row["schedule"],
                status=row["status"],
                last_run=last,
                next_run=next_fire(row["schedule"], max(now, last) if last else now) if active else None,
            )
        )
    return sorted(views, key=lambda v: v.instance)


def set_paused(client: DBOSClient, instance: str, paused: bool) -> None:
    """Pause or resume the schedule of ``instance``; UserError if it has none."""
    name = schedule_name(instance)
    if client.get_schedule(name) is None:
        raise UserError(
            "no schedule in the database for this instance (set [connectors.NAME] schedule and start a worker)",
            where=f"instance {instance!r}",
        )
    if paused:
        client.pause_schedule(name)
    else:
        client.resume_schedule(name)


def _time(value: Any) -> datetime | None:
    """DBOS keeps ``last_fired_at`` as text (ISO) or epoch milliseconds, depending on the backend."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
