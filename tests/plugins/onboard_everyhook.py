"""A third-party plugin that implements every hook of ``onboard_sync.hookspecs``, for the hook tests.

Installed the way pip installs a plugin (a distribution whose ``entry_points.txt`` names this
module in the ``onboard_sync`` group: ``test_plugin_cli.py`` writes one) or registered in-process
(``test_plugin_hooks.py``). Every hook call is counted in ``CALLS``; what it contributes:

* ``relaycrm``, a ticket-source connector type with a starter table and a default mapping;
* the ``relaycrm`` simulator (``onboard-sync sandbox relaycrm``): a tiny JSON API on 127.0.0.1;
* the ``relay-hmac`` webhook scheme: JSON deliveries a relay forwards, signed with
  ``X-Relay-Signature: sha256=<hex HMAC-SHA256(secret, body)>``;
* the ``relay-ping`` command, the ``relay_upper`` transform, an ``engagement_score`` signal
  (``ENGAGEMENT``), and observers of every event and decision hook.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from onboard_sync import hookimpl
from onboard_sync.connector import Capability, Connector, ConnectorSettings
from onboard_sync.inbound import InboundEvent, Rejected, WebhookRequest, malformed
from onboard_sync.records import Account, Deal, Owner, Signal
from onboard_sync.webhooks.schemes import Scheme, SchemeOptions, parse_json

CALLS: Counter[str] = Counter()
"""How often each hook of this plugin was called."""
EVENTS: list[tuple[str, dict[str, Any]]] = []
"""The event hooks' calls in order: (hook name, its keyword arguments)."""
EVEN_DIGITS = "02468"
ENGAGEMENT = {"score": 55.0}
"""The engagement score the signal source reports for every account (below 70 raises an alert)."""


# --- a connector type with its starter table and default mapping -----------------------------------
class RelaySettings(ConnectorSettings):
    base_url: str = "http://127.0.0.1:8790"
    api_key_env: str = "RELAYCRM_API_KEY"


class RelayCrm(Connector):
    """A ticket source that accepts account fields (what ``init --connector relaycrm`` writes)."""

    type_name: ClassVar[str] = "relaycrm"
    version: ClassVar[str] = "0.3"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.TICKET_SOURCE, Capability.FIELD_SINK})
    settings_model: ClassVar[type[ConnectorSettings]] = RelaySettings
    webhook_scheme: ClassVar[str | None] = "relay-hmac"

    @classmethod
    def starter_config(cls, instance: str) -> str | None:
        return (
            f"[connectors.{instance}]\n"
            'type = "relaycrm"\n'
            'base_url = "http://127.0.0.1:8790"   # `onboard-sync sandbox relaycrm` prints yours\n'
            'api_key_env = "RELAYCRM_API_KEY"\n'
        )

    @classmethod
    def default_mapping(cls) -> str | None:
        return '[account.write]\nhealth_score = "relay_health"\n'


@hookimpl
def register_connectors(register: Callable[[type[Connector]], None]) -> None:
    CALLS["register_connectors"] += 1
    register(RelayCrm)


# --- a simulator --------------------------------------------------------------------------------
class RelaySimulator:
    """``GET /v1/health`` answers ``{"ok": true, "seed": N}`` to the right ``X-Api-Key``, 401 otherwise."""

    def __init__(self, seed: int = 0, deals: int = 0, latency: float = 0.0, port: int = 0) -> None:
        self.api_key = f"relay-key-{seed:04d}"
        self.seed, self.port = seed, port
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> RelaySimulator:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                ok = self.path == "/v1/health" and self.headers.get("X-Api-Key") == simulator.api_key
                body = json.dumps({"ok": True, "seed": simulator.seed} if ok else {"error": "unauthorized"}).encode()
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def connector_settings(self) -> dict[str, Any]:
        return {"type": "relaycrm", "base_url": self.base_url, "api_key_env": "RELAYCRM_API_KEY"}

    def connector_secrets(self) -> dict[str, str]:
        return {"RELAYCRM_API_KEY": self.api_key, "RELAYCRM_ADMIN_KEY": "never-printed"}


@hookimpl
def register_simulators(register: Callable[..., None]) -> None:
    CALLS["register_simulators"] += 1
    register("relaycrm", RelaySimulator, default_port=0)


# --- a webhook scheme -----------------------------------------------------------------------------
def relay_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class RelayScheme(Scheme):
    """``[{"id": "...", "object": "deal", "objectId": "123"}, ...]`` signed by the relay."""

    name = "relay-hmac"

    def verify(self, req: WebhookRequest, options: SchemeOptions) -> None:
        given = {k.lower(): v for k, v in req.headers.items()}.get("x-relay-signature", "")
        if not hmac.compare_digest(given.encode(), relay_signature(options.secret, req.body).encode()):
            raise Rejected(401, "bad-signature", "X-Relay-Signature does not match")

    def parse(self, req: WebhookRequest, options: SchemeOptions) -> list[InboundEvent]:
        items = parse_json(req.body)
        if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("objectId") for i in items):
            raise malformed("a relay delivery is a JSON array of objects with an objectId")
        return [
            InboundEvent(
                key=f"relay:{item.get('id')}",
                kind=str(item.get("object", "other")),
                object_id=str(item["objectId"]),
                type=f"{item.get('object', 'other')}.relayed",
                raw=item,
            )
            for item in items
        ]


@hookimpl
def register_webhook_schemes(register: Callable[[Scheme], None]) -> None:
    CALLS["register_webhook_schemes"] += 1
    register(RelayScheme())


# --- a command, a transform, a signal source --------------------------------------------------------
@hookimpl
def register_commands(cli: Any) -> None:
    CALLS["register_commands"] += 1

    @cli.command("relay-ping")
    def relay_ping() -> None:
        """Say that the relay plugin is installed."""
        print("pong from the relay plugin")


@hookimpl
def register_transforms(register: Callable[[str, Callable[[Any], Any]], None]) -> None:
    CALLS["register_transforms"] += 1
    register("relay_upper", lambda value: str(value).upper())


@hookimpl
def register_signals(register: Callable[[Callable[..., Any]], None]) -> None:
    CALLS["register_signals"] += 1

    def engagement(*, deal: Deal, account: Account | None, now: datetime) -> list[Signal]:
        return [] if account is None else [Signal("relay", account.id, "engagement_score", ENGAGEMENT["score"], now)]

    register(engagement)


# --- observers of decisions and events --------------------------------------------------------------
@hookimpl
def resolve_owner(
    role: str, deal: Deal, account: Account | None, owners: Mapping[str, Owner], settings: Mapping[str, Any]
) -> str | None:
    """The deal's own owner is its CSM (the ``csm`` role); other roles are left to the core's default."""
    CALLS["resolve_owner"] += 1
    EVENTS.append(("resolve_owner", {"role": role, "deal": deal}))
    return deal.owner_id if role == "csm" else None


@hookimpl
def resolve_segment(deal: Deal, account: Account | None) -> str | None:
    """Deals with an even id are enterprise customers; the playbook's rules decide the others."""
    CALLS["resolve_segment"] += 1
    return "enterprise" if deal.id[-1:] in EVEN_DIGITS else None


@hookimpl
def onboarding_transitioned(onboarding: Any, transition: Any) -> None:
    CALLS["onboarding_transitioned"] += 1
    EVENTS.append(("onboarding_transitioned", {"onboarding": onboarding, "transition": transition}))


@hookimpl
def alert_raised(onboarding: Any, alert: str, episode: int, title: str, task_key: str) -> None:
    CALLS["alert_raised"] += 1
    EVENTS.append(("alert_raised", {"onboarding": onboarding, "alert": alert, "episode": episode, "title": title}))


@hookimpl
def alert_cleared(onboarding: Any, alert: str, episode: int) -> None:
    CALLS["alert_cleared"] += 1
    EVENTS.append(("alert_cleared", {"onboarding": onboarding, "alert": alert, "episode": episode}))


@hookimpl
def sync_finished(report: Mapping[str, Any]) -> None:
    CALLS["sync_finished"] += 1
    EVENTS.append(("sync_finished", {"report": report}))
