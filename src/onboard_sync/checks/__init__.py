"""Checks that keep a mapping or an ``[owners]`` table from damaging the CRM.

* :mod:`.properties`: mapped properties against the CRM's schema (exists, holds the values written,
  is onboard-sync's to write unless the line says ``allow_overwrite = true``). Pure.
* :mod:`.owners`: ``[owners]`` roles resolve to a role, a keyword, a pool or a real CRM owner.
* :mod:`.runtime`: both for a loaded runtime and a live connector, for ``validate --remote`` and for the check at the
  start of every ``sync`` and ``plan`` (``sync.preflight``).
"""

from onboard_sync.checks.owners import check_owner_roles, check_owners_exist, expand_aliases, owner_properties
from onboard_sync.checks.properties import check_properties
from onboard_sync.checks.runtime import check_instance, offline_problems, refuse, remote_problems

__all__ = [
    "check_instance",
    "check_owner_roles",
    "check_owners_exist",
    "check_properties",
    "expand_aliases",
    "offline_problems",
    "owner_properties",
    "refuse",
    "remote_problems",
]
