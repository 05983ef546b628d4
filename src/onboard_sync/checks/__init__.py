"""Checks that keep a bad configuration, mapping or ``[owners]`` table from reaching the CRM.

* :mod:`.config`: every reference, store and key of config.toml that can be told offline (what
  ``sync`` and ``serve`` would refuse): the runtime raises the first, ``validate`` lists them all.

* :mod:`.properties`: mapped properties against the CRM's schema (exists, holds the values written,
  is onboard-sync's to write unless the line says ``allow_overwrite = true``). Pure.
* :mod:`.owners`: ``[owners]`` roles resolve to a role, a keyword, a pool or a real CRM owner.
* :mod:`.runtime`: both for a loaded runtime and a live connector, for ``validate --remote`` and for the check at the
  start of every ``sync`` and ``plan`` (``sync.preflight``).
"""

from onboard_sync.checks.config import config_problems, raise_first, webhook_problems
from onboard_sync.checks.owners import check_owner_roles, check_owners_exist, expand_aliases, owner_properties
from onboard_sync.checks.properties import check_properties
from onboard_sync.checks.runtime import check_instance, offline_problems, refuse, remote_problems

__all__ = [
    "check_instance",
    "check_owner_roles",
    "check_owners_exist",
    "check_properties",
    "config_problems",
    "expand_aliases",
    "offline_problems",
    "owner_properties",
    "raise_first",
    "refuse",
    "remote_problems",
    "webhook_problems",
]
