"""Linking helpdesk organizations to CRM accounts: keys in order, and a reason for every miss."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from onboard_sync.linking import LinkSettings, link_accounts, normalise_domain
from onboard_sync.records import Account

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def crm(cid: str, domain: str | None) -> Account:
    return Account("hubspot", cid, NOW, f"Company {cid}", domain=domain)


def org(oid: str, **props: str) -> Account:
    return Account("zendesk", oid, NOW, f"Org {oid}", properties=props)


CRM = {
    "1": crm("1", "acme.com"),
    "2": crm("2", "https://www.Beta.io/"),
    "3": crm("3", "dup.com"),
    "4": crm("4", "dup.com"),
}


def test_keys_are_tried_in_order_and_every_miss_says_why() -> None:
    orgs = [
        org("a", external_id="1", domain_names="beta.io"),
        org("b", external_id="", domain_names="other.com beta.io"),
        org("c", external_id="999", domain_names="nowhere.com"),
        org("d", domain_names="dup.com"),
        org("e", crm_id="2"),
    ]
    links = {
        r.remote_id: r for r in link_accounts(orgs, CRM, LinkSettings(by=["external_id", "domain", "field:crm_id"]))
    }
    assert (links["a"].crm_account_id, links["a"].method) == ("1", "external_id")
    assert (links["b"].crm_account_id, links["b"].method) == ("2", "domain")
    assert links["c"].crm_account_id is None
    assert "external_id '999' is not a CRM account" in links["c"].detail
    assert "no tracked CRM account has domain nowhere.com" in links["c"].detail
    assert links["d"].crm_account_id is None
    assert "match several CRM accounts (3, 4)" in links["d"].detail
    assert (links["e"].crm_account_id, links["e"].method) == ("2", "field:crm_id")


def test_domain_only_linking_ignores_external_ids() -> None:
    [link] = link_accounts([org("a", external_id="1")], CRM, LinkSettings(by=["domain"]))
    assert link.crm_account_id is None
    assert link.detail == "no domain names"


def test_settings_validate_keys() -> None:
    with pytest.raises(ValidationError, match="unknown link key"):
        LinkSettings(by=["email"])
    with pytest.raises(ValidationError, match="at least one"):
        LinkSettings(by=[])
    assert normalise_domain("HTTP://www.Acme.COM/path") == "acme.com"
