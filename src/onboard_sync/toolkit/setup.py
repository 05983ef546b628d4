"""``onboard-sync setup`` for a connector: create the properties that are missing, and only say so
when asked to look (``apply=False``: ``setup --dry-run``).

:func:`ensure_properties` describes each object kind once, reports what exists, and calls the
connector's ``create`` for the rest: the whole of a connector's ``ensure_properties`` when its vendor
creates a property with one call (the toycrm example, Zendesk's organization fields).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from onboard_sync.connector import PropertySchema, PropertySpec, SetupAction
from onboard_sync.records import ObjectKind


def ensure_properties(
    specs: Sequence[PropertySpec],
    describe: Callable[[ObjectKind], Mapping[str, PropertySchema]],
    create: Callable[[PropertySpec], str | None],
    *,
    apply: bool,
    what: Callable[[PropertySpec], str] = lambda spec: f"{spec.kind} property {spec.name}",
) -> list[SetupAction]:
    """One action per spec: exists (done), would create (``apply`` False: ``pending``), or created by
    ``create(spec)`` (a gated write; it may return what it made, e.g. ``"organization field x (text)"``;
    the action, "created …", is then ``changed``).
    ``what`` names a property in those lines as the vendor's admins know it."""
    have: dict[ObjectKind, Mapping[str, PropertySchema]] = {}
    actions = []
    for spec in specs:
        if spec.kind not in have:
            have[spec.kind] = describe(spec.kind)
        name = what(spec)
        if spec.name in have[spec.kind]:
            actions.append(SetupAction(f"{name} exists", done=True))
        elif not apply:
            actions.append(SetupAction(f"would create {name}", done=False, pending=True))
        else:
            # a sentence without its subject: ``setup`` prints it as it is ("toycrm: created deal property x")
            actions.append(SetupAction(f"created {create(spec) or name}", done=True, changed=True))
    return actions


__all__ = ["ensure_properties"]
