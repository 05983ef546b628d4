"""The Salesforce sandbox's SOQL parser and evaluator, on their own and through simple-salesforce."""

from __future__ import annotations

from datetime import UTC, date, datetime

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
    ],
)
def test_malformed_queries_are_refused_with_a_caret(bad: str) -> None:
    with pytest.raises(SoqlError) as info:
        parse(bad)
    assert info.value.code == "MALFORMED_QUERY"


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
