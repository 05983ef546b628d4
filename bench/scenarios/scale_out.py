"""scale-out: rate-limited portals reconciled by 1, 2 and 4 worker hosts; how many portals one worker keeps current.

Hosts are network namespaces on this machine (:mod:`onboard_sync.testing.hosts`), each running one
``onboard-sync worker --concurrency C``; they share a throwaway PostgreSQL (store and engine) and M
HubSpot sandbox portals served by one child process (:mod:`bench.portals_proc`), all on the hosts'
gateway address. Default scale: M = 16 portals of 100 deals, 40 ms latency, each limited to 7
requests per rolling 10 s (HubSpot's window, its 100 requests scaled down so that a portal of a
hundred deals, a dozen calls, is bound by its limit as a real portal of thousands is; each
connector instance paces itself to it with ``requests_per_second = 0.7``), C = 2 reconciles per
worker side by side: 8 reconciles in turn per slot on 1 host, 2 on 4. ``--quick``: M = 4, C = 1.

**Backfill rows** (one per worker count, same data each time: portals reset, a new database): the
wall time from enqueuing one reconcile per portal until the last one ended; the API calls against
the lower bound summed over the portals (:func:`bench.bounds.backfill_lower_bound`, plus the
ticket pull a HubSpot instance's reconcile makes for health: a tickets search, their companies);
the rate-limit bound of the time: a portal needing k limited calls (search has its own limit, not
enforced here) needs at least ``(ceil(k ÷ 7) − 1) × 10 s`` plus one latency, and ``n × C``
reconciles run at a time, so the run needs at least ``max(longest portal, sum over portals ÷
(n × C))``; 429s; CPU seconds of the workers, PostgreSQL and the portals' process during the run.
**speed-up** row: time of 1 host ÷ time of 4 hosts, measured in this run; target ≥ 3.2 (4 hosts in
≤ 1/3.2 of the time).

**Capacity row**: one worker with C = 8 on 8 portals of 1,000 deals (``--quick``: 4 of 300), after
their backfill (limits off, not measured), on incremental runs with 1 % of each portal's deals
changed (and 1 % of onboardings progressed), limits on. The first incremental round after the
backfill re-reads every deal the backfill wrote within the look-back (a schedule sees that once):
it runs first as a warm-up and is not counted. Its CPU per run is the worker process's CPU time
during the measured rounds ÷ the runs (from /proc, startup excluded); a 15-minute schedule
leaves 900 CPU seconds per worker (one core: the GIL), so it keeps ``floor(900 ÷ CPU per run)``
portals current, as long as its concurrency covers ``portals × wall per run ÷ 900`` (wall per
run: the round's time ÷ its waves of 8), which the row states. Target ≥ 1,000. PostgreSQL's and
the portals' CPU are reported beside it, not counted in it. A reconcile that does not end ``ok``
(or ``nothing-new``) makes the row's status a failure, so no figure stands on failed runs.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import bounds
from bench.measure import run_cli
from bench.portals_proc import PortalsProcess, PortalsSpec, process_cpu_seconds
from bench.scenarios import Scenario
from bench.workers import stop_workers, wait_for_heartbeats

CAPACITY_CONCURRENCY = 8
"""Reconciles side by side in the capacity round (the worker's default). Above 12 the worker's store
connection pool (SQLAlchemy's 5 + 10 overflow) runs dry: reconciles wait 30 s for a connection and fail."""
SCHEDULE_S = 900
"""Seconds between two runs of a portal on a 15-minute schedule."""


@dataclass(frozen=True)
class Scale:
    portals: int
    deals: int
    concurrency: int
    limit: int = 7
    """Requests per rolling ``window`` seconds, per portal (the sandbox enforces it, the connector paces to it)."""
    window: float = 10.0
    hosts: tuple[int, ...] = (1, 2, 4)
    latency: float = 0.04
    capacity_rounds: int = 2
    capacity_portals: int = 8
    capacity_deals: int = 1_000
    """The capacity round's portals: bigger, so that 1 % changed is ten deals, not one."""

    @classmethod
    def of(cls, ctx: Any) -> Scale:
        if getattr(ctx, "quick", False):
            return cls(portals=4, deals=100, concurrency=1, capacity_rounds=1, capacity_portals=4, capacity_deals=300)
        return cls(portals=16, deals=100, concurrency=2)

    @property
    def rate_limit(self) -> tuple[int, float]:
        return self.limit, self.window

    def portal_bound(self, calls: int) -> float:
        """Least seconds for ``calls`` rate-limited calls to one portal: ``limit`` may go at once, then
        each further ``limit`` waits a window; plus the last answer's latency."""
        return (math.ceil(calls / self.limit) - 1) * self.window + self.latency if calls else 0.0


def _unavailable() -> str | None:
    from onboard_sync.testing import hosts, pgserver

    reason = hosts.unavailable() or pgserver.unavailable()
    if reason:
        return reason
    try:
        import onboard_sync.durable.triggers  # noqa: F401
    except ImportError as exc:
        return f"the durable engine is not installed ({exc})"
    return None


def scale_out(ctx: Any) -> list[dict[str, Any]]:
    reason = _unavailable()
    if reason:
        return [{"scenario": "scale-out", "status": "not available", "note": reason}]
    from onboard_sync.testing.hosts import HostNetwork
    from onboard_sync.testing.pgserver import PostgresServer

    scale = Scale.of(ctx)
    rows: list[dict[str, Any]] = []
    with (
        HostNetwork(max(scale.hosts)) as net,
        PostgresServer(listen=net.gateway, trust=str(net.subnet)) as pg,
        tempfile.TemporaryDirectory(prefix="bench-scale-out-") as tmp,
    ):
        spec = PortalsSpec(scale.portals, scale.deals, net.gateway, scale.latency, scale.rate_limit)
        with PortalsProcess(spec) as portals:
            ctx.log(
                f"scale-out: {scale.portals} portals × {scale.deals} deals, {scale.limit} requests per "
                f"{scale.window:g} s, latency {scale.latency * 1000:.0f} ms, {scale.concurrency} per worker"
            )
            run = Run(ctx, scale, net, pg, portals, Path(tmp))
            for n in scale.hosts:
                rows.append(run.backfill(n))
            rows.append(_speedup(rows, scale))
        ctx.log(f"capacity: {scale.capacity_portals} portals × {scale.capacity_deals:,} deals")
        spec = PortalsSpec(scale.capacity_portals, scale.capacity_deals, net.gateway, scale.latency, scale.rate_limit)
        with PortalsProcess(spec) as portals:
            rows.append(Run(ctx, scale, net, pg, portals, Path(tmp)).capacity())
    return rows


class Run:
    """The shared pieces of one scale-out run: hosts, server, portals, a folder."""

    def __init__(self, ctx: Any, scale: Scale, net: Any, pg: Any, portals: PortalsProcess, folder: Path) -> None:
        self.ctx, self.scale, self.net, self.pg, self.portals, self.folder = ctx, scale, net, pg, portals, folder
        self.project: Path | None = None

    # -- a project per round ----------------------------------------------------------------------
    def fresh_project(self, name: str, *, limited: bool = True) -> Path:
        """The portals back at their seeded data with the CRM set up (limits off meanwhile), a new
        database migrated, and a config whose connectors pace themselves to the portals' limit
        (``limited=False``: limits stay off and the connectors are not paced; :meth:`limit` later)."""
        from onboard_sync.store import Store
        from onboard_sync.testing.portals import write_portals_config

        self.portals.each("reset")
        self.portals.each("enforce_limits", False)
        url = self.pg.create_database(name)
        project = self.folder / name
        write_portals_config(project, url, self.portals.base_urls, self.portals.secrets)
        setup = run_cli(project, {}, "setup")
        if setup.returncode != 0:
            raise RuntimeError(f"onboard-sync setup failed: {setup.stderr}")
        Store.open(url).close()  # migrate once, before the workers start together
        self.project = project
        if limited:
            self.limit()
        self.portals.each("clear")
        return project

    def limit(self) -> None:
        """Portals enforce their limit from now on, and the project's connectors pace themselves to it
        (workers started after this read it)."""
        from onboard_sync.testing.portals import write_portals_config

        assert self.project is not None
        pace = f"requests_per_second = {self.scale.limit / self.scale.window:g}\n"
        url = self.store_url()
        write_portals_config(self.project, url, self.portals.base_urls, self.portals.secrets, connector=pace)
        self.portals.each("enforce_limits", True)

    def start_workers(self, count: int, concurrency: int) -> list[subprocess.Popen[bytes]]:
        assert self.project is not None
        procs = []
        for host in self.net.hosts[:count]:
            argv = [sys.executable, "-m", "onboard_sync.cli", "worker", "--config", str(self.project / "config.toml")]
            argv += ["--concurrency", str(concurrency), "--grace", "5"]
            log = (self.project / f"{host.name}.log").open("ab")
            procs.append(host.popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.project))
        wait_for_heartbeats(procs, self.store_url(), f"{self.project}/host*.log")
        return procs

    def store_url(self) -> str:
        from onboard_sync.runtime import load_runtime

        assert self.project is not None
        return load_runtime(self.project / "config.toml").config.store_url

    def trigger_and_wait(self) -> tuple[float, dict[str, int]]:
        """Enqueue one reconcile per portal, wait until every one ended; the seconds it took and the
        reconciles' outcomes counted (``ok``, ``nothing-new``, ``error`` ...)."""
        from onboard_sync.durable.system_db import system_database
        from onboard_sync.durable.triggers import engine_client, request_reconcile

        client = engine_client(system_database(self.store_url()))
        try:
            start = time.perf_counter()
            pending = {request_reconcile(client, name, "schedule") for name in self.portals.base_urls}
            outcomes: Counter[str] = Counter()
            while pending:
                for workflow_id in list(pending):
                    handle = client.retrieve_workflow(workflow_id)
                    status = handle.get_status().status
                    if status == "SUCCESS":
                        result = handle.get_result()
                        outcomes[str(result.get("outcome")) if isinstance(result, dict) else "?"] += 1
                    elif status in ("ERROR", "CANCELLED"):
                        outcomes[status.lower()] += 1
                    else:
                        continue
                    pending.discard(workflow_id)
                time.sleep(0.1)
            return time.perf_counter() - start, dict(outcomes)
        finally:
            client.destroy()

    def cpu(self, workers: list[subprocess.Popen[bytes]]) -> dict[str, float]:
        return {
            "workers": sum(process_cpu_seconds(p.pid) for p in workers),
            "postgres": _postgres_cpu(self.pg),
            "portals": self.portals.cpu_seconds(),
        }

    # -- the rows ---------------------------------------------------------------------------------
    def backfill(self, hosts: int) -> dict[str, Any]:
        scale = self.scale
        self.fresh_project(f"scale_{hosts}")
        facts = self.portals.each("facts")
        workers = self.start_workers(hosts, scale.concurrency)
        try:
            before = self.cpu(workers)
            seconds, outcomes = self.trigger_and_wait()
            used = _minus(self.cpu(workers), before)
        finally:
            stop_workers(workers)
        summary = self.portals.each("summary")
        tickets = self.portals.each("tickets")
        writes = self._writes_by_portal()
        lower = {
            n: {**bounds.backfill_lower_bound({**f, "tasks_with_key_before": 0}, writes[n]), **_ticket_pull(tickets[n])}
            for n, f in facts.items()
        }
        portal_s = [scale.portal_bound(_limited_calls(lb)) for lb in lower.values()]
        slots = hosts * scale.concurrency
        rate_bound = max(max(portal_s), sum(portal_s) / slots)
        calls = sum(s["requests"] for s in summary.values())
        lower_total = sum(sum(lb.values()) for lb in lower.values())
        status, by_route, lower_by_endpoint = Counter[str](), Counter[str](), Counter[str]()
        for s in summary.values():
            status.update(s["status"])
            by_route.update(s["by_route"])
        for lb in lower.values():
            lower_by_endpoint.update(lb)
        self.ctx.log(f"{hosts} worker host(s): {seconds:.1f} s, {calls} calls, {_fmt_cpu(used, seconds)}")
        return {
            "scenario": f"scale-out backfill, {hosts} host{'s' if hosts > 1 else ''}",
            "status": _status(outcomes),
            "outcomes": outcomes,
            "hosts": hosts,
            "api_calls": calls,
            "lower_bound": lower_total,
            "calls_ratio": round(calls / lower_total, 3),
            "engine_s": round(seconds, 2),
            "rate_bound_s": round(rate_bound, 2),
            "time_ratio": round(seconds / rate_bound, 3),
            "writes": {"created": sum(w["tasks"] for w in writes.values()), "updated": _updates(writes)},
            "http_429": int(status.get("429", 0)),
            "cpu_s": {k: round(v, 2) for k, v in used.items()},
            "by_route": dict(by_route),
            "lower_by_endpoint": dict(lower_by_endpoint),
            "cpu_share_of_machine": round(sum(used.values()) / (seconds * (os.cpu_count() or 1)), 3),
            "note": _fmt_cpu(used, seconds),
        }

    def capacity(self) -> dict[str, Any]:
        scale = self.scale
        count = scale.capacity_portals
        slots = min(count, CAPACITY_CONCURRENCY)
        waves = math.ceil(count / slots)
        self.fresh_project("capacity", limited=False)
        workers = self.start_workers(1, slots)
        try:  # the backfill, unlimited: only the incremental runs after it are measured
            _, outcomes_before = self.trigger_and_wait()
        finally:
            stop_workers(workers)
        if _status(outcomes_before) != "ok":
            return {"scenario": "scale-out capacity, 1 worker", "status": f"backfill: {_status(outcomes_before)}"}
        self.limit()
        workers = self.start_workers(1, slots)
        try:  # warm-up: the first incremental run after a backfill re-reads every deal it wrote
            self.portals.each("change", 0.01, 0.01, 999)
            _, outcomes_warm = self.trigger_and_wait()
        except BaseException:
            stop_workers(workers)
            raise
        rounds = []
        outcomes: Counter[str] = Counter(outcomes_warm)
        try:
            for r in range(scale.capacity_rounds):
                changed = self.portals.each("change", 0.01, 0.01, 1000 + r)
                self.portals.each("clear")
                before = self.cpu(workers)
                seconds, round_outcomes = self.trigger_and_wait()
                used = _minus(self.cpu(workers), before)
                outcomes.update(round_outcomes)
                summary = self.portals.each("summary")
                calls = sum(s["requests"] for s in summary.values())
                edits = sum(c["deals_edited"] for c in changed.values())
                rounds.append({"seconds": seconds, "cpu": used, "calls": calls, "deals_edited": edits})
                self.ctx.log(f"incremental round {r + 1}: {seconds:.1f} s, {calls} calls, {_fmt_cpu(used, seconds)}")
        finally:
            stop_workers(workers)
        runs = count * len(rounds)
        cpu_per_run = sum(r["cpu"]["workers"] for r in rounds) / runs
        wall_per_run = sum(r["seconds"] for r in rounds) / len(rounds) / waves
        capacity = math.floor(SCHEDULE_S / cpu_per_run) if cpu_per_run > 0 else 0
        needed = math.ceil(capacity * wall_per_run / SCHEDULE_S)
        return {
            "scenario": "scale-out capacity, 1 worker",
            "status": _status(dict(outcomes)),
            "outcomes": dict(outcomes),
            "capacity_portals": capacity,
            "api_calls": sum(r["calls"] for r in rounds),
            "engine_s": round(sum(r["seconds"] for r in rounds), 2),
            "cpu_per_run_s": round(cpu_per_run, 4),
            "wall_per_run_s": round(wall_per_run, 2),
            "concurrency_needed": needed,
            "rounds": rounds,
            "note": (
                f"{runs} incremental runs of {scale.capacity_deals:,}-deal portals (1 % changed), {slots} at a time; "
                f"worker CPU "
                f"{cpu_per_run * 1000:.0f} ms per run → {SCHEDULE_S} s ÷ that = {capacity:,} portals per 15 min on "
                f"one core, with --concurrency ≥ {needed} ({wall_per_run:.1f} s per run); PostgreSQL "
                f"{sum(r['cpu']['postgres'] for r in rounds):.1f} s and portals "
                f"{sum(r['cpu']['portals'] for r in rounds):.1f} s CPU beside it"
            ),
        }

    def _writes_by_portal(self) -> dict[str, dict[str, int]]:
        from onboard_sync.store import Store

        out = {name: {"tasks": 0, "deals": 0, "companies": 0} for name in self.portals.base_urls}
        with Store.open(self.store_url(), read_only=True) as store:
            for entry in store.audit(limit=10_000_000):
                if entry.outcome != "ok" or entry.source not in out:
                    continue
                if entry.action == "create_task":
                    out[entry.source]["tasks"] += 1
                elif entry.action == "update_fields":
                    kind = getattr(entry.object_kind, "value", entry.object_kind)
                    out[entry.source]["deals" if kind == "deal" else "companies"] += 1
        return out


def _ticket_pull(tickets: int) -> dict[str, int]:
    """The fewest calls of the ticket pull a HubSpot instance's reconcile makes (its tickets feed
    health): one search page per 200 tickets (at least one, to see there are none), and their
    companies read 1,000 ticket ids per association call."""
    return {"tickets.search": max(1, math.ceil(tickets / 200)), "tickets.associations": math.ceil(tickets / 1000)}


def _status(outcomes: dict[str, int]) -> str:
    failed = {k: v for k, v in outcomes.items() if k not in ("ok", "nothing-new")}
    return "ok" if not failed else "reconciles failed: " + ", ".join(f"{v} {k}" for k, v in sorted(failed.items()))


def _limited_calls(lower: dict[str, int]) -> int:
    """The calls the portal's rate limit counts: all but search (which has no limit of its own here)."""
    return sum(v for k, v in lower.items() if not k.endswith(".search"))


def _updates(writes: dict[str, dict[str, int]]) -> int:
    return sum(w["deals"] + w["companies"] for w in writes.values())


def _speedup(rows: list[dict[str, Any]], scale: Scale) -> dict[str, Any]:
    by_hosts = {r["hosts"]: r for r in rows if "hosts" in r}
    one, most = by_hosts[min(by_hosts)], by_hosts[max(by_hosts)]
    speedup = one["engine_s"] / most["engine_s"]
    return {
        "scenario": f"scale-out speed-up, {most['hosts']} vs {one['hosts']} host",
        "status": "ok",
        "speedup": round(speedup, 2),
        "time_fraction": round(most["engine_s"] / one["engine_s"], 3),
        "note": (
            f"{one['engine_s']:.1f} s → {most['engine_s']:.1f} s; rate-limit bounds "
            f"{one['rate_bound_s']:.1f} s → {most['rate_bound_s']:.1f} s; "
            f"{scale.portals} portals, {scale.concurrency} per worker"
        ),
    }


def _minus(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before.get(k, 0.0) for k in after}


def _fmt_cpu(used: dict[str, float], seconds: float) -> str:
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in used.items())
    share = sum(used.values()) / max(seconds, 1e-9) / (os.cpu_count() or 1)
    return f"CPU {parts} ({share:.0%} of {os.cpu_count()} cores)"


def _postgres_cpu(pg: Any) -> float:
    """CPU seconds of the server: the postmaster, its live backends and the reaped ones (cutime)."""
    assert pg.folder is not None
    pid = int((pg.data / "postmaster.pid").read_text().split()[0])
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid:
            total += sum(int(x) for x in fields[11:15]) / ticks
        elif int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


SCENARIOS = [Scenario("scale-out", scale_out, "1, 2 and 4 worker hosts on rate-limited portals; one worker's capacity")]
