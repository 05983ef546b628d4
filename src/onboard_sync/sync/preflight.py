"""The check at the start of every ``sync`` and ``plan``: nothing is written or recorded until each
deal source's mapping and the ``[owners]`` table are known to be safe for the CRM.

``open_checked`` builds the connectors the run will use, checks ``[owners]`` offline, then each mapped
property against the connector's ``describe()`` (and the owners named by e-mail or id against the CRM's
owners, which the run needs anyway), and raises the first problem, naming the mapping file and line
(exit code 2), before the run is recorded, a ticket pulled or a task created. An instance whose check
fails on an API error (the CRM down) is reported failed by the run, which writes nothing to it. The
check's calls go through the connectors the run then uses, so ``sync --json`` counts them. A webhook
reconcile (a run over a few deals) reuses a check of the same runtime made within ``RECHECK_AFTER``.
Called by ``Engine.run``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from onboard_sync.checks import check_instance, offline_problems, refuse
from onboard_sync.connector import Connector
from onboard_sync.errors import ApiError, UserError
from onboard_sync.records import Owner
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
        for name in names:
            connector = connectors[name] = build(name)
            if subset and time.monotonic() - connector.shared.get("checked_at", -RECHECK_AFTER) < RECHECK_AFTER:
                continue
            try:
                found += check_instance(rt, name, connector, refs=refs, owners=lambda n=name, c=connector: owners(n, c))
            except ApiError as exc:
                unchecked[name] = f"stopped before writing anything: its mapping could not be checked ({exc})"
        refuse(found, listed=LISTED)
    except BaseException:
        for connector in connectors.values():
            connector.close()
        raise
    for name, connector in connectors.items():
        if name not in unchecked:
            connector.shared["checked_at"] = time.monotonic()
    return connectors, unchecked
