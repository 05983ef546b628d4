"""The built-in HubSpot connector, on the official SDK ``hubspot-api-client``.

:mod:`.plugin` is the entry point; :class:`HubSpotConnector` and :class:`HubSpotSettings`
are the public names. See docs/connectors/hubspot.md for setting up a portal.
"""

from onboard_sync.connectors.hubspot.connector import HubSpotConnector
from onboard_sync.connectors.hubspot.properties import required_properties
from onboard_sync.connectors.hubspot.settings import HubSpotSettings

__all__ = ["HubSpotConnector", "HubSpotSettings", "required_properties"]
