"""The ``[serve]`` table of config.toml: where ``onboard-sync serve`` listens and how it receives.

Validated by ``config.load_config`` (unknown keys are errors naming file:line); read by
``webhooks.server``. Secrets are never here: a route names the environment variable that
holds its signing secret (``secret_env``), or the connector's default is used.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class WebhookRoute(BaseModel):
    """``[serve.webhooks.NAME]``: overrides for the route of connector instance NAME."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    scheme: str | None = Field(
        None,
        description="Verification scheme (built-in: hubspot, zendesk, salesforce-outbound, salesforce-flow; "
        "plugins add more); default: the one the connector declares.",
    )
    secret_env: str | None = Field(
        None, description="Environment variable holding the signing secret; default: the connector's."
    )
    organization_id: str | None = Field(
        None,
        description="For a scheme that checks the sender's account instead of a signature (salesforce-outbound): "
        "the id messages must carry (a Salesforce org id: 15 or 18 characters).",
    )
    max_age_seconds: float = Field(
        300.0, gt=0, le=3600, description="Oldest signed timestamp accepted (HubSpot specifies 5 minutes)."
    )
    enabled: bool = Field(True, description="false: no route for this instance.")


class ServeSettings(BaseModel):
    """``[serve]``: the webhook receiver and its reconcile worker."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    host: str = Field("127.0.0.1", description="Address to listen on (put a TLS proxy in front).")
    port: int = Field(8787, ge=0, le=65535, description="Port to listen on (0: any free port, printed).")
    full_sync_every_minutes: float = Field(
        15.0, ge=0, le=7 * 24 * 60, description="Minutes between full reconciles in the same process (0: never)."
    )
    max_body_bytes: int = Field(1_048_576, gt=0, description="Largest request body accepted; larger ones get 413.")
    public_url: str | None = Field(
        None,
        description="The public origin senders call (e.g. https://sync.example.com); signatures that "
        "cover the URL (HubSpot v2/v3) are checked against it.",
    )
    trust_forwarded_headers: bool = Field(
        False,
        description="Rebuild the public URL from X-Forwarded-Proto/X-Forwarded-Host (only behind a proxy "
        "that sets them).",
    )
    worker: Literal["process", "thread"] = Field(
        "process",
        description="Where the reconcile worker runs: its own process (the receiver's acks never wait "
        "behind evaluation) or a thread of the serve process.",
    )
    receiver_only: bool = Field(
        False,
        description="Only verify, persist and enqueue: reconciles run in `onboard-sync worker` processes "
        "(the durable engine); any number of receivers may share the store.",
    )
    coalesce_seconds: float = Field(
        0.1, ge=0, le=60, description="Wait after the first event so a burst becomes one reconcile."
    )
    webhooks: dict[str, WebhookRoute] = Field(default_factory=dict)
