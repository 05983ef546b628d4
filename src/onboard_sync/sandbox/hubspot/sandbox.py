"""``HubSpotSandbox``: a local HubSpot CRM served over real HTTP for the official SDK.

The public face of the HubSpot simulator, used by tests, the demo, benchmarks, the pytest plugin
(through ``create_sandbox``) and ``onboard-sync sandbox hubspot`` (through ``serve_forever``)::

    with HubSpotSandbox(seed=0, deals=50) as sb:
        client = HubSpot(access_token=sb.token, host=sb.base_url)
"""

from __future__ import annotations

import random
import sys
import uuid
from dataclasses import dataclass
from typing import Any

from onboard_sync.sandbox.clock import Clock, SandboxClock
from onboard_sync.sandbox.common import RequestLog
from onboard_sync.sandbox.faults import FaultInjector
from onboard_sync.sandbox.hubspot.app import hubspot_app
from onboard_sync.sandbox.hubspot.auth import TokenStore
from onboard_sync.sandbox.hubspot.backend import HubSpotBackend
from onboard_sync.sandbox.hubspot.webhooks import WebhookDelivery
from onboard_sync.sandbox.ratelimit import DailyCounter, RollingWindow
from onboard_sync.sandbox.server import ServedSandbox
from onboard_sync.server_thread import ServerThread

TOKEN_ENV = "HUBSPOT_TOKEN"
"""The environment variable ``connector_settings`` names for the token (the connector's default)."""
NOMINAL_BURST, NOMINAL_DAILY = (100, 10.0), 250_000  # header values when no limit is enforced


@dataclass
class Limits:
    burst: RollingWindow
    daily: DailyCounter
    search: RollingWindow | None

    def reset(self) -> None:
        self.burst.reset()
        self.daily.reset()
        if self.search is not None:
            self.search.reset()


class HubSpotSandbox(ServedSandbox):
    """A HubSpot portal simulator on ``127.0.0.1``. See the module docstring and ``seed.py`` for the data.

    ``rate_limit=(100, 10.0)`` enforces 100 requests per rolling 10 s per token (429
    TEN_SECONDLY_ROLLING); ``search_rate`` requests/s on search endpoints (429 SECONDLY);
    ``daily_limit`` requests per UTC day (429 DAILY); ``search_lag`` seconds before writes show in search.
    """

    def __init__(
        self,
        seed: int = 0,
        deals: int = 0,
        latency: float = 0.0,
        port: int = 0,
        clock: Clock | None = None,
        rate_limit: tuple[int, float] | None = None,
        search_rate: float | None = None,
        daily_limit: int | None = None,
        search_lag: float = 0.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.clock: Any = clock if clock is not None else SandboxClock()
        self.seed = seed
        self.latency = latency
        self.token = f"pat-na1-{uuid.UUID(int=random.Random(f'hubspot-token-{seed}').getrandbits(128))}"
        self.backend = HubSpotBackend(seed=seed, deals=deals, clock=self.clock, search_lag=search_lag)
        self.faults = FaultInjector(self.token)
        self.auth = TokenStore(self.token, self.clock)
        self.requests = RequestLog()
        burst_n, burst_window = rate_limit or NOMINAL_BURST
        self.limits = Limits(
            burst=RollingWindow(burst_n, burst_window, self.clock, enforce=rate_limit is not None),
            daily=DailyCounter(daily_limit or NOMINAL_DAILY, self.clock, enforce=daily_limit is not None),
            search=RollingWindow.per_second(search_rate, self.clock) if search_rate else None,
        )
        self.app = hubspot_app(self)
        self.webhooks = WebhookDelivery(self.backend)
        """Signed webhook delivery to subscribers: ``sb.webhooks.subscribe(url, client_secret)``."""
        self._server = ServerThread(self.app, host, port, name="hubspot-sandbox")

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> HubSpotSandbox:
        """Serve on loopback; returns once the server accepts connections."""
        self._server.start()
        return self

    def stop(self) -> None:
        self.webhooks.close()
        self._server.stop()

    @property
    def port(self) -> int | None:
        return self._server.port

    # -- wiring a connector (the ``Simulator`` protocol of ``onboard-sync sandbox``) ----------------
    def connector_settings(self) -> dict[str, Any]:
        """Settings of a ``type = "hubspot"`` connector on this sandbox (the token by its env name)."""
        return {"type": "hubspot", "base_url": self.base_url, "token_env": TOKEN_ENV}

    def connector_secrets(self) -> dict[str, str]:
        """The private-app token under the env name ``connector_settings`` uses."""
        return {TOKEN_ENV: self.token}

    def reset(self) -> None:
        """Back to the seeded state: data, faults, request log, rate-limit counters, OAuth tokens."""
        self.backend.reset()
        self.faults.clear()
        self.requests.clear()
        self.limits.reset()
        self.auth.reset()

    # -- knobs and introspection ------------------------------------------------------------------
    @property
    def search_lag(self) -> float:
        return self.backend.search_lag

    @search_lag.setter
    def search_lag(self, seconds: float) -> None:
        self.backend.search_lag = seconds

    def oauth_client(self, client_id: str, client_secret: str, *, expires_in: int | None = None) -> str:
        """Register an OAuth app; returns a refresh token for ``POST /oauth/v1/token``.
        Access tokens live ``expires_in`` seconds of sandbox time (default 1800)."""
        if expires_in is not None:
            self.auth.expires_in = expires_in
        return self.auth.add_client(client_id, client_secret)

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        return f"<HubSpotSandbox seed={self.seed} deals={len(self.backend.deals)} {where}>"


def create_sandbox(**kwargs: Any) -> HubSpotSandbox:
    """Factory for the ``register_simulators`` hook: ``create_sandbox(seed=0, deals=100, port=0)``."""
    return HubSpotSandbox(**kwargs)


def serve_forever(sb: HubSpotSandbox) -> None:
    """Start ``sb`` (if needed), print how to reach it, and block until Ctrl-C; then stop it."""
    if not sb.running:
        sb.start()
    print(
        f"HubSpot sandbox on {sb.base_url}  token {sb.token}  ({len(sb.backend.deals)} deals)",
        file=sys.stderr,
    )
    print("Press Ctrl-C to stop.", file=sys.stderr)
    sb._server.wait()


__all__ = ["HubSpotSandbox", "create_sandbox", "serve_forever"]
