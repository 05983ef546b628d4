"""The built-in HubSpot connector, on the official SDK ``hubspot-api-client``.

:mod:`.plugin` is the entry point; :class:`HubSpotConnector` and :class:`HubSpotSettings`
are the public names, imported on first use (``lazy_loader``; listed in ``__init__.pyi``) so that
loading the entry point stays cheap. See docs/connectors/hubspot.md for setting up a portal.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
