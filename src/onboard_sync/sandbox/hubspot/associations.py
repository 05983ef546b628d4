"""Association behaviour of the HubSpot sandbox backend (a mixin of ``HubSpotBackend``).

Associations are stored in both directions with HubSpot's type ids (a primary type such as 5
deal->company also carries the unlabeled default, 341); targets must exist. Used by object creation
(inline ``associations``), the v3/v4 association routes, search's ``associations.*`` filters and tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from onboard_sync.sandbox.hubspot import schema as sch
from onboard_sync.sandbox.hubspot.errors import HubSpotError, validation_error
from onboard_sync.sandbox.hubspot.models import Record

Link = tuple[str, str] | tuple[str, str, int] | Mapping[str, Any]


class AssociationsMixin:
    """Needs ``lock``, ``objects``, ``_assoc``, ``kind()``, ``get()`` and ``_emit()`` from the backend."""

    lock: Any
    objects: dict[str, dict[str, Record]]
    _assoc: dict[str, dict[str, dict[str, dict[str, list[int]]]]]
    kind: Callable[[str], str]
    get: Callable[..., Record]
    _emit: Callable[..., None]

    def associations(self, from_kind: str, id_: str, to_kind: str) -> list[str]:
        """Ids of live ``to_kind`` records associated with ``from_kind`` ``id_``, in association order."""
        return list(self.association_types(from_kind, id_, to_kind))

    def association_types(self, from_kind: str, id_: str, to_kind: str) -> dict[str, list[int]]:
        fk, tk = self.kind(from_kind), self.kind(to_kind)
        with self.lock:
            linked = self._assoc[fk].get(str(id_), {}).get(tk, {})
            live = self.objects[tk]
            return {tid: list(types) for tid, types in linked.items() if tid in live and not live[tid].archived}

    def associate(
        self,
        from_kind: str,
        from_id: str,
        to_kind: str,
        to_id: str,
        type_id: int | None = None,
        *,
        source: str = "CRM_UI",
    ) -> None:
        fk, tk = self.kind(from_kind), self.kind(to_kind)
        with self.lock:
            (link,) = self._parse_links(fk, [(tk, str(to_id), type_id)] if type_id else [(tk, str(to_id))])
            self.get(fk, from_id)
            self._link(fk, str(from_id), *link, source)

    def dissociate(self, from_kind: str, from_id: str, to_kind: str, to_id: str, *, source: str = "CRM_UI") -> bool:
        fk, tk = self.kind(from_kind), self.kind(to_kind)
        with self.lock:
            removed = self._assoc[fk].get(str(from_id), {}).get(tk, {}).pop(str(to_id), None)
            self._assoc[tk].get(str(to_id), {}).get(fk, {}).pop(str(from_id), None)
            if removed:
                self._emit(
                    fk,
                    str(from_id),
                    "associationChange",
                    source=source,
                    extra={"toObjectId": str(to_id), "associationRemoved": True},
                )
            return removed is not None

    def _parse_links(self, kind: str, associations: Iterable[Link] | None) -> list[tuple[str, str, int]]:
        links: list[tuple[str, str, int]] = []
        for item in associations or []:
            if isinstance(item, Mapping):
                to, types = item.get("to"), item.get("types")
                if not isinstance(to, Mapping) or "id" not in to or not isinstance(types, list) or not types:
                    raise validation_error('Invalid association: expected {"to":{"id":...},"types":[...]}')
                for spec in types:
                    type_id = spec.get("associationTypeId") if isinstance(spec, Mapping) else None
                    known = sch.ASSOCIATION_TYPES.get(type_id) if isinstance(type_id, int) else None
                    if known is None or known[0] != kind:
                        raise validation_error(f"Invalid association type {type_id!r} for {sch.SINGULAR[kind]}")
                    links.append((known[1], str(to["id"]), int(type_id)))
            else:
                to_kind = self.kind(item[0])
                type_id = item[2] if len(item) > 2 else sch.DEFAULT_TYPE.get((kind, to_kind))  # type: ignore[misc]
                if type_id is None or sch.ASSOCIATION_TYPES.get(type_id, ("",))[0] != kind:
                    raise validation_error(f"No association type from {kind} to {to_kind}")
                links.append((to_kind, str(item[1]), int(type_id)))
        for to_kind, to_id, _ in links:
            target = self.objects[to_kind].get(to_id)
            if target is None or target.archived:
                raise HubSpotError(
                    400,
                    "VALIDATION_ERROR",
                    f"One or more associations are invalid: {sch.SINGULAR[to_kind]} {to_id} does not exist",
                    sub_category="crm.associations.INVALID_OBJECT_IDS",
                )
        return links

    def seed_link(self, fk: str, fid: str, tk: str, tid: str, forward: list[int], backward: list[int]) -> None:
        """Seed-time association (both directions, no events, no lock): the fast path of ``_link``."""
        src = self._assoc[fk].get(fid)
        if src is None:
            src = self._assoc[fk][fid] = {}
        bucket = src.get(tk)
        if bucket is None:
            bucket = src[tk] = {}
        bucket[tid] = forward
        dst = self._assoc[tk].get(tid)
        if dst is None:
            dst = self._assoc[tk][tid] = {}
        bucket = dst.get(fk)
        if bucket is None:
            bucket = dst[fk] = {}
        bucket[fid] = backward

    def _link(self, fk: str, fid: str, tk: str, tid: str, type_id: int, source: str | None = None) -> None:
        types = [type_id]
        if sch.ASSOCIATION_TYPES[type_id][2] == "Primary":
            types.append(sch.DEFAULT_TYPE[(fk, tk)])
        forward = self._assoc[fk].setdefault(fid, {}).setdefault(tk, {}).setdefault(tid, [])
        backward = self._assoc[tk].setdefault(tid, {}).setdefault(fk, {}).setdefault(fid, [])
        for t in types:
            if t not in forward:
                forward.append(t)
            inverse = sch.INVERSE_TYPE[t]
            if inverse not in backward:
                backward.append(inverse)
        if source is not None:
            self._emit(
                fk,
                fid,
                "associationChange",
                source=source,
                extra={"toObjectId": tid, "associationType": type_id},
            )
