"""Settings of the HubSpot connector: one ``[connectors.NAME]`` table with ``type = "hubspot"``.

Read by :class:`onboard_sync.connectors.hubspot.connector.HubSpotConnector`. Secrets are never
settings: the model names the environment variables that hold them (private-app token, or the
OAuth client secret and refresh token) and the connector reads them from its ``secrets`` mapping.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from onboard_sync.connector import ConnectorSettings


def starter_table(instance: str) -> str:
    """``[connectors.INSTANCE]`` for ``onboard-sync init --connector hubspot``."""
    return f"""[connectors.{instance}]
type = "hubspot"
token_env = "HUBSPOT_TOKEN"           # a private-app token, read from this environment variable
# client_id = "..."                   # an OAuth app instead: client_secret_env, refresh_token_env
pipeline = "default"                  # the deal pipeline to follow
won_stages = ["closedwon"]            # deal stages that start an onboarding
lost_stages = ["closedlost"]          # deal stages that cancel it
"""


class HubSpotSettings(ConnectorSettings):
    """How to reach one HubSpot portal and how to read its pipeline."""

    type: Literal["hubspot"] = "hubspot"
    base_url: str = Field(
        "https://api.hubapi.com",
        description="API host, without a trailing slash (a sandbox URL in tests and demos).",
    )
    token_env: str = Field(
        "HUBSPOT_TOKEN",
        description="Environment variable holding the private-app access token (unless client_id is set).",
    )
    client_id: str | None = Field(
        None,
        description="OAuth app client id. When set, the connector refreshes access tokens with OAuth "
        "instead of using a private-app token.",
    )
    client_secret_env: str = Field(
        "HUBSPOT_CLIENT_SECRET", description="Environment variable holding the OAuth app client secret."
    )
    refresh_token_env: str = Field(
        "HUBSPOT_REFRESH_TOKEN",
        description="Environment variable holding the OAuth refresh token of the installed portal.",
    )
    pipeline: str | None = Field("default", description="Deal pipeline id to read (None: every pipeline).")
    won_stages: tuple[str, ...] = Field(
        ("closedwon",), description="Deal stage ids that count as won (start an onboarding)."
    )
    lost_stages: tuple[str, ...] = Field(
        ("closedlost",), description="Deal stage ids that count as lost (cancel an onboarding)."
    )
    search_requests_per_second: float = Field(
        5.0,
        gt=0,
        le=10_000,
        description="CRM search calls allowed in any rolling second; HubSpot limits search to 5 requests/s "
        "per account, separately from the 10-second burst limit.",
    )
    task_key_property: str = Field(
        "onboard_sync_key",
        description="Custom task property (unique value) holding onboard-sync's idempotency key; "
        "created by `onboard-sync setup`.",
    )
    property_group: str = Field(
        "onboarding", description="Property group that `onboard-sync setup` creates properties in."
    )
    closed_ticket_stages: list[str] = Field(
        default_factory=lambda: ["4"],
        description="Ticket pipeline stages that mean solved/closed (HubSpot's default pipeline: 4, Closed).",
    )
    read_tickets: bool = Field(True, description="Read HubSpot tickets as a ticket source for health.")
    timeout_seconds: float = Field(
        30.0, gt=0, le=600, description="Connect and read timeout of each HTTP request, in seconds."
    )

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")
