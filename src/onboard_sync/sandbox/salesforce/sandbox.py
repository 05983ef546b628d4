"""``SalesforceSandbox``: a local Salesforce org over real HTTPS for simple-salesforce and the connector.

The public face of the Salesforce simulator, used by tests, the demo, the pytest plugin (through
``create_sandbox``) and ``onboard-sync sandbox salesforce`` (through ``serve_forever``)::

    with SalesforceSandbox(seed=0, deals=50) as sb:
        settings = sb.connector_settings()          # login_url, client_id, ca_bundle …
        secrets = sb.connector_secrets()            # the client secret under its env name

A CA is generated at start (``sb.ca_bundle``); trust it with ``session.verify = sb.ca_bundle`` and
``session.trust_env = False`` (requests ignores ``verify`` when REQUESTS_CA_BUNDLE is set).
"""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from onboard_sync.sandbox.clock import Clock, SandboxClock
from onboard_sync.sandbox.common import RequestLog, RequestRecord
from onboard_sync.sandbox.faults import FaultInjector
from onboard_sync.sandbox.ratelimit import DailyCounter
from onboard_sync.sandbox.salesforce.app import MAX_REQUEST_HEAD, salesforce_app
from onboard_sync.sandbox.salesforce.auth import ConnectedApp, SessionStore, make_app
from onboard_sync.sandbox.salesforce.backend import SalesforceBackend
from onboard_sync.sandbox.salesforce.errors import sf_id
from onboard_sync.sandbox.salesforce.outbound import OutboundMessages
from onboard_sync.sandbox.salesforce.tls import Certificates, make_certificates
from onboard_sync.sandbox.server import ServedSandbox
from onboard_sync.server_thread import ServerThread

SECRET_ENV = "ONBOARD_SYNC_DEMO_SALESFORCE_SECRET"
"""Environment variable the demo and the test projects put the connected app's secret in."""
NOMINAL_DAILY = 100_000
ORG_KEY = "account"
"""The key the daily limit counts under (the middleware's default limit key: one org per sandbox)."""
ORGANIZATION_ID = sf_id("00D", 1)
"""The sandbox org's id (18 characters): in the token answer's identity URL and ``connector_settings``."""


class SalesforceRequestLog(RequestLog):
    """The request log; ``writes()`` leaves out logins and read-only calls."""

    def writes(self) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self if r.method != "GET" and "/oauth2/" not in r.template]


@functools.cache
def _connected_app(seed: int) -> ConnectedApp:
    return make_app(seed)  # an RSA key takes ~0.1 s: one per seed and process


class SalesforceSandbox(ServedSandbox):
    """A Salesforce org simulator on ``https://127.0.0.1:PORT``. See ``seed.py`` for the data.

    ``daily_limit`` enforces that many API requests per sandbox day (403 REQUEST_LIMIT_EXCEEDED);
    ``session_ttl`` is the session timeout in seconds of sandbox time; ``tooling=False`` makes the
    Tooling API refuse (an org where the integration user may not customise); ``task_external_id=False``
    makes Task custom fields plain fields (no upsert by key); ``query_batch_size`` caps query pages (in
    records, subqueries' children included); ``child_batch_size`` is how many children a record's nested
    subquery result carries before it is cut (``done: false`` with its own ``nextRecordsUrl``).
    """

    def __init__(
        self,
        seed: int = 0,
        deals: int = 0,
        latency: float = 0.0,
        port: int = 0,
        clock: Clock | None = None,
        daily_limit: int | None = None,
        session_ttl: float = 7200.0,
        tooling: bool = True,
        task_external_id: bool = True,
        query_batch_size: int = 2000,
        child_batch_size: int = 200,
        api_version: str = "59.0",
        host: str = "127.0.0.1",
    ) -> None:
        self.clock: Any = clock if clock is not None else SandboxClock()
        self.seed = seed
        self.latency = latency
        self.api_version = api_version
        self.host = host
        self.tooling_allowed = tooling
        self.organization_id = ORGANIZATION_ID
        self.daily = DailyCounter(daily_limit or NOMINAL_DAILY, self.clock, enforce=daily_limit is not None)
        """API requests per sandbox day (enforced only when ``daily_limit`` was given)."""
        self.app_credentials = _connected_app(seed)
        self.backend = SalesforceBackend(
            seed=seed,
            deals=deals,
            clock=self.clock,
            task_external_id=task_external_id,
            query_batch_size=query_batch_size,
            child_batch_size=child_batch_size,
        )
        self.integration_user = next(iter(self.backend.users))
        self.sessions = SessionStore(self.app_credentials, self.clock, session_ttl)
        self.faults = FaultInjector()
        self.requests = SalesforceRequestLog()
        self._folder = Path(tempfile.mkdtemp(prefix="sf-sandbox-"))
        self.certificates: Certificates = make_certificates(self._folder, host)
        self.outbound = OutboundMessages(self)
        """Outbound Messages to an endpoint, as Salesforce sends them: ``sb.outbound.subscribe(url)``."""
        self.app = salesforce_app(self)
        self._server = ServerThread(
            self.app,
            host,
            port,
            name="salesforce-sandbox",
            ssl_certfile=str(self.certificates.cert_file),
            ssl_keyfile=str(self.certificates.key_file),
            max_request_head=4 * MAX_REQUEST_HEAD,  # so that the app answers 414/431 as Salesforce does
        )

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> SalesforceSandbox:
        """Serve HTTPS on loopback; returns once the server accepts connections."""
        self._server.start()
        return self

    def stop(self) -> None:
        self.outbound.close()
        self._server.stop()

    def close(self) -> None:
        """Stop and delete the generated certificates."""
        self.stop()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def ca_bundle(self) -> str:
        """Path of the PEM CA bundle that signed the server certificate."""
        return str(self.certificates.ca_bundle)

    @property
    def audiences(self) -> tuple[str, ...]:
        """JWT ``aud`` values the token endpoint accepts."""
        return (self.base_url, "https://login.salesforce.com", "https://test.salesforce.com")

    def reset(self) -> None:
        """Back to the seeded state: data, faults, request log, API usage, sessions."""
        self.backend.reset()
        self.integration_user = next(iter(self.backend.users))
        self.faults.clear()
        self.requests.clear()
        self.sessions.reset()
        self.daily.reset()

    # -- API usage --------------------------------------------------------------------------------
    @property
    def daily_limit(self) -> int:
        return self.daily.limit

    @property
    def enforce_daily(self) -> bool:
        """Whether the daily limit refuses requests (``False``: only counted, as on a new day in tests)."""
        return self.daily.enforce

    @enforce_daily.setter
    def enforce_daily(self, enforce: bool) -> None:
        self.daily.enforce = enforce

    def usage(self) -> int:
        """API requests counted today."""
        return self.daily.used(ORG_KEY)

    def use_up_daily_limit(self, leave: int = 0) -> None:
        """Make today's usage reach the daily limit, leaving ``leave`` requests (enforces the limit)."""
        self.daily.use_up(ORG_KEY, leave)

    def expire_sessions(self, after_requests: int | None = None) -> None:
        """Invalidate every session now, or after ``after_requests`` more authenticated requests."""
        if after_requests is None:
            self.sessions.expire_all()
        else:
            self.sessions.expire_after(after_requests)

    # -- wiring a connector -----------------------------------------------------------------------
    def connector_settings(self, auth: str = "client_credentials", **overrides: Any) -> dict[str, Any]:
        """Settings of a ``type = "salesforce"`` connector on this sandbox (``auth``: jwt, password, …)."""
        settings: dict[str, Any] = {
            "type": "salesforce",
            "login_url": self.base_url,
            "auth": auth,
            "client_id": self.app_credentials.consumer_key,
            "client_secret_env": SECRET_ENV,
            "ca_bundle": self.ca_bundle,
            "api_version": self.api_version,
            "organization_id": self.organization_id,
        }
        if auth in ("jwt", "password"):
            settings["username"] = self.app_credentials.username
        return {**settings, **overrides}

    def connector_secrets(self) -> dict[str, str]:
        """The secrets a connector on this sandbox needs, by the env names ``connector_settings`` uses."""
        return {
            SECRET_ENV: self.app_credentials.consumer_secret,
            "SALESFORCE_PASSWORD": self.app_credentials.password,
            "SALESFORCE_PRIVATE_KEY": self.app_credentials.private_key_pem,
        }

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        return f"<SalesforceSandbox seed={self.seed} opportunities={len(self.backend.opportunities)} {where}>"


def create_sandbox(**kwargs: Any) -> SalesforceSandbox:
    """Factory for the ``register_simulators`` hook: ``create_sandbox(seed=0, deals=100, port=0)``."""
    return SalesforceSandbox(**kwargs)


def serve_forever(sb: SalesforceSandbox) -> None:
    """Start ``sb`` (if needed), print how to reach it, and block until Ctrl-C; then stop it."""
    if not sb.running:
        sb.start()
    app = sb.app_credentials
    print(f"Salesforce sandbox on {sb.base_url} ({len(sb.backend.opportunities)} opportunities)", file=sys.stderr)
    print(f"  CA bundle: {sb.ca_bundle}", file=sys.stderr)
    print(f"  client_id: {app.consumer_key}  client secret: {app.consumer_secret}", file=sys.stderr)
    print("Press Ctrl-C to stop.", file=sys.stderr)
    try:
        sb._server.wait()
    finally:
        sb.close()


__all__ = ["ORGANIZATION_ID", "SECRET_ENV", "SalesforceSandbox", "create_sandbox", "serve_forever"]
