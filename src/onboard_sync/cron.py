"""The ``schedule`` key of a connector instance: a five-field cron expression, checked offline.

``check_cron`` is the validator of ``[connectors.NAME] schedule`` (``validate`` reports a bad one
with file:line); ``next_fire`` computes when a schedule fires next (``onboard-sync schedules``).
Parsing is croniter's (a DBOS dependency, the library DBOS's own scheduler uses), in UTC.
"""

from __future__ import annotations

from datetime import datetime

from croniter import croniter


def check_cron(value: str) -> str:
    """``value`` normalised (single spaces) if it is a valid five-field cron expression, else ValueError."""
    text = " ".join(value.split())
    if len(text.split(" ")) != 5:
        raise ValueError(
            f"schedule {value!r} is not a five-field cron expression (minute hour day month weekday), "
            'e.g. "*/15 * * * *"'
        )
    if not croniter.is_valid(text):
        raise ValueError(f'schedule {value!r} is not a valid cron expression; e.g. "*/15 * * * *"')
    return text


def next_fire(cron: str, after: datetime) -> datetime:
    """When ``cron`` fires next after ``after`` (aware, same zone)."""
    return croniter(cron, after).get_next(datetime)
