"""The check at the start of every ``sync`` and ``plan``: nothing is written or recorded until each
deal source's mapping and the ``[owners]`` table are known to be safe for the CRM.

``open_checked`` builds the connectors the run will use, checks ``[owners]`` offline, then each mapped
property against the connector's ``describe()`` (and the owners named by e-mail or id against the CRM's
owners, which the run needs anyway), and raises the first problem, naming the mapping file and line
(exit code 2), before the run is recorded, a ticket pulled or a task created. An instance whose check
fails on an API error (the CRM down) is reported failed by the run, which writes nothing to it. The
check's calls go through the connectors the run then uses, so ``sync --json`` counts them. A webhook
reconcile (a run over a few deals) reuses a check of the same runtime made within ``RECHECK_AFTER``.
A helpdesk the run writes organization fields to (a ``FIELD_SINK`` whose mapping has an
``[account.write]`` table, Zendesk's) is checked the same way, so a mapping that would overwrite an
agent's own organization field stops the run before its first write, as ``validate --remote`` says;
a helpdesk whose check could not be made (its API down) gets no write-back this run
(``unchecked``), the CRM's own work goes on. Called by ``Engine.run``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from onboard_sync.checks import check_instance, offline_problems, refuse
from onboard_sync.connector import Capability, Connector
from onboard_sync.errors import ApiError, UserError
from onboard_sync.records import ObjectKind, Owner
from onboard_sync.runtime import Runtime

RECHECK_AFTER = 600.0
"""Seconds a passed check stays good for webhook reconciles of the same runtime (``serve``'s worker)."""
LISTED = "`onboard-sync validate --remote` lists them all"


def open_checked(
    rt: Runtime,
    names: Sequence[str],
    build: Callable[[str], Connector],
    owners: Callable[[str, Connector], Mapping[str, Owner]],
    *,
    subset: bool = False,
) -> tuple[dict[str, Connector], dict[str, str]]:
    """The connectors of ``names`` (``build``), once their mappings and owners pass (``owners(name, c)``
    gives an instance's owners), and the instances whose check could not be made (an API error after
    the gate's retries), with why: the run must not write to those. On a problem in a mapping or in
    ``[owners]`` every connector is closed and the first problem raised."""
    problems, refs = offline_problems(rt)
    refuse(problems, listed=LISTED)
    connectors: dict[str, Connector] = {}
    unchecked: dict[str, str] = {}
    try:
        found: list[UserError] = []
        for name in [*names, *written_helpdesks(rt, names)]:
            connector = connectors[name] = build(name)
            if subset and time.monotonic() - connector.shared.get("checked_at", -RECHECK_AFTER) < RECHECK_AFTER:
                continue
            crm = name in names  # a deal source: its owners too; a helpdesk: its mapped fields only
            try:
                found += check_instance(
                    rt,
                    name,
                    connector,
                    refs=refs if crm else (),
                    owners=(lambda n=name, c=connector: owners(n, c)) if crm else None,
                )
            except ApiError as exc:
                unchecked[name] = (
                    f"stopped before writing anything: its mapping could not be checked ({exc})"
                    if crm
                    else f"no organization fields written this run: its mapping could not be checked ({exc})"
                )
        refuse(found, listed=LISTED)
    except BaseException:
        for connector in connectors.values():
            connector.close()
        raise
    for name, connector in connectors.items():
        if name not in unchecked:
            connector.shared["checked_at"] = time.monotonic()
    return connectors, unchecked


def written_helpdesks(rt: Runtime, names: Sequence[str]) -> list[str]:
    """The helpdesks (ticket sources that are field sinks and no deal source, as ``sync.writeback``
    writes to) whose mapping writes organization fields: the run may write to them, so their mapping
    is checked beside the deal sources ``names``."""
    crms = set(rt.instances_with(Capability.DEAL_SOURCE))
    sinks = set(rt.instances_with(Capability.FIELD_SINK)) & set(rt.instances_with(Capability.TICKET_SOURCE))
    return [
        name
        for name in rt.config.connectors
        if name in sinks
        and name not in crms
        and name not in names
        and (mapping := rt.mappings.get(name)) is not None
        and mapping.for_kind(ObjectKind.ACCOUNT).write
    ]
