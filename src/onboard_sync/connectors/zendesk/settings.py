"""Settings of a Zendesk connector instance (one ``[connectors.NAME]`` table with ``type = "zendesk"``).

Secrets are never settings: ``oauth_token_env`` / ``token_env`` / ``client_secret_env`` name the
environment variables that hold them. OAuth is first-class: Zendesk stopped issuing API tokens on
2026-10-27 and turns all of them off on 2027-04-30, so API-token auth is only for existing setups.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from onboard_sync.connector import ConnectorSettings
from onboard_sync.linking import LinkSettings


def starter_table(instance: str) -> str:
    """``[connectors.INSTANCE]`` for ``onboard-sync init --connector zendesk``."""
    return f"""[connectors.{instance}]
type = "zendesk"
subdomain = "REPLACE-with-your-subdomain"   # acme for acme.zendesk.com
oauth_token_env = "ZENDESK_OAUTH_TOKEN"   # an OAuth access token (API tokens end 2027-04-30)

[connectors.{instance}.link]          # how Zendesk organizations find their CRM companies
by = ["external_id", "domain"]        # external_id holds the CRM company id; else a matching domain
"""


class ZendeskSettings(ConnectorSettings):
    """``[connectors.zendesk]``. See docs/connectors/zendesk.md."""

    subdomain: str | None = Field(None, description="Your Zendesk subdomain: acme for acme.zendesk.com.")
    base_url: str | None = Field(None, description="API host instead of https://SUBDOMAIN.zendesk.com.")
    oauth_token_env: str = Field(
        "ZENDESK_OAUTH_TOKEN", description="Environment variable holding an OAuth access token (preferred)."
    )
    client_id: str | None = Field(None, description="OAuth client id (client-credentials or refresh grant).")
    client_secret_env: str = Field("ZENDESK_CLIENT_SECRET", description="Variable holding the OAuth secret.")
    refresh_token_env: str | None = Field(None, description="Variable holding an OAuth refresh token.")
    scope: str = Field("read write", description="OAuth scopes asked for with client credentials.")
    email: str | None = Field(None, description="Agent e-mail for API-token auth (legacy; ends 2027-04-30).")
    token_env: str = Field("ZENDESK_API_TOKEN", description="Variable holding an API token (legacy).")
    link: LinkSettings = Field(default_factory=LinkSettings, description="How organizations link to CRM accounts.")
    backfill_days: int = Field(365, ge=1, le=3650, description="How far back the first ticket export starts.")
    per_page: int = Field(1000, ge=1, le=1000, description="Records per incremental export page.")
    write_back: dict[str, str] = Field(
        default_factory=dict,
        description='Onboarding field -> organization field key to write (e.g. phase = "onboarding_phase").',
    )
    webhook_secret_env: str = Field(
        "ZENDESK_WEBHOOK_SECRET", description="Variable holding the webhook signing secret (onboard-sync serve)."
    )
    timeout_seconds: float = Field(30.0, gt=0, le=600, description="Connect and read timeout per request, in seconds.")

    @field_validator("base_url")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _host(self) -> ZendeskSettings:
        if not self.subdomain and not self.base_url:
            raise ValueError("set 'subdomain' (acme for acme.zendesk.com) or 'base_url'")
        return self

    @property
    def api_root(self) -> str:
        return self.base_url or f"https://{self.subdomain}.zendesk.com"


__all__ = ["ZendeskSettings"]
