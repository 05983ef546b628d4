"""HubSpot dialect of the sandbox: a local HubSpot CRM the official ``hubspot-api-client`` talks to.

Public API (a contract used by the connector, the engine, the pytest plugin and the CLI)::

    from onboard_sync.sandbox.hubspot import HubSpotSandbox, create_sandbox, serve_forever

Layout (moto-style): ``backend.py`` state and behaviour, ``seed.py`` deterministic data, ``schema.py``
portal metadata, ``responses_*.py`` + ``wire.py`` + ``search.py`` the wire format, ``routes.py`` the
URL table, ``app.py`` the shared middleware with HubSpot's hooks, ``sandbox.py`` the facade that
runs it all on loopback.
"""

from onboard_sync.sandbox.hubspot.backend import HubSpotBackend
from onboard_sync.sandbox.hubspot.models import CS_TEAM, SALES_TEAM, ChangeEvent, Owner, Record
from onboard_sync.sandbox.hubspot.sandbox import HubSpotSandbox, create_sandbox, serve_forever

__all__ = [
    "CS_TEAM",
    "SALES_TEAM",
    "ChangeEvent",
    "HubSpotBackend",
    "HubSpotSandbox",
    "Owner",
    "Record",
    "create_sandbox",
    "serve_forever",
]
