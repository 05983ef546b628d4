"""The core's default hook implementations (``trylast``): owner resolution, segments, transforms.

Plugins override any of these by implementing the same hook; ``resolve_*`` hooks are
``firstresult``, so the first plugin answer that is not ``None`` wins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from onboard_sync.hookspecs import hookimpl

if TYPE_CHECKING:  # annotations only: the plugin manager (and so --help) loads without the records
    from onboard_sync.records import Account, Deal, Owner


def _pick_stable(candidates: list[str], deal_id: str) -> str:
    """The same deal always gets the same person from a pool (no flapping between runs)."""
    import hashlib

    digest = hashlib.sha256(deal_id.encode()).digest()
    return candidates[int.from_bytes(digest[:4], "big") % len(candidates)]


@hookimpl(trylast=True)
def resolve_owner(
    role: str,
    deal: Deal,
    account: Account | None,
    owners: Mapping[str, Owner],
    settings: Mapping[str, Any],
) -> str | None:
    """Resolve a role with the ``[owners]`` table of config.toml.

    ``sales`` (and any role with no entry) is the deal's owner. A role set to
    ``"deal_owner"`` or ``"account_owner"`` uses that record's owner; a role set to
    ``"property:NAME"`` reads an owner id from that deal or account property; a list of
    e-mail addresses or owner ids is a pool from which each deal gets one stable member.
    """
    spec = settings.get(role)
    if spec is None or spec == "deal_owner":
        return deal.owner_id
    if spec == "account_owner":
        return account.owner_id if account else deal.owner_id
    if isinstance(spec, str) and spec.startswith("property:"):
        name = spec.removeprefix("property:")
        value = deal.properties.get(name) or (account.properties.get(name) if account else None)
        return value or deal.owner_id
    pool = [spec] if isinstance(spec, str) else list(spec)
    by_email = {o.email.lower(): o.id for o in owners.values() if o.email and o.active}
    ids = [by_email.get(str(member).lower(), str(member)) for member in pool]
    ids = [i for i in ids if i in owners] or ids
    return _pick_stable(ids, deal.id) if ids else deal.owner_id


def _to_date(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return datetime.fromisoformat(str(value)).date().isoformat()


def _to_number(value: Any) -> str | None:
    if value in (None, ""):
        return None
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


def _to_float(value: Any) -> float | None:
    return None if value in (None, "") else float(value)


def _to_bool(value: Any) -> bool | None:
    if value in (None, ""):
        return None
    return str(value).strip().lower() in {"true", "1", "yes", "y", "on"}


CORE_TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    "lower": lambda v: None if v is None else str(v).lower(),
    "upper": lambda v: None if v is None else str(v).upper(),
    "strip": lambda v: None if v is None else str(v).strip(),
    "date": _to_date,
    "number": _to_number,
    "float": _to_float,
    "bool": _to_bool,
    "join_lines": lambda v: None if v is None else "\n".join(v) if isinstance(v, list | tuple) else str(v),
}


@hookimpl(trylast=True)
def register_transforms(register: Callable[[str, Callable[[Any], Any]], None]) -> None:
    for name, fn in CORE_TRANSFORMS.items():
        register(name, fn)
