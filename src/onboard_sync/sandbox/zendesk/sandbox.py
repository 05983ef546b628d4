"""``ZendeskSandbox``: a local Zendesk Support account served over real HTTP on 127.0.0.1.

Used by tests, the pytest plugin and ``create_sandbox`` (the ``register_simulators`` hook)::

    with ZendeskSandbox(seed=0, companies=companies_from_hubspot(hubspot)) as zd:
        ...  # zd.base_url, zd.email, zd.api_token, zd.oauth_client(...), zd.backend, zd.faults

Knobs: ``latency`` (seconds per request), ``clock`` (shared with the HubSpot sandbox to move
time), ``rate_limit`` (requests per minute; enforced only when given), ``export_limit``
(incremental exports per minute, 10 like Zendesk, always enforced), ``faults`` (fail the next
requests with a status and Retry-After), ``requests`` (the request log), ``webhooks`` (signed
deliveries to a URL).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from onboard_sync.sandbox.clock import Clock, SandboxClock
from onboard_sync.sandbox.common import RequestLog
from onboard_sync.sandbox.faults import FaultInjector
from onboard_sync.sandbox.ratelimit import RollingWindow
from onboard_sync.sandbox.server import ServedSandbox
from onboard_sync.sandbox.zendesk.app import zendesk_app
from onboard_sync.sandbox.zendesk.auth import OAuth
from onboard_sync.sandbox.zendesk.backend import ZendeskBackend
from onboard_sync.sandbox.zendesk.seed import Company, populate
from onboard_sync.sandbox.zendesk.webhooks import WebhookEmitter
from onboard_sync.server_thread import ServerThread

TOKEN_ENV = "ZENDESK_API_TOKEN"
"""The environment variable ``connector_settings`` names for the API token (the connector's default)."""


@dataclass
class Limits:
    """Requests per rolling minute: the account-wide limit and the incremental-export limit."""

    minute: RollingWindow
    export: RollingWindow


class ZendeskSandbox(ServedSandbox):
    """A Zendesk account simulator on loopback. See the module docstring."""

    def __init__(
        self,
        seed: int = 0,
        companies: Sequence[Company] = (),
        orphans: int = 2,
        latency: float = 0.0,
        port: int = 0,
        clock: Clock | None = None,
        rate_limit: int | None = None,
        export_limit: int = 10,
        host: str = "127.0.0.1",
        **_: Any,
    ) -> None:
        self.clock: Any = clock if clock is not None else SandboxClock()
        self.seed = seed
        self.latency = latency
        self.email = "admin@sandbox.example"
        self.api_token = f"zd-api-{seed:04d}-sandbox-token"
        self.companies = list(companies)
        self.orphans = orphans
        self.backend = ZendeskBackend(self.clock)
        self.faults = FaultInjector(self.api_token)
        self.auth = OAuth(self.clock)
        self.requests = RequestLog()
        self.limits = Limits(
            minute=RollingWindow(rate_limit or 700, 60.0, self.clock, enforce=rate_limit is not None),
            export=RollingWindow(export_limit, 60.0, self.clock),
        )
        self.webhooks = WebhookEmitter(self.clock)
        populate(self.backend, seed, self.companies, orphans)
        self.app = zendesk_app(self)
        self._server = ServerThread(self.app, host, port, name="zendesk-sandbox")

    @property
    def token(self) -> str:
        """The API token, as ``api_token`` (OAuth via ``oauth_client``)."""
        return self.api_token

    def start(self) -> ZendeskSandbox:
        self._server.start()
        return self

    # -- wiring a connector (the ``Simulator`` protocol of ``onboard-sync sandbox``) ----------------
    def connector_settings(self) -> dict[str, Any]:
        """Settings of a ``type = "zendesk"`` connector on this sandbox (API-token auth)."""
        return {"type": "zendesk", "base_url": self.base_url, "email": self.email, "token_env": TOKEN_ENV}

    def connector_secrets(self) -> dict[str, str]:
        """The API token under the env name ``connector_settings`` uses."""
        return {TOKEN_ENV: self.api_token}

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Back to the seeded state."""
        self.backend.reset()
        populate(self.backend, self.seed, self.companies, self.orphans)
        self.faults.clear()
        self.requests.clear()
        self.limits.minute.reset()
        self.limits.export.reset()

    def oauth_client(self, client_id: str, client_secret: str, *, expires_in: int | None = None) -> str:
        """Register an OAuth client; returns a refresh token. Access tokens live ``expires_in`` s."""
        if expires_in is not None:
            self.auth.expires_in = expires_in
        return self.auth.add_client(client_id, client_secret)

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        return f"<ZendeskSandbox seed={self.seed} orgs={len(self.backend.organizations)} {where}>"


def create_sandbox(**kwargs: Any) -> ZendeskSandbox:
    """Factory for the ``register_simulators`` hook: ``create_sandbox(seed=0, port=0)``."""
    kwargs.pop("deals", None)
    return ZendeskSandbox(**kwargs)


def serve_forever(sb: ZendeskSandbox) -> None:
    if not sb.running:
        sb.start()
    print(f"Zendesk sandbox on {sb.base_url}  email {sb.email}  api token {sb.api_token}", file=sys.stderr)
    sb._server.wait()


__all__ = ["ZendeskSandbox", "create_sandbox", "serve_forever"]
