"""Zendesk dialect of the sandbox: a local Zendesk Support account for the Zendesk connector.

Layout (like ``sandbox/hubspot``): ``backend.py`` state, ``seed.py`` data linked to a CRM's
companies, ``auth.py`` OAuth clients and tokens, ``responses.py`` the wire format, ``routes.py`` the
URL table, ``app.py`` the shared middleware with Zendesk's hooks, ``webhooks.py`` signed
deliveries, ``sandbox.py`` the facade that serves it on loopback.
"""

from onboard_sync.sandbox.zendesk.backend import ZendeskBackend
from onboard_sync.sandbox.zendesk.sandbox import ZendeskSandbox, create_sandbox, serve_forever
from onboard_sync.sandbox.zendesk.seed import companies_from_hubspot
from onboard_sync.sandbox.zendesk.webhooks import TEST_SECRET, WebhookEmitter, sign

__all__ = [
    "TEST_SECRET",
    "WebhookEmitter",
    "ZendeskBackend",
    "ZendeskSandbox",
    "companies_from_hubspot",
    "create_sandbox",
    "serve_forever",
    "sign",
]
