"""The mapping and owner checks of a loaded runtime: offline, and against a live connector.

``validate`` calls :func:`offline_problems`; ``validate --remote`` calls :func:`remote_problems`
(every connector instance, authenticated first); ``sync`` and ``plan`` call :func:`check_instance` on
the connectors they are about to use (``sync.preflight``). :func:`refuse` turns a list of problems into
the one ``error: WHERE: WHAT`` line the CLI prints (exit code 2).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from onboard_sync.checks.owners import (
    PROPERTY_PREFIX,
    OwnerRef,
    check_owner_roles,
    check_owners_exist,
    owner_properties,
)
from onboard_sync.checks.properties import check_properties
from onboard_sync.connector import Capability, Connector, PropertySchema
from onboard_sync.errors import ConfigError, UserError
from onboard_sync.plugins import connector_type
from onboard_sync.records import ObjectKind, Owner

if TYPE_CHECKING:  # the runtime imports the config checks of this package
    from onboard_sync.runtime import Runtime

log = logging.getLogger(__name__)


def offline_problems(rt: Runtime) -> tuple[list[UserError], list[OwnerRef]]:
    """``[owners]`` values that resolve to nothing, and the owners named by e-mail or id (to find in the
    CRM). An id must have the shape of an owner id of one of the deal-source connector types."""
    types = [connector_type(rt.config.connectors[name].type).cls for name in rt.instances_with(Capability.DEAL_SOURCE)]

    def looks_like_id(value: str) -> bool:
        return any(t.looks_like_owner_id(value) for t in types) if types else Connector.looks_like_owner_id(value)

    problems, refs = check_owner_roles(rt.config, rt.playbook.roles, looks_like_id)
    return list(problems), refs


def check_instance(
    rt: Runtime,
    name: str,
    connector: Connector,
    *,
    refs: Sequence[OwnerRef] = (),
    owners: Callable[[], Mapping[str, Owner]] | None = None,
) -> list[UserError]:
    """Every mapped property of instance ``name`` against ``connector.describe()``; for a deal source
    (``owners`` given: the instance creates tasks) also the owners named in ``[owners]`` against
    ``owners()`` (called only when ``refs`` is not empty) and the properties of ``property:NAME`` roles.
    A connector that does not implement ``describe`` cannot be checked: logged, not refused."""
    mapping = rt.mappings[name]
    from_properties = owner_properties(rt.config.owners) if owners is not None else ()
    kinds = [k for k, obj in mapping.objects.items() if obj.write or obj.read]
    kinds += [ObjectKind.DEAL, ObjectKind.ACCOUNT] if from_properties else []
    schemas: dict[ObjectKind, dict[str, PropertySchema]] = {}
    try:
        for kind in dict.fromkeys(kinds):
            schemas[kind] = connector.describe(kind)
    except NotImplementedError:
        log.warning("%s: connector type %s cannot describe its properties: not checked", name, connector.type_name)
        schemas = {}
    problems: list[UserError] = list(check_properties(mapping, schemas, rt.playbook, crm=name))
    if schemas and from_properties:
        problems += _owner_property_problems(rt, name, schemas)
    if refs and owners is not None:
        problems += check_owners_exist(refs, owners(), name)
    return problems


def _owner_property_problems(
    rt: Runtime, name: str, schemas: Mapping[ObjectKind, Mapping[str, PropertySchema]]
) -> list[UserError]:
    """``property:NAME`` roles whose property is on neither the deals nor the accounts of ``name``."""
    known = set(schemas.get(ObjectKind.DEAL, {})) | set(schemas.get(ObjectKind.ACCOUNT, {}))
    return [
        ConfigError(
            f"CRM property {value.removeprefix(PROPERTY_PREFIX)!r} is on neither {name} deal nor account records",
            where=rt.config.where("owners", role),
        )
        for role, value in rt.config.owners.items()
        if isinstance(value, str)
        and value.startswith(PROPERTY_PREFIX)
        and value.removeprefix(PROPERTY_PREFIX) not in known
    ]


def remote_problems(rt: Runtime, say: Callable[[str], object]) -> list[UserError]:
    """``validate --remote``: authenticate every connector instance (``say`` reports each), then check its
    mapping and, for deal sources, the owners ``[owners]`` names. Offline problems come first."""
    problems, refs = offline_problems(rt)
    deal_sources = set(rt.instances_with(Capability.DEAL_SOURCE))
    for name in rt.config.connectors:
        connector = rt.connector(name)
        try:
            say(f"ok: {name}: authenticated ({connector.check_auth()})")
            owners = (lambda c=connector: {o.id: o for o in c.read_owners()}) if name in deal_sources else None
            problems += check_instance(rt, name, connector, refs=refs, owners=owners)
        finally:
            connector.close()
    return problems


def refuse(problems: Sequence[UserError], *, listed: str) -> None:
    """Raise the first problem, saying how many more there are and where they are ``listed``."""
    if not problems:
        return
    first, more = problems[0], len(problems) - 1
    if not more:
        raise first
    plural = "s" if more > 1 else ""
    raise type(first)(f"{first.message} (and {more} more problem{plural}: {listed})", where=first.where)
