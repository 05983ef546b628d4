"""A CRM sandbox in a child process, driven over a pipe: the benchmarks' CRM.

The bench runs the simulator in its own process so that its memory and CPU do not count
against the engine being measured (the engine runs in yet another child, ``onboard-sync sync``).
:class:`SandboxProcess` starts it, and forwards a few commands: request counts, clearing the
request log and rate-limit windows, resetting the data, and the "people in the CRM" edits of
the incremental scenarios. ``SandboxSpec(crm="salesforce")`` runs the Salesforce sandbox instead,
with the commands of :mod:`bench.sf_commands`. Called by the scenarios in :mod:`bench.scenarios`.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from bench.handoff_load import COMMANDS as HANDOFF_COMMANDS


@dataclass(frozen=True)
class SandboxSpec:
    """What the sandbox simulates: data size, latency, rate limits."""

    deals: int
    seed: int = 6
    latency: float = 0.04
    rate_limit: tuple[int, float] | None = (100, 10.0)
    search_rate: float | None = 5.0
    crm: str = "hubspot"
    """``hubspot`` or ``salesforce`` (HTTPS, no per-second limits: ``rate_limit`` and ``search_rate`` unused)."""
    helpdesk: bool = False
    """HubSpot only: a Zendesk sandbox beside it (``sb.zendesk``), its organizations the won deals' companies."""


def _start(spec: SandboxSpec) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The started sandbox, what the parent needs to reach it, and its command table."""
    if spec.crm == "salesforce":
        from bench.sf_commands import COMMANDS
        from onboard_sync.sandbox.salesforce import SalesforceSandbox

        sf = SalesforceSandbox(seed=spec.seed, deals=spec.deals, latency=spec.latency).start()
        hello = {"base_url": sf.base_url, "token": "", "settings": sf.connector_settings()}
        return sf, {**hello, "secrets": sf.connector_secrets()}, COMMANDS
    from onboard_sync.sandbox.hubspot import HubSpotSandbox

    sb = HubSpotSandbox(
        seed=spec.seed,
        deals=spec.deals,
        latency=spec.latency,
        rate_limit=spec.rate_limit,
        search_rate=spec.search_rate,
    )
    # the seeded records live as long as this process: keep the collector from walking them (at a
    # million deals one full collection took longer than the server's 10 s start on a loaded machine)
    gc.freeze()
    sb.start()
    hello: dict[str, Any] = {"base_url": sb.base_url, "token": sb.token}
    if spec.helpdesk:
        from onboard_sync.sandbox.zendesk import ZendeskSandbox, companies_from_hubspot

        sb.zendesk = ZendeskSandbox(seed=spec.seed, companies=companies_from_hubspot(sb), latency=spec.latency).start()
        hello["zendesk"] = {"base_url": sb.zendesk.base_url, "email": sb.zendesk.email, "token": sb.zendesk.api_token}
    return sb, hello, _COMMANDS


def answer_commands(conn: Connection, run: Callable[[str, tuple[Any, ...]], Any]) -> None:
    """Answer the parent's ``(command, args)`` messages with ``run`` until it sends ``stop``: each
    answer is ``("ok", result)``, or ``("error", text)`` if it raised (the child keeps serving)."""
    while True:
        command, args = conn.recv()
        if command == "stop":
            conn.send(None)
            return
        try:
            conn.send(("ok", run(command, args)))
        except Exception as exc:  # report it to the parent, keep serving
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _serve(spec: SandboxSpec, conn: Connection) -> None:
    sb, hello, commands = _start(spec)
    conn.send(hello)
    try:
        answer_commands(conn, lambda command, args: commands[command](sb, *args))
    finally:
        getattr(sb, "close", sb.stop)()
        if getattr(sb, "zendesk", None) is not None:
            sb.zendesk.stop()


def _deal_ids(sb: Any) -> list[str]:
    return sorted(sb.backend.deals)


def _counts(sb: Any) -> dict[str, int]:
    return dict(sb.request_counts())


def _summary(sb: Any) -> dict[str, Any]:
    counts: Counter[str] = sb.request_counts()
    statuses = Counter(r.status for r in sb.requests)
    return {
        "requests": sum(counts.values()),
        "by_route": dict(counts),
        "writes": len(sb.requests.writes()),
        "status": {str(k): v for k, v in statuses.items()},
    }


def _timeline(sb: Any) -> list[tuple[str, float, int, float | None]]:
    """Every request since the last ``clear``: ``(METHOD template, POSIX time answered, status, POSIX
    time received)``, to see where a run's time went (gaps between calls, how long each took, the last
    call against the run's end)."""
    return [
        (r.key, r.at.timestamp(), r.status, r.received.timestamp() if r.received else None) for r in list(sb.requests)
    ]


def _clear(sb: Any) -> None:
    sb.requests.clear()
    sb.limits.reset()


def _reset(sb: Any) -> None:
    sb.backend.reset()
    sb.faults.clear()
    _clear(sb)


def _facts(sb: Any) -> dict[str, Any]:
    """Counts the lower bounds are computed from."""
    deals = sb.backend.deals
    won = [d for d in deals.values() if d.properties.get("dealstage") == "closedwon"]
    companies = {c for d in won for c in sb.backend.associations("deals", d.id, "companies")[:1]}
    return {
        "deals": len(deals),
        "won": len(won),
        "won_companies": len(companies),
        "owners": len(sb.backend.owners),
        "tasks_with_key": sum(1 for t in sb.backend.tasks.values() if t.properties.get("onboard_sync_key")),
    }


def _modified_since(sb: Any, since_ms: int, tracked: list[str]) -> dict[str, int]:
    """What an incremental pull must read: deals and keyed tasks modified at or after ``since_ms``,
    and the companies of those deals that are won or ``tracked`` (onboardings)."""

    def modified(records: Any, keyed: bool = False) -> list[Any]:
        out = []
        for r in records:
            if keyed and not r.properties.get("onboard_sync_key"):
                continue
            raw = r.properties.get("hs_lastmodifieddate")
            if raw and _ms(raw) >= since_ms:
                out.append(r)
        return out

    deals = modified(sb.backend.deals.values())
    watched = set(tracked)
    relevant = [d for d in deals if d.properties.get("dealstage") == "closedwon" or d.id in watched]
    companies = {c for d in relevant for c in sb.backend.associations("deals", d.id, "companies")[:1]}
    return {
        "deals": len(deals),
        "relevant_deals": len(relevant),
        "companies": len(companies),
        "tasks": len(modified(sb.backend.tasks.values(), keyed=True)),
    }


def _ms(value: str) -> int:
    from datetime import datetime

    if value.isdigit():
        return int(value)
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def _change(sb: Any, deal_fraction: float, onboarding_fraction: float, seed: int) -> dict[str, int]:
    """People at work: edit ``deal_fraction`` of all deals (amount), and complete the open tasks of
    ``onboarding_fraction`` of the deals that carry onboard-sync tasks."""
    rnd = random.Random(seed)
    ids = sorted(sb.backend.deals)
    edited = rnd.sample(ids, max(1, round(len(ids) * deal_fraction))) if deal_fraction else []
    for deal_id in edited:
        amount = float(sb.backend.deals[deal_id].properties.get("amount") or 0)
        sb.backend.update("deals", deal_id, {"amount": f"{amount + 1:.2f}"})
    by_deal: dict[str, list[str]] = {}
    for task in sb.backend.tasks.values():
        key = task.properties.get("onboard_sync_key")
        if key and task.properties.get("hs_task_status") != "COMPLETED":
            deal = key.split(":")[1]
            by_deal.setdefault(deal, []).append(task.id)
    chosen = rnd.sample(sorted(by_deal), round(len(by_deal) * onboarding_fraction)) if by_deal else []
    completed = 0
    for deal_id in chosen:
        for task_id in by_deal[deal_id]:
            sb.backend.complete_task(task_id)
            completed += 1
    return {"deals_edited": len(edited), "onboardings_progressed": len(chosen), "tasks_completed": completed}


_COMMANDS: dict[str, Any] = {
    "counts": _counts,
    "summary": _summary,
    "clear": _clear,
    "reset": _reset,
    "facts": _facts,
    "modified_since": _modified_since,
    "change": _change,
    "deal_ids": _deal_ids,
    **HANDOFF_COMMANDS,
    "timeline": _timeline,
}


class SandboxProcess:
    """The sandbox child process; use as a context manager."""

    serve: Any = staticmethod(_serve)
    """What the child runs: ``serve(spec, conn)`` sends a greeting, then answers commands until "stop"."""

    def __init__(self, spec: Any) -> None:
        """``spec``: a :class:`SandboxSpec`, or whatever a subclass's ``serve`` takes."""
        self.spec = spec
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=self.serve, args=(spec, child), name="bench-sandbox", daemon=True)
        self.base_url = ""
        self.token = ""
        self.settings: dict[str, Any] = {}
        """Salesforce: the connector table (``connector_settings``) and the secrets by env name."""
        self.secrets: dict[str, str] = {}
        self.zendesk: dict[str, str] = {}
        """With ``helpdesk``: the Zendesk sandbox's ``base_url``, ``email`` and API ``token``."""

    def __enter__(self) -> SandboxProcess:
        self._proc.start()
        if not self._conn.poll(600):
            raise RuntimeError("the sandbox process did not start within 600 s")
        self.greeted(self._conn.recv())
        return self

    def greeted(self, hello: dict[str, Any]) -> None:
        """Keep what the child's greeting says about reaching it."""
        self.base_url, self.token = hello["base_url"], hello["token"]
        self.settings, self.secrets = hello.get("settings", {}), hello.get("secrets", {})
        self.zendesk = hello.get("zendesk", {})

    def __exit__(self, *exc: object) -> None:
        try:
            self._conn.send(("stop", ()))
            self._conn.poll(10)
        finally:
            self._proc.join(10)
            if self._proc.is_alive():
                self._proc.kill()

    def __call__(self, command: str, *args: Any) -> Any:
        self._conn.send((command, args))
        status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"sandbox command {command} failed: {value}")
        return value
