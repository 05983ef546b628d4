"""The ToyCRM connector's settings: one ``[connectors.NAME]`` table of config.toml with ``type = "toycrm"``."""

from __future__ import annotations

from pydantic import Field

from onboard_sync import ConnectorSettings


class ToyCrmSettings(ConnectorSettings):
    """``[connectors.NAME]`` with ``type = "toycrm"``. Secrets are named by variable, never held."""

    base_url: str = Field(description="The ToyCRM API root, e.g. https://acme.toycrm.test.")
    client_id: str = Field(description="The OAuth client id of your ToyCRM integration.")
    client_secret_env: str = Field("TOYCRM_CLIENT_SECRET", description="Variable holding the client secret.")
    task_key_property: str = Field("onboard_sync_key", description="Unique task property holding the task key.")
    page_size: int = Field(100, ge=1, le=100, description="Records per search page.")
