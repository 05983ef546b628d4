"""Zendesk JSON → canonical records (``Ticket``, ``Account``), and organization-field values.

Ticket ``account_id`` is the Zendesk organization id; ``solved_at`` and resolution times come
from the export's sideloaded ``metric_sets``. An organization becomes an ``Account`` whose
properties carry ``external_id``, ``domain_names`` (space-separated) and every organization
field by key, which is what ``onboard_sync.linking`` reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from onboard_sync.records import Account, Ticket
from onboard_sync.toolkit.times import parse_time


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def to_ticket(source: str, raw: Mapping[str, Any], metric: Mapping[str, Any] | None) -> Ticket:
    created = parse_time(raw.get("created_at")) or datetime.now(UTC)
    updated = parse_time(raw.get("updated_at")) or created
    if raw.get("generated_timestamp"):
        updated = max(updated, parse_time(int(raw["generated_timestamp"]), epoch="s") or updated)
    props: dict[str, str | None] = {
        "type": _text(raw.get("type")),
        "requester_id": _text(raw.get("requester_id")),
    }
    if metric:
        for key in ("reply_time_in_minutes", "full_resolution_time_in_minutes"):
            value = metric.get(key)
            props[key] = _text(value.get("calendar")) if isinstance(value, Mapping) else None
        props["reopens"] = _text(metric.get("reopens"))
    org = raw.get("organization_id")
    return Ticket(
        source=source,
        id=str(raw["id"]),
        updated_at=updated,
        subject=str(raw.get("subject") or raw.get("raw_subject") or ""),
        status=str(raw.get("status") or "open"),
        priority=_text(raw.get("priority")),
        created_at=created,
        account_id=str(org) if org else None,
        solved_at=parse_time(metric.get("solved_at")) if metric else None,
        properties=props,
    )


def to_account(source: str, raw: Mapping[str, Any]) -> Account:
    domains = [str(d) for d in raw.get("domain_names") or ()]
    props: dict[str, str | None] = {
        "external_id": _text(raw.get("external_id")),
        "domain_names": " ".join(domains),
    }
    for key, value in (raw.get("organization_fields") or {}).items():
        props[str(key)] = _text(value)
    updated = parse_time(raw.get("updated_at")) or datetime.now(UTC)
    if raw.get("generated_timestamp"):
        updated = max(updated, parse_time(int(raw["generated_timestamp"]), epoch="s") or updated)
    return Account(
        source=source,
        id=str(raw["id"]),
        updated_at=updated,
        name=str(raw.get("name") or raw["id"]),
        domain=domains[0] if domains else None,
        properties=props,
    )


__all__ = ["to_account", "to_ticket"]
