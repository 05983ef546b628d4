"""CRM search for the HubSpot sandbox: request validation, filter evaluation, sorting and paging.

Called by ``responses_objects.search``. Enforces the search guide's limits (5 filterGroups, 6 filters per
group, 18 in total, one sort, limit <= 200, no paging beyond 10,000 results, 3,000-character body),
honours the backend's search lag and supports the ``associations.{type}`` pseudo-properties.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onboard_sync.sandbox.common import parse_instant
from onboard_sync.sandbox.hubspot import schema as sch
from onboard_sync.sandbox.hubspot.backend import HubSpotBackend
from onboard_sync.sandbox.hubspot.errors import validation_error
from onboard_sync.sandbox.hubspot.models import Record

MAX_GROUPS, MAX_PER_GROUP, MAX_FILTERS, MAX_LIMIT, MAX_RESULTS, MAX_BODY = 5, 6, 18, 200, 10_000, 3_000
MEMO_QUERIES = 8
"""Queries whose sorted matches the backend keeps for their next pages (``_Memo``)."""
OPERATORS = {
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
}
QUERY_FIELDS = {
    "deals": ("dealname",),
    "contacts": ("firstname", "lastname", "email", "phone", "company"),
    "companies": ("name", "domain", "website", "phone"),
    "tickets": ("subject", "content"),
    "tasks": ("hs_task_subject", "hs_task_body"),
}
Predicate = Callable[[Record, Mapping[str, str]], bool]


class SearchPage:
    """One page of results: ``total``, the (record, visible properties) pairs and the next ``after``."""

    def __init__(
        self,
        total: int,
        hits: list[tuple[Record, Mapping[str, str]]],
        after: str | None,
        properties: list[str] | None,
    ) -> None:
        self.total, self.hits, self.after, self.properties = total, hits, after, properties


def run_search(backend: HubSpotBackend, kind: str, body: Any, now: datetime) -> SearchPage:
    if not isinstance(body, dict):
        raise validation_error("Invalid input JSON: the search request must be an object")
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        raise validation_error(f"The maximum number of filterGroups is {MAX_GROUPS}")
    compiled: list[list[Predicate]] = []
    total_filters = 0
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list):
            raise validation_error("Each filterGroup must have a 'filters' list")
        if len(filters) > MAX_PER_GROUP:
            raise validation_error(f"The maximum number of filters per filterGroup is {MAX_PER_GROUP}")
        total_filters += len(filters)
        compiled.append([_compile(backend, kind, f) for f in filters])
    if total_filters > MAX_FILTERS:
        raise validation_error(f"The maximum number of filters across all filterGroups is {MAX_FILTERS}")
    sorts = body.get("sorts") or []
    if not isinstance(sorts, list) or len(sorts) > 1:
        raise validation_error("Only one sort is allowed")
    limit = _int(body.get("limit", 10), "limit")
    if limit > MAX_LIMIT:
        raise validation_error(f"limit must be less than or equal to {MAX_LIMIT}")
    after = _int(body.get("after") or 0, "after")
    if after >= MAX_RESULTS:
        raise validation_error(f"Paging beyond {MAX_RESULTS} results is not supported (after={after})")
    properties = body.get("properties")
    if properties is not None and (not isinstance(properties, list) or not all(isinstance(p, str) for p in properties)):
        raise validation_error("'properties' must be a list of property names")
    query = body.get("query")
    if query is not None and not isinstance(query, str):
        raise validation_error("'query' must be a string")

    with backend.lock:
        memo_key = (kind, json.dumps({k: v for k, v in body.items() if k != "after"}, sort_keys=True, default=str))
        state = (id(backend.objects[kind]), len(backend.events))
        memo = backend.search_memo.get(memo_key)
        if after and memo is not None and memo.state == state and (memo.until is None or now < memo.until):
            matched = memo.matched
        else:
            matched, until = _match(backend, kind, compiled, query, now)
            if sorts:
                _sort(backend, kind, matched, sorts[0])
            backend.search_memo.pop(memo_key, None)
            backend.search_memo[memo_key] = _Memo(state, until, matched)
            while len(backend.search_memo) > MEMO_QUERIES:
                del backend.search_memo[next(iter(backend.search_memo))]
    page = matched[after : after + limit]
    nxt = str(after + limit) if after + limit < len(matched) else None
    return SearchPage(len(matched), page, nxt, properties or None)


@dataclass(frozen=True, slots=True)
class _Memo:
    """A query's sorted matches, reused by the query's next pages while nothing changed.

    Without it every page re-scans and re-sorts every record of the kind: paging through the
    200,000 won deals of a million-deal portal would cost a thousand full scans (the memory
    benchmark's backfill, ``bench.scenarios.memory``). ``state`` is the kind's record table and the
    backend's change-event count (every write through the backend emits one), ``until`` the first
    moment a record inside the search lag becomes visible (None: none is pending). Only pages after
    the first (``after`` > 0) reuse it, so a first page always sees the records as they are now."""

    state: tuple[int, int]
    until: datetime | None
    matched: list[tuple[Record, Mapping[str, str]]]


def _match(
    backend: HubSpotBackend, kind: str, compiled: list[list[Predicate]], query: str | None, now: datetime
) -> tuple[list[tuple[Record, Mapping[str, str]]], datetime | None]:
    """The records search finds now (unsorted), and when the next pending one becomes visible."""
    matched: list[tuple[Record, Mapping[str, str]]] = []
    until: datetime | None = None
    fields = QUERY_FIELDS[kind]
    needle = (query or "").strip().lower()
    for record in backend.objects[kind].values():
        if record.archived:
            continue
        if record.visible_at is not None and now < record.visible_at:
            until = record.visible_at if until is None else min(until, record.visible_at)
        view = backend.search_view(record, now)
        if view is None:
            continue
        if compiled and not any(all(p(record, view) for p in group) for group in compiled):
            continue
        if needle and not any(needle in view.get(f, "").lower() for f in fields):
            continue
        matched.append((record, view))
    return matched, until


def _int(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise validation_error(f"'{name}' must be an integer, got {value!r}") from None
    if number < 0:
        raise validation_error(f"'{name}' must be >= 0")
    return number


def _sort(backend: HubSpotBackend, kind: str, matched: list[tuple[Record, Mapping[str, str]]], sort: Any) -> None:
    if isinstance(sort, str):
        name, descending = sort.lstrip("-"), sort.startswith("-")
    elif isinstance(sort, dict) and isinstance(sort.get("propertyName"), str):
        name, descending = (
            sort["propertyName"],
            str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING",
        )
    else:
        raise validation_error('Invalid sort: expected {"propertyName": ..., "direction": ...}')
    convert = _converter(backend, kind, name)
    present = [m for m in matched if m[1].get(name) is not None and convert(m[1][name]) is not None]
    missing = [m for m in matched if m[1].get(name) is None or convert(m[1][name]) is None]
    present.sort(key=lambda m: (convert(m[1][name]), int(m[0].id)), reverse=descending)
    matched[:] = present + missing


def _converter(backend: HubSpotBackend, kind: str, name: str) -> Callable[[str], Any]:
    definition = backend.schema[kind].get(name) or {}
    type_ = definition.get("type", "string")
    if name == "hs_object_id" or type_ == "number":
        return _number
    if type_ in ("datetime", "date"):
        return _instant
    if type_ == "enumeration":
        return str
    return str.lower


def _number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _instant(value: str) -> float | None:
    moment = parse_instant(str(value))
    return None if moment is None else moment.timestamp() * 1000


def _compile(backend: HubSpotBackend, kind: str, spec: Any) -> Predicate:
    if not isinstance(spec, dict) or not isinstance(spec.get("propertyName"), str):
        raise validation_error("Each filter needs a 'propertyName'")
    name, op = spec["propertyName"], str(spec.get("operator", "EQ")).upper()
    if op not in OPERATORS:
        raise validation_error(f"Unknown filter operator {op!r}; expected one of {', '.join(sorted(OPERATORS))}")
    if name.startswith("associations."):
        return _association_predicate(backend, kind, name.split(".", 1)[1], op, spec)
    if op == "HAS_PROPERTY":
        return lambda r, v: v.get(name) is not None
    if op == "NOT_HAS_PROPERTY":
        return lambda r, v: v.get(name) is None
    convert = _converter(backend, kind, name)
    if op in ("IN", "NOT_IN"):
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise validation_error(f"{op} filters need a non-empty 'values' list")
        # the guide: IN values for strings must be lowercase; they are compared as given
        lowercase = convert is str.lower
        wanted = {str(x) if lowercase else convert(str(x)) for x in values}
        if op == "IN":
            return lambda r, v: v.get(name) is not None and convert(v[name]) in wanted
        return lambda r, v: v.get(name) is None or convert(v[name]) not in wanted
    if "value" not in spec or spec["value"] is None:
        raise validation_error(f"{op} filter on {name} needs a 'value'")
    target = convert(str(spec["value"]))
    if target is None:
        raise validation_error(f"{spec['value']!r} is not a valid value for {name}")
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = str(spec["value"]).lower()
        hit = op == "CONTAINS_TOKEN"
        return lambda r, v: (v.get(name) is not None and _has_token(v[name], pattern)) == hit
    if op == "BETWEEN":
        high = convert(str(spec.get("highValue")))
        if high is None:
            raise validation_error(f"BETWEEN filter on {name} needs a valid 'highValue'")
        return lambda r, v: _cmp(v, name, convert, lambda x: target <= x <= high)
    checks: dict[str, Callable[[Any], bool]] = {
        "EQ": lambda x: x == target,
        "LT": lambda x: x < target,
        "LTE": lambda x: x <= target,
        "GT": lambda x: x > target,
        "GTE": lambda x: x >= target,
    }
    if op == "NEQ":
        return lambda r, v: v.get(name) is None or convert(v[name]) != target
    check = checks[op]
    return lambda r, v: _cmp(v, name, convert, check)


def _cmp(view: Mapping[str, str], name: str, convert: Callable[[str], Any], check: Callable[[Any], bool]) -> bool:
    raw = view.get(name)
    if raw is None:
        return False
    value = convert(raw)
    return value is not None and check(value)


def _has_token(text: str, pattern: str) -> bool:
    lowered = text.lower()
    tokens = {t for t in re.split(r"[^\w]+", lowered) if t} | set(lowered.split()) | {lowered}
    return any(fnmatch.fnmatchcase(t, pattern) for t in tokens)


def _association_predicate(backend: HubSpotBackend, kind: str, other: str, op: str, spec: dict) -> Predicate:
    to_kind = sch.resolve_kind(other)
    if to_kind is None:
        raise validation_error(f"Unknown association object type {other!r}")
    if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        want = op == "HAS_PROPERTY"
        return lambda r, v: bool(backend.associations(kind, r.id, to_kind)) == want
    raw = spec.get("values") if op in ("IN", "NOT_IN") else [spec.get("value")]
    if not isinstance(raw, list) or not raw or any(x is None for x in raw):
        raise validation_error(f"{op} filter on associations.{other} needs a value")
    ids: set[str] = set()
    for target in raw:
        ids.update(backend.associations(to_kind, str(target), kind))
    if op in ("EQ", "IN"):
        return lambda r, v: r.id in ids
    if op in ("NEQ", "NOT_IN"):
        return lambda r, v: r.id not in ids
    raise validation_error(f"Operator {op} is not supported on associations.{other}")


__all__ = ["SearchPage", "run_search"]
