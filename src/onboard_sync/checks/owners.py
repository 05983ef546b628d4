"""``[owners]`` in config.toml: every role must resolve to someone real.

A role's value is another declared role (an alias), ``deal_owner``, ``account_owner``,
``property:NAME``, an owner's e-mail or id, or a list of e-mails and ids (a pool). Offline,
:func:`check_owner_roles` refuses anything else (``deal_ownr`` is neither a keyword nor shaped like an
owner) and returns the e-mails and ids for :func:`check_owners_exist`, which looks them up among the
CRM's active owners. :func:`expand_aliases` replaces aliases by what they name, for the
``resolve_owner`` hook. Called by ``validate`` (offline and ``--remote``) and by ``sync.preflight``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from onboard_sync.config import AppConfig
from onboard_sync.errors import ConfigError
from onboard_sync.records import Owner

KEYWORDS = ("deal_owner", "account_owner")
PROPERTY_PREFIX = "property:"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

OwnerValue = str | list[str]


@dataclass(frozen=True, slots=True)
class OwnerRef:
    """An owner named in ``[owners]`` by e-mail or id, to be found in the CRM."""

    role: str
    value: str
    where: str


def check_owner_roles(
    config: AppConfig, roles: Collection[str], looks_like_id: Callable[[str], bool]
) -> tuple[list[ConfigError], list[OwnerRef]]:
    """The ``[owners]`` values that resolve to nothing (each naming config.toml's line), and the owners
    named by e-mail or id. ``roles`` are the playbook's roles; ``looks_like_id`` says whether a value has
    the shape of an owner id in one of the configured CRMs."""
    declared = set(roles) | set(config.owners)
    problems: list[ConfigError] = []
    refs: list[OwnerRef] = []
    for role, value in config.owners.items():
        where = config.where("owners", role)
        members = [value] if isinstance(value, str) else list(value)
        if not members:
            problems.append(ConfigError("an empty list: name at least one owner (e-mail or id)", where=where))
            continue
        for member in members:
            alone = isinstance(value, str)
            if alone and (member in KEYWORDS or member in declared):
                continue
            if alone and member.startswith(PROPERTY_PREFIX):
                if not member.removeprefix(PROPERTY_PREFIX).strip():
                    problems.append(ConfigError("'property:' names no property (property:NAME)", where=where))
                continue
            if EMAIL.match(member) or looks_like_id(member):
                refs.append(OwnerRef(role, member, where))
                continue
            problems.append(ConfigError(_not_an_owner(member, alone, declared), where=where))
    problems += _alias_loops(config, declared)
    return problems, refs


def _not_an_owner(member: str, alone: bool, declared: Collection[str]) -> str:
    if not alone:
        return f"{member!r} in this list is neither an owner's e-mail nor an owner id"
    known = [*KEYWORDS, *sorted(declared)]
    close = difflib.get_close_matches(member, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"{member!r} is neither a role ({', '.join(sorted(declared))}), deal_owner, account_owner, "
        f"property:NAME, nor an owner's e-mail or id{hint}"
    )


def _alias_loops(config: AppConfig, declared: Collection[str]) -> list[ConfigError]:
    problems = []
    for role in config.owners:
        seen = [role]
        value = config.owners.get(role)
        while isinstance(value, str) and value in declared and value not in KEYWORDS:
            if value in seen:
                chain = " → ".join([*seen, value])
                where = config.where("owners", role)
                problems.append(ConfigError(f"roles name each other in a loop ({chain})", where=where))
                break
            seen.append(value)
            value = config.owners.get(value)
    return problems


def expand_aliases(owners: Mapping[str, OwnerValue], roles: Collection[str]) -> dict[str, OwnerValue]:
    """``[owners]`` with every alias replaced by what its role resolves to (a declared role that is not
    configured is its deal's owner), so ``resolve_owner`` never takes a role name for an owner id."""
    declared = set(roles) | set(owners)
    out: dict[str, OwnerValue] = {}
    for role, value in owners.items():
        seen = {role}
        while isinstance(value, str) and value in declared and value not in KEYWORDS and value not in seen:
            seen.add(value)
            value = owners.get(value, "deal_owner")
        out[role] = "deal_owner" if isinstance(value, str) and value in seen else value
    return out


def owner_properties(owners: Mapping[str, OwnerValue]) -> tuple[str, ...]:
    """The deal or account properties that ``property:NAME`` roles read owner ids from."""
    named = [v for v in owners.values() if isinstance(v, str) and v.startswith(PROPERTY_PREFIX)]
    return tuple(dict.fromkeys(n for v in named if (n := v.removeprefix(PROPERTY_PREFIX)).strip()))


def check_owners_exist(refs: Sequence[OwnerRef], owners: Mapping[str, Owner], crm: str) -> list[ConfigError]:
    """The owners named by e-mail or id that are not active owners of ``crm`` (the connector instance)."""
    emails = {o.email.lower() for o in owners.values() if o.email and o.active}
    ids = {o.id for o in owners.values() if o.active}
    return [
        ConfigError(f"{ref.value!r} is not an active owner in {crm} (no owner has this e-mail or id)", where=ref.where)
        for ref in refs
        if ref.value not in ids and ref.value.lower() not in emails
    ]
