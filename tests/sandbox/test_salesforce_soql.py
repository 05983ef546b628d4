"""The Salesforce sandbox's SOQL parser and evaluator, on their own and through simple-salesforce."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from onboard_sync.sandbox.salesforce import SalesforceBackend, SfError
from onboard_sync.sandbox.salesforce.soql import BoolOp, Comparison, SoqlError, matches, parse


def test_parse_fields_relationships_where_order_limit() -> None:
    q = parse(
        "select Id, Account.Name, Owner.Email FROM Opportunity WHERE (IsWon = TRUE OR Amount >= 100000.5) "
        "AND SystemModstamp >= 2026-01-05T09:30:00Z AND CloseDate < 2026-02-01 AND Name LIKE 'Acme\\'s%' "
        "AND StageName NOT IN ('Closed Lost', 'Prospecting') AND AccountId != null "
        "ORDER BY SystemModstamp DESC NULLS LAST, Id LIMIT 10 OFFSET 5"
    )
    assert q.fields == ("Id", "Account.Name", "Owner.Email")
    assert q.sobject == "Opportunity"
    assert isinstance(q.where, BoolOp)
    assert q.where.op == "AND"
    ors = q.where.items[0]
    assert isinstance(ors, BoolOp)
    assert ors.op == "OR"
    assert Comparison("SystemModstamp", ">=", datetime(2026, 1, 5, 9, 30, tzinfo=UTC)) in q.where.items
    assert Comparison("CloseDate", "<", date(2026, 2, 1)) in q.where.items
    assert Comparison("Name", "LIKE", "Acme's%") in q.where.items
    assert q.order_by[0].descending
    assert q.order_by[0].nulls_last
    assert (q.limit, q.offset) == (10, 5)


@pytest.mark.parametrize(
    "bad",
    [
        "SELECT FROM Task",
        "SELECT Id Task",
        "SELECT Id FROM Task WHERE",
        "SELECT Id FROM Task WHERE (A = 1",
        "SELECT Id FROM Task WHERE A IN 1",
        "SELECT Id FROM Task LIMIT x",
        "SELECT Id FROM Task WHERE A = 'x\\q'",
        # subqueries: unclosed, empty, without fields, with OFFSET; and nested, which the sandbox does not do
        "SELECT Id, (SELECT Id FROM OpportunityContactRoles FROM Opportunity",
        "SELECT Id, () FROM Opportunity",
        "SELECT Id, (SELECT FROM OpportunityContactRoles) FROM Opportunity",
        "SELECT Id, (SELECT Id FROM OpportunityContactRoles OFFSET 1) FROM Opportunity",
        "SELECT Id, (SELECT Id, (SELECT Id FROM Tasks) FROM Contacts) FROM Account",
    ],
)
def test_malformed_queries_are_refused_with_a_caret(bad: str) -> None:
    with pytest.raises(SoqlError) as info:
        parse(bad)
    assert info.value.code == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:" in str(info.value) or "Illegal character sequence" in str(info.value)


def test_offsets_with_and_without_colon_are_the_same_instant() -> None:
    a = parse("SELECT Id FROM Task WHERE SystemModstamp > 2026-01-05T10:30:00+01:00").where
    b = parse("SELECT Id FROM Task WHERE SystemModstamp > 2026-01-05T09:30:00.000+0000").where
    assert a.value == b.value


def test_evaluation_semantics() -> None:
    row = {"Name": "ACME Labs", "Amount": 5, "Owner": None, "When": datetime(2026, 1, 5, 12, tzinfo=UTC)}
    where = parse(
        "SELECT Id FROM X WHERE Name = 'acme labs' AND Owner = null AND Amount IN (1, 5) AND When >= 2026-01-05"
    ).where
    assert matches(where, row.get)
    assert not matches(parse("SELECT Id FROM X WHERE NOT (Name LIKE 'acme%')").where, row.get)


def test_backend_checks_names_and_pages_with_locators() -> None:
    backend = SalesforceBackend(seed=5, deals=30, query_batch_size=4)
    with pytest.raises(SfError) as info:
        backend.query("SELECT Nope__c FROM Opportunity", "/services/data/v59.0")
    assert info.value.code == "INVALID_FIELD"
    with pytest.raises(SfError) as info:
        backend.query("SELECT Id FROM Nothing", "/services/data/v59.0")
    assert info.value.code == "INVALID_TYPE"
    first = backend.query("SELECT Id, Account.Name FROM Opportunity ORDER BY Id", "/services/data/v59.0")
    ids = [r["Id"] for r in first["records"]]
    page = first
    while not page["done"]:
        page = backend.query_more(page["nextRecordsUrl"].rsplit("/", 1)[1], "/services/data/v59.0")
        ids += [r["Id"] for r in page["records"]]
    assert ids == sorted(backend.opportunities, key=str.lower), "text sorts case-insensitively"
    assert first["totalSize"] == len(ids) == 30
    assert first["records"][0]["Account"]["Name"]


def test_in_over_strings_is_a_case_insensitive_set_lookup_and_mixed_lists_still_compare() -> None:
    ids = parse("SELECT Id FROM Account WHERE Id IN ('001A', '001b') AND Name NOT IN ('x')").where
    assert matches(ids, {"Id": "001a", "Name": "y"}.get)
    assert matches(ids, {"Id": "001B", "Name": "Y"}.get)
    assert not matches(ids, {"Id": "001c", "Name": "y"}.get)
    assert not matches(ids, {"Id": "001a", "Name": "X"}.get)
    amounts = parse("SELECT Id FROM Opportunity WHERE Amount IN (100, 200.5)").where
    assert matches(amounts, {"Amount": 200.5}.get)
    assert not matches(amounts, {"Amount": None}.get)


# --- parent-to-child subqueries ----------------------------------------------------------------------
P = "/services/data/v59.0"
ROLES = "(SELECT ContactId, IsPrimary FROM OpportunityContactRoles WHERE IsPrimary = true ORDER BY Id LIMIT 1)"


def test_parse_subqueries_in_the_select_list() -> None:
    q = parse(f"SELECT Id, {ROLES}, Account.Name FROM Opportunity WHERE IsWon = true")
    assert q.fields == ("Id", "Account.Name")
    assert q.where_fields == ("IsWon",), "a subquery's WHERE fields are its own"
    (sub,) = q.subqueries
    assert sub.sobject == "OpportunityContactRoles"
    assert sub.fields == ("ContactId", "IsPrimary")
    assert sub.where == Comparison("IsPrimary", "=", True)
    assert sub.where_fields == ("IsPrimary",)
    assert (sub.order_by[0].field, sub.limit) == ("Id", 1)


@pytest.mark.parametrize(
    ("bad", "code", "says"),
    [
        # the object's name is not its relationship name; a parent is not a child relationship
        (
            "SELECT Id, (SELECT Id FROM OpportunityContactRole) FROM Opportunity",
            "INVALID_TYPE",
            "Didn't understand relationship 'OpportunityContactRole' in FROM part of query call",
        ),
        (
            "SELECT Id, (SELECT Name FROM Account) FROM Opportunity",
            "INVALID_TYPE",
            "Didn't understand relationship 'Account' in FROM part",
        ),
        (
            "SELECT Id, (SELECT Nope FROM OpportunityContactRoles) FROM Opportunity",
            "INVALID_FIELD",
            "No such column 'Nope' on entity 'OpportunityContactRole'",
        ),
        (
            "SELECT Id, (SELECT Id FROM OpportunityContactRoles WHERE Nope = 1) FROM Opportunity",
            "INVALID_FIELD",
            "No such column 'Nope'",
        ),
        (
            "SELECT Id, OpportunityContactRoles.ContactId FROM Opportunity",
            "INVALID_FIELD",
            "Didn't understand relationship 'OpportunityContactRoles' in field path",
        ),
    ],
)
def test_the_backend_refuses_subqueries_salesforce_refuses(bad: str, code: str, says: str) -> None:
    backend = SalesforceBackend(seed=5, deals=10)
    with pytest.raises(SfError) as info:
        backend.query(bad, P)
    assert info.value.code == code
    assert says in info.value.message


def test_subquery_results_are_nested_query_results_and_null_without_children() -> None:
    backend = SalesforceBackend(seed=5, deals=20)
    roles = backend.records["OpportunityContactRole"]
    bare = sorted(backend.opportunities)[0]
    for role_id in [i for i, r in roles.items() if r["OpportunityId"] == bare]:
        del roles[role_id]
    answer = backend.query(
        "SELECT Id, (SELECT ContactId, IsPrimary, Contact.Email FROM OpportunityContactRoles ORDER BY IsPrimary DESC) "
        "FROM Opportunity ORDER BY Id",
        P,
    )
    rows = {r["Id"]: r for r in answer["records"]}
    assert rows[bare]["OpportunityContactRoles"] is None, "no children: null, as Salesforce renders it"
    some = next(r for i, r in rows.items() if i != bare)
    nested = some["OpportunityContactRoles"]
    expected = [r for r in roles.values() if r["OpportunityId"] == some["Id"]]
    assert nested["totalSize"] == len(expected)
    assert nested["done"] is True
    assert nested["records"][0]["IsPrimary"] is True, "the subquery's ORDER BY applies per parent"
    assert nested["records"][0]["attributes"]["type"] == "OpportunityContactRole"
    assert nested["records"][0]["Contact"]["Email"], "child-to-parent fields inside a subquery"
    primaries = backend.query(
        "SELECT Id, (SELECT ContactId FROM OpportunityContactRoles WHERE IsPrimary = false) FROM Opportunity", P
    )
    assert all(
        r["OpportunityContactRoles"] is None or r["OpportunityContactRoles"]["totalSize"] >= 1
        for r in primaries["records"]
    )
    assert sum(r["OpportunityContactRoles"] is not None for r in primaries["records"]) < len(rows)


def test_children_count_toward_the_batch_size_and_a_long_child_list_is_paged() -> None:
    backend = SalesforceBackend(seed=5, deals=30, query_batch_size=4, child_batch_size=2)
    opp = sorted(backend.opportunities)[0]
    contact = next(iter(backend.records["Contact"]))
    for _ in range(3):  # 1-2 seeded roles + 3 more: more than child_batch_size
        backend.insert("OpportunityContactRole", {"OpportunityId": opp, "ContactId": contact})
    soql = "SELECT Id, (SELECT Id FROM OpportunityContactRoles ORDER BY Id) FROM Opportunity ORDER BY Id"
    page = backend.query(soql, P)
    seen: list[dict[str, Any]] = []
    while True:
        records = sum(1 + len((r["OpportunityContactRoles"] or {"records": []})["records"]) for r in page["records"])
        assert page["records"], "at least one row a page"
        assert records <= 4 or len(page["records"]) == 1, "at most a batch of records, children included"
        seen += page["records"]
        if page["done"]:
            break
        page = backend.query_more(page["nextRecordsUrl"].rsplit("/", 1)[1], P)
    assert [r["Id"] for r in seen] == sorted(backend.opportunities, key=str.lower)
    long = next(r for r in seen if r["Id"] == opp)["OpportunityContactRoles"]
    everyone = sorted(i for i, r in backend.records["OpportunityContactRole"].items() if r["OpportunityId"] == opp)
    assert long["done"] is False
    assert long["totalSize"] == len(everyone)
    assert len(long["records"]) == 2
    ids = [r["Id"] for r in long["records"]]
    more: dict[str, Any] = {"done": False, "nextRecordsUrl": long["nextRecordsUrl"]}
    while not more["done"]:
        more = backend.query_more(more["nextRecordsUrl"].rsplit("/", 1)[1], P)
        ids += [r["Id"] for r in more["records"]]
    assert ids == sorted(everyone, key=str.lower), "the nested result's own locator reads the rest"


def test_describe_lists_child_relationships() -> None:
    backend = SalesforceBackend(seed=5, deals=5)
    described = backend.schema.describe("Opportunity", P)["childRelationships"]
    roles = next(r for r in described if r["relationshipName"] == "OpportunityContactRoles")
    assert (roles["childSObject"], roles["field"]) == ("OpportunityContactRole", "OpportunityId")
    assert {r["relationshipName"] for r in backend.schema.describe("Account", P)["childRelationships"]} >= {
        "Contacts",
        "Opportunities",
        "Cases",
    }
