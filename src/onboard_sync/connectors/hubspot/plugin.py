"""Entry point of the built-in HubSpot connector (``[project.entry-points.onboard_sync] hubspot``).

Registers :class:`HubSpotConnector` and the HubSpot sandbox simulator. The sandbox is imported
only when a simulator is actually built, so loading plugins stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from onboard_sync.hookspecs import hookimpl

if TYPE_CHECKING:  # the connector (and its SDK) loads when a connector type is looked up
    from onboard_sync.connectors.hubspot.connector import HubSpotConnector
    from onboard_sync.webhooks.schemes import Scheme


def create_sandbox(**kwargs: Any) -> Any:
    """Build the HubSpot sandbox (``onboard_sync.sandbox.hubspot``) with the given options."""
    from onboard_sync.sandbox.hubspot import create_sandbox as create

    return create(**kwargs)


@hookimpl
def register_connectors(register: Callable[[type[HubSpotConnector]], None]) -> None:
    """Register the HubSpot connector type (``type = "hubspot"``)."""
    from onboard_sync.connectors.hubspot.connector import HubSpotConnector

    register(HubSpotConnector)


@hookimpl
def register_simulators(register: Callable[..., None]) -> None:
    """Register the HubSpot sandbox simulator."""
    register("hubspot", create_sandbox, default_port=8765)


@hookimpl
def register_webhook_schemes(register: Callable[[Scheme], None]) -> None:
    """Register HubSpot's webhook scheme (``hubspot``)."""
    from onboard_sync.connectors.hubspot.webhooks import HubSpotScheme

    register(HubSpotScheme())
