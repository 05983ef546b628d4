"""The check at the start of every ``sync`` and ``plan``: nothing is written or recorded until each
deal source's mapping and the ``[owners]`` table are known to be safe for the CRM.

``open_checked`` builds the connectors the run will use, checks ``[owners]`` offline, then each mapped
property against the connector's ``describe()`` (and the owners named by e-mail or id against the CRM's
owners, which the run needs anyway), and raises the first problem, naming the mapping file and line
(exit code 2), before the run is recorded, a ticket pulled or a task created. Its calls go through the
connectors the run then uses, so ``sync --json`` counts them. A webhook reconcile (a run over a few
deals) reuses a check of the same runtime made within ``RECHECK_AFTER``. Called by ``Engine.run``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from onboard_sync.checks import check_instance, offline_problems, refuse
from onboard_sync.connector import Connector
from onboard_sync.errors import UserError
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
) -> dict[str, Connector]:
    """The connectors of ``names`` (``build``), once their mappings and owners pass; ``owners(name, c)``
    gives an instance's owners. On any problem every connector is closed and the first problem raised."""
    problems, refs = offline_problems(rt)
    refuse(problems, listed=LISTED)
    connectors: dict[str, Connector] = {}
    try:
        found: list[UserError] = []
        for name in names:
            connector = connectors[name] = build(name)
            if subset and time.monotonic() - connector.shared.get("checked_at", -RECHECK_AFTER) < RECHECK_AFTER:
                continue
            found += check_instance(rt, name, connector, refs=refs, owners=lambda n=name, c=connector: owners(n, c))
        refuse(found, listed=LISTED)
    except BaseException:
        for connector in connectors.values():
            connector.close()
        raise
    for connector in connectors.values():
        connector.shared["checked_at"] = time.monotonic()
    return connectors
