"""Settings of the Salesforce connector: one ``[connectors.NAME]`` table with ``type = "salesforce"``.

Read by :class:`onboard_sync.connectors.salesforce.connector.SalesforceConnector`. Secrets are never
settings: the model names the environment variables that hold them (client secret, password + security
token, JWT private key) and the connector reads them from its ``secrets`` mapping.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from onboard_sync.connector import ConnectorSettings


def starter_table(instance: str) -> str:
    """``[connectors.INSTANCE]`` for ``onboard-sync init --connector salesforce`` (JWT bearer)."""
    return f"""[connectors.{instance}]
type = "salesforce"
login_url = "https://login.salesforce.com"    # https://test.salesforce.com for a sandbox org
auth = "jwt"                                  # jwt (recommended), client_credentials or password
client_id = "REPLACE-with-the-consumer-key"   # of the connected app (docs/connectors/salesforce.md)
username = "REPLACE-with-the-integration-user@example.com"
private_key_env = "SALESFORCE_PRIVATE_KEY"    # the PEM key of the app's certificate, from this variable
"""


class SalesforceSettings(ConnectorSettings):
    """How to log in to one Salesforce org and which records to read."""

    type: Literal["salesforce"] = "salesforce"
    login_url: str = Field(
        "https://login.salesforce.com",
        description="Where to get tokens: https://login.salesforce.com, https://test.salesforce.com for a "
        "sandbox org, or your My Domain URL (required for client credentials).",
    )
    auth: Literal["jwt", "client_credentials", "password"] = Field(
        "jwt", description="OAuth flow: JWT bearer (recommended), client credentials, or username-password."
    )
    client_id: str = Field(..., description="Consumer key of the connected app (or External Client App).")
    client_secret_env: str = Field(
        "SALESFORCE_CLIENT_SECRET",
        description="Environment variable holding the consumer secret (client credentials, password).",
    )
    username: str | None = Field(None, description="Integration user's username (JWT bearer, password).")
    password_env: str = Field(
        "SALESFORCE_PASSWORD",
        description="Environment variable holding the password followed by the security token (password flow).",
    )
    private_key_env: str = Field(
        "SALESFORCE_PRIVATE_KEY",
        description="Environment variable holding the PEM private key whose certificate is on the connected "
        "app (JWT bearer), unless private_key_file is set.",
    )
    private_key_file: str | None = Field(None, description="Path of that PEM private key (JWT bearer).")
    audience: str | None = Field(
        None,
        description="JWT aud claim; default https://login.salesforce.com (https://test.salesforce.com when "
        "login_url is a test host, the login URL itself when it is not on salesforce.com).",
    )
    api_version: str = Field("59.0", description="REST API version.")
    opportunity_filter: str | None = Field(
        None,
        description="Extra SOQL condition ANDed to every Opportunity query, e.g. "
        "\"RecordType.DeveloperName = 'New_Business'\".",
    )
    task_key_field: str = Field(
        "OnboardSync_Key__c",
        description="Custom Task (Activity) field holding onboard-sync's idempotency key; an External ID when "
        "the org allows it (tasks are then upserted by it). Created by `onboard-sync setup`.",
    )
    task_what: Literal["opportunity", "account"] = Field(
        "opportunity", description="What a task's WhatId points at: the Opportunity or its Account."
    )
    read_cases: bool = Field(
        True,
        description="Read Cases as a ticket source for health and alerts (the integration user needs Read on Case).",
    )
    case_filter: str | None = Field(
        None,
        description="Extra SOQL condition ANDed to every Case query, e.g. \"RecordType.DeveloperName = 'Support'\".",
    )
    ca_bundle: str | None = Field(None, description="PEM CA bundle to trust (a private CA, the sandbox).")
    verify: bool = Field(True, description="Verify TLS certificates (leave on).")
    query_batch_size: int = Field(2000, ge=200, le=2000, description="Records per query page (200-2000).")
    timeout_seconds: float = Field(30.0, gt=0, le=600, description="Connect and read timeout of each request, seconds.")
    organization_id: str | None = Field(
        None,
        description="The org id (Setup > Company Information, 15 or 18 characters, 00D...). `onboard-sync serve` "
        "accepts only Outbound Messages that carry it.",
    )
    webhook_secret_env: str = Field(
        "SALESFORCE_WEBHOOK_SECRET",
        description="Environment variable holding the shared HMAC secret of signed JSON callouts "
        '(`[serve.webhooks.NAME] scheme = "salesforce-flow"`).',
    )

    @field_validator("login_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        value = value.rstrip("/")
        if not value.startswith("https://"):
            raise ValueError("login_url must start with https:// (Salesforce only speaks HTTPS)")
        return value

    @field_validator("task_key_field")
    @classmethod
    def _custom(cls, value: str) -> str:
        if not value.endswith("__c"):
            raise ValueError("task_key_field must be a custom field (ending in __c)")
        return value

    @field_validator("organization_id")
    @classmethod
    def _org_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not re.fullmatch(r"00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?", value):
            raise ValueError("organization_id must be the org id: 15 or 18 letters and digits starting with 00D")
        return value

    @model_validator(mode="after")
    def _user_for_flow(self) -> SalesforceSettings:
        # checked when config.toml loads (validate), not first at the login of a sync
        if self.auth != "client_credentials" and not self.username:
            raise ValueError(f"auth = {self.auth!r} needs 'username' (the integration user)")
        return self

    def jwt_audience(self) -> str:
        """The JWT ``aud`` claim for this login URL."""
        if self.audience:
            return self.audience
        host = self.login_url.removeprefix("https://").split("/")[0]
        if not host.endswith("salesforce.com"):
            return self.login_url
        return (
            "https://test.salesforce.com"
            if host.startswith("test.") or ".sandbox." in host
            else ("https://login.salesforce.com")
        )
