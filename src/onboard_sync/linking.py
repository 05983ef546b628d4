"""Linking accounts across systems: which helpdesk organization is which CRM account.

A ticket source that is not the CRM (Zendesk) has its own organizations. Its connector table
in config.toml carries a ``[connectors.NAME.link]`` table (``LinkSettings``) that says how to
find the CRM account of each organization, tried in order:

* ``"external_id"``: the organization's ``external_id`` holds the CRM account (company) id;
* ``"domain"``: one of the organization's domain names is the CRM account's domain;
* ``"field:KEY"``: the organization field ``KEY`` holds the CRM account id.

:func:`link_accounts` is pure; ``sync.tickets`` calls it each run with the organizations and
the CRM accounts onboard-sync tracks, stores the outcome and reports every organization that
did not link, with the reason (never silently dropped).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from onboard_sync.records import Account

METHODS = ("external_id", "domain")


class LinkSettings(BaseModel):
    """``[connectors.NAME.link]``: how a helpdesk's organizations find their CRM accounts."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    crm: str | None = Field(None, description="The CRM connector instance to link to (default: the first deal source).")
    by: list[str] = Field(
        default_factory=lambda: ["external_id", "domain"],
        description='Keys tried in order: "external_id", "domain", "field:KEY".',
    )

    @field_validator("by")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("list at least one key: external_id, domain or field:KEY")
        for key in value:
            if key not in METHODS and not (key.startswith("field:") and len(key) > len("field:")):
                raise ValueError(f"unknown link key {key!r} (use external_id, domain or field:KEY)")
        return value


@dataclass(frozen=True, slots=True)
class Link:
    """One organization's outcome: ``crm_account_id`` is None when it did not link (``detail`` says why)."""

    remote_id: str
    name: str
    crm_account_id: str | None
    method: str | None
    detail: str = ""


def normalise_domain(value: str | None) -> str | None:
    """``https://www.Acme.com/`` → ``acme.com``; empty → None."""
    if not value:
        return None
    text = value.strip().lower()
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    text = text.split("/", 1)[0].removeprefix("www.")
    return text or None


def link_accounts(
    organizations: Iterable[Account], crm_accounts: Mapping[str, Account], settings: LinkSettings
) -> list[Link]:
    """Link each organization to a CRM account by the configured keys, or say why it did not."""
    by_domain: dict[str, list[str]] = {}
    for account in crm_accounts.values():
        domain = normalise_domain(account.domain)
        if domain:
            by_domain.setdefault(domain, []).append(account.id)
    links = []
    for org in organizations:
        links.append(_link_one(org, crm_accounts, by_domain, settings.by))
    return links


def _link_one(org: Account, crm: Mapping[str, Account], by_domain: Mapping[str, list[str]], keys: list[str]) -> Link:
    tried: list[str] = []
    for key in keys:
        if key == "domain":
            domains = [d for d in (normalise_domain(x) for x in _domains(org)) if d]
            if not domains:
                tried.append("no domain names")
                continue
            found = sorted({cid for d in domains for cid in by_domain.get(d, ())})
            if len(found) == 1:
                return Link(org.id, org.name, found[0], "domain")
            if len(found) > 1:
                tried.append(f"domains {', '.join(domains)} match several CRM accounts ({', '.join(found)})")
            else:
                tried.append(f"no tracked CRM account has domain {' or '.join(domains)}")
            continue
        field = "external_id" if key == "external_id" else key.removeprefix("field:")
        value = (org.properties.get(field) or "").strip()
        if not value:
            tried.append(f"{field} is empty")
        elif value in crm:
            return Link(org.id, org.name, value, key)
        else:
            tried.append(f"{field} {value!r} is not a CRM account onboard-sync tracks")
    return Link(org.id, org.name, None, None, "; ".join(tried) or "no link keys configured")


def _domains(org: Account) -> list[str]:
    listed = (org.properties.get("domain_names") or "").split()
    return [*listed, *([org.domain] if org.domain else [])]


__all__ = ["Link", "LinkSettings", "link_accounts", "normalise_domain"]
