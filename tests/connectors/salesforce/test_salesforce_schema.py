"""What the Salesforce connector tells the mapping checks, against the sandbox over HTTPS: standard fields
are built in, the fields ``setup`` creates are onboard-sync's (its help text), and a field deleted after
the run checked it makes the collection update fail as a whole, naming the field, as Salesforce does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from onboard_sync.calls.gate import ApiGate
from onboard_sync.connector import FieldWrite, PropertySpec
from onboard_sync.connectors.salesforce import SalesforceConnector, SalesforceSettings
from onboard_sync.connectors.salesforce.base import record_results
from onboard_sync.connectors.salesforce.errors import unknown_fields
from onboard_sync.errors import UnknownPropertiesError
from onboard_sync.records import ObjectKind
from onboard_sync.sandbox.salesforce import SalesforceSandbox
from onboard_sync.sandbox.salesforce.schema import FieldDef


@pytest.fixture
def sandbox() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(seed=3, deals=10) as sb:
        yield sb


@pytest.fixture
def connector(sandbox: SalesforceSandbox) -> Iterator[SalesforceConnector]:
    settings = SalesforceSettings(**sandbox.connector_settings())
    gate = ApiGate(sleep=lambda seconds: None)
    connector = SalesforceConnector("salesforce", settings, sandbox.connector_secrets(), gate)
    gate.bind(connector.classify_error, connector.rate_limit(), instance="salesforce")
    yield connector
    connector.close()


def test_standard_fields_are_built_in_and_setup_fields_are_onboard_syncs(
    sandbox: SalesforceSandbox, connector: SalesforceConnector
) -> None:
    spec = PropertySpec(ObjectKind.DEAL, "Onboarding_Day__c", "Onboarding day", "number")
    assert connector.ensure_properties([spec], apply=True)[0].changed
    sandbox.backend.schema.add_custom_field("Opportunity", FieldDef("Plan_Tier__c", "string", label="Plan tier"))

    fields = connector.describe(ObjectKind.DEAL)

    assert (fields["Name"].built_in, fields["Name"].created_by_setup) == (True, False)
    assert (fields["StageName"].built_in, fields["StageName"].type) == (True, "enumeration")
    assert (fields["Onboarding_Day__c"].built_in, fields["Onboarding_Day__c"].created_by_setup) == (False, True)
    assert (fields["Plan_Tier__c"].built_in, fields["Plan_Tier__c"].created_by_setup) == (False, False)


def test_a_field_deleted_after_the_check_fails_the_whole_update_naming_it(
    sandbox: SalesforceSandbox, connector: SalesforceConnector
) -> None:
    spec = PropertySpec(ObjectKind.DEAL, "Onboarding_Day__c", "Onboarding day", "number")
    connector.ensure_properties([spec], apply=True)
    connector.describe(ObjectKind.DEAL)  # the run's check, which also fills the describe cache
    first, second = list(sandbox.backend.opportunities)[:2]
    del sandbox.backend.schema.objects["Opportunity"]["Onboarding_Day__c"]

    with pytest.raises(UnknownPropertiesError) as refused:
        connector.write_fields(
            ObjectKind.DEAL,
            [
                FieldWrite("a", ObjectKind.DEAL, first, {"Onboarding_Day__c": "3", "Amount": "100"}),
                FieldWrite("b", ObjectKind.DEAL, second, {"Amount": "200"}),
            ],
        )

    assert refused.value.properties == ("Onboarding_Day__c",)
    assert "'Onboarding_Day__c' does not exist in Salesforce" in str(refused.value)
    assert sandbox.backend.opportunities[second].get("Amount") != 200, "refused as a whole"


def test_per_record_and_request_answers_name_the_unknown_field() -> None:
    (result,) = record_results(
        ["k"],
        [
            {
                "success": False,
                "errors": [
                    {"statusCode": "INVALID_FIELD", "message": "No such column 'X__c' on sobject of type Account"}
                ],
            }
        ],
    )
    assert result.unknown_properties == ("X__c",)
    content = [{"errorCode": "INVALID_FIELD", "message": "No such column 'Y__c' on sobject of type Opportunity"}]
    refused = SalesforceMalformedRequest("url", 400, "composite", content)  # type: ignore[arg-type]
    assert unknown_fields(refused) == ("Y__c",)
    other = SalesforceMalformedRequest("url", 400, "composite", [{"errorCode": "MALFORMED_ID", "message": "bad"}])  # type: ignore[arg-type]
    assert unknown_fields(other) == ()


def test_owner_ids_are_user_ids() -> None:
    assert SalesforceConnector.looks_like_owner_id("005000000000001AAA")
    assert SalesforceConnector.looks_like_owner_id("005000000000001")
    assert not SalesforceConnector.looks_like_owner_id("deal_ownr")
    assert not SalesforceConnector.looks_like_owner_id("12345")
