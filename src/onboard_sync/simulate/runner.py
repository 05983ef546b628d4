"""Run one synthetic onboarding through a playbook: real engine, HubSpot sandbox, simulated clock.

:func:`simulate` (called by ``onboard-sync simulate`` and the tests) starts a
:class:`~onboard_sync.sandbox.hubspot.HubSpotSandbox` whose clock is frozen and moved a day at
a time, writes a config folder pointing at it (the rules file under test, a mapping that reads
the scenario's metrics from the company), creates a company and a won deal, and then for each
day: the scripted person acts in the CRM (completes due tasks, on time or late; the customer's
usage/NPS/attendance change; tickets are opened), and the real
:class:`~onboard_sync.sync.engine.Engine` runs once with the same clock, exactly as in
production. What the store then holds becomes that day's :class:`DayRecord`.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from onboard_sync.connector import PropertySpec
from onboard_sync.errors import ConfigError
from onboard_sync.hookspecs import hookimpl
from onboard_sync.mappings.loader import default_mapping_text
from onboard_sync.onboarding.machine import default_segment
from onboard_sync.onboarding.state import OnboardingStatus
from onboard_sync.records import ObjectKind, TaskStatus
from onboard_sync.rules import Playbook, load_playbook
from onboard_sync.runtime import load_runtime
from onboard_sync.schema import property_specs
from onboard_sync.simulate.scenarios import METRIC_PROPERTIES, SCENARIOS, Scenario
from onboard_sync.simulate.timeline import DayRecord, Timeline
from onboard_sync.store import Store, TaskState
from onboard_sync.sync.engine import Engine
from onboard_sync.toolkit.times import parse_time

TOKEN_ENV = "ONBOARD_SYNC_SIMULATE_HUBSPOT_TOKEN"
DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday morning
PRODUCTS_PROPERTY = "sim_products"
_PLUGIN_NAME = "onboard-sync-simulate-segment"


class _SegmentPlugin:
    """A ``resolve_segment`` plugin that puts the synthetic deal in the requested segment."""

    def __init__(self, segment: str) -> None:
        self.segment = segment

    @hookimpl
    def resolve_segment(self, deal: Any, account: Any) -> str | None:
        return self.segment


def simulate(
    rules: str | Path,
    *,
    segment: str | None = None,
    days: int = 90,
    scenario: str | Scenario = "on-track",
    start: datetime = DEFAULT_START,
    store_url: str | None = None,
) -> Timeline:
    """Simulate ``days`` days of one onboarding; return its timeline (see the module docstring)."""
    from onboard_sync.sandbox.clock import SandboxClock
    from onboard_sync.sandbox.hubspot import HubSpotSandbox

    rules = Path(rules).resolve()
    playbook = load_playbook(rules)
    chosen = _segment(playbook, segment, rules)
    scene = _scenario(scenario)
    if days < 0:
        raise ConfigError("--days must be 0 or more", where="simulate")
    clock = SandboxClock(frozen_at=start - timedelta(days=1))
    began = time.perf_counter()
    scratch = "/dev/shm" if Path("/dev/shm").is_dir() else None  # memory-backed: no fsync per commit
    with HubSpotSandbox(seed=0, deals=0, clock=clock) as sandbox, tempfile.TemporaryDirectory(dir=scratch) as tmp:
        folder = Path(tmp)
        url = store_url or f"sqlite:///{folder / 'simulation.db'}"
        previous = os.environ.get(TOKEN_ENV)
        os.environ[TOKEN_ENV] = sandbox.token
        try:
            runtime = load_runtime(_write_config(folder, sandbox.base_url, rules, url))
            _setup_crm(runtime)
            deal_id, company_id = _create_customer(sandbox, scene, chosen.key)
            clock.set(start)
            sandbox.backend.set_deal_stage(deal_id, "closedwon")
            timeline = Timeline(
                rules=str(rules),
                playbook=playbook.name,
                segment=chosen.key,
                scenario=scene.name,
                start=start.date().isoformat(),
                store_url=store_url,
            )
            with Store.open(url, clock=clock.now) as store:
                day_runner = _Day(sandbox, store, runtime, playbook, scene, clock, deal_id, company_id)
                for day in range(days + 1):
                    clock.set(start + timedelta(days=day))
                    timeline.days.append(day_runner.run(day, chosen.key))
        finally:
            if previous is None:
                os.environ.pop(TOKEN_ENV, None)
            else:
                os.environ[TOKEN_ENV] = previous
    timeline.elapsed_seconds = time.perf_counter() - began
    return timeline


def _segment(playbook: Playbook, key: str | None, rules: Path) -> Any:
    if key is None:
        return default_segment(playbook)
    segment = playbook.segment(key)
    if segment is None:
        known = ", ".join(s.key for s in playbook.segments)
        raise ConfigError(f"unknown segment {key!r} (known: {known})", where=str(rules))
    return segment


def _scenario(scenario: str | Scenario) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if scenario not in SCENARIOS:
        raise ConfigError(f"unknown scenario {scenario!r} (known: {', '.join(SCENARIOS)})", where="--scenario")
    return SCENARIOS[scenario]


def _write_config(folder: Path, base_url: str, rules: Path, store_url: str) -> Path:
    """config.toml + mappings/hubspot.toml: the default mapping plus reads of the scenario's metrics."""
    (folder / "mappings").mkdir(parents=True, exist_ok=True)
    reads = "\n".join(f'{name} = {{ property = "{prop}" }}' for name, prop in METRIC_PROPERTIES.items())
    mapping = (default_mapping_text("hubspot") or "") + (
        f'\n[deal.read]\nproducts = {{ property = "{PRODUCTS_PROPERTY}" }}\n\n[account.read]\n{reads}\n'
    )
    (folder / "mappings" / "hubspot.toml").write_text(mapping, encoding="utf-8")
    config = folder / "config.toml"
    config.write_text(
        f"""[onboard_sync]
store = "{store_url}"
mappings = "mappings"
rules = "{rules.as_posix()}"

[owners]
sales = "deal_owner"
csm = ["erin.cs@example.test"]
implementation = ["farid.cs@example.test"]
tam = ["grace.cs@example.test"]
support = ["hugo.cs@example.test"]
account_manager = "account_owner"

[connectors.hubspot]
type = "hubspot"
base_url = "{base_url}"
token_env = "{TOKEN_ENV}"
# the sandbox enforces no rate limits: do not pace calls to HubSpot's (simulated days, not real seconds)
requests_per_second = 10000
search_requests_per_second = 10000
""",
        encoding="utf-8",
    )
    return config


def _setup_crm(runtime: Any) -> None:
    """Create the onboarding properties (as ``onboard-sync setup``) and the simulator's own ones."""
    connector = runtime.connector("hubspot")
    try:
        ours = [
            PropertySpec(ObjectKind.ACCOUNT, prop, prop.replace("_", " "), "number")
            for prop in METRIC_PROPERTIES.values()
        ] + [PropertySpec(ObjectKind.DEAL, PRODUCTS_PROPERTY, "Products purchased", "string")]
        specs = connector.required_properties() + property_specs(runtime.mappings["hubspot"], runtime.playbook)
        connector.ensure_properties(specs + ours, apply=True)
    finally:
        connector.close()


def _create_customer(sandbox: Any, scene: Scenario, segment: str) -> tuple[str, str]:
    backend = sandbox.backend
    owner = sorted(backend.owners)[0]
    company = backend.create(
        "companies", {"name": "Simulated Customer Ltd", "domain": "simulated.example", "hubspot_owner_id": owner}
    )
    deal = backend.create(
        "deals",
        {
            "dealname": f"Simulated Customer - {segment}",
            "dealstage": "contractsent",
            "amount": "50000",
            "hubspot_owner_id": owner,
            PRODUCTS_PROPERTY: scene.products,
        },
        [("companies", company.id)],
    )
    return deal.id, company.id


class _Day:
    """One simulated day: the person acts, the engine runs, the store is read back."""

    def __init__(
        self,
        sandbox: Any,
        store: Store,
        runtime: Any,
        playbook: Playbook,
        scene: Scenario,
        clock: Any,
        deal_id: str,
        company_id: str,
    ) -> None:
        self.sandbox, self.store, self.runtime, self.pb = sandbox, store, runtime, playbook
        self.scene, self.clock, self.deal_id, self.company_id = scene, clock, deal_id, company_id
        self.onboarding_id = f"hubspot:{deal_id}"
        self.metrics: dict[str, float] = {}
        self.seen_tasks: set[str] = set()
        self.done_tasks: set[str] = set()
        self.transitions = 0
        self.reasons: tuple[str, ...] = ()

    def run(self, day: int, segment: str) -> DayRecord:
        tickets = self._act(day)
        self.clock.advance(hours=1)
        engine = Engine(self.runtime, self.store, clock=self.clock.now)
        plugin = engine.pm.get_plugin(_PLUGIN_NAME)
        if plugin is None:
            engine.pm.register(_SegmentPlugin(segment), name=_PLUGIN_NAME)
        try:
            engine.run()
        finally:
            if plugin is None:
                engine.pm.unregister(name=_PLUGIN_NAME)
        return self._record(day, tickets)

    def _act(self, day: int) -> int:
        """The person: complete tasks due (plus the scenario's lateness); the customer: metrics, tickets."""
        backend = self.sandbox.backend
        today = self.clock.now().date()
        for task in list(backend.tasks.values()):
            props = task.properties
            if not props.get("onboard_sync_key") or props.get("hs_task_status") == "COMPLETED":
                continue
            due = parse_time(props["hs_timestamp"])
            if due is not None and due.date() + timedelta(days=self.scene.late_days) <= today:
                backend.complete_task(task.id)
        values = self.scene.metrics_on(day)
        changed = {METRIC_PROPERTIES[k]: f"{v:g}" for k, v in values.items() if self.metrics.get(k) != v}
        if changed:
            backend.update("companies", self.company_id, changed)
            self.metrics.update(values)
        opened = self.scene.tickets_on(day)
        for n in range(opened):
            backend.create(
                "tickets",
                {"subject": f"Simulated ticket day {day} #{n + 1}", "hs_ticket_priority": "MEDIUM"},
                [("companies", self.company_id)],
            )
        return opened

    def _record(self, day: int, tickets: int) -> DayRecord:
        state = self.store.get_onboarding(self.onboarding_id)
        owned = self.store.owned_tasks(self.onboarding_id)
        transitions = self.store.transitions(self.onboarding_id)
        fresh, self.transitions = transitions[self.transitions :], len(transitions)
        record = DayRecord(
            day=day,
            date=self.clock.now().date().isoformat(),
            phase=state.phase if state else "-",
            status=str(state.status) if state else "-",
            health_score=state.health_score if state else None,
            health_status=state.health_status if state else None,
            health_reasons=list(state.health_reasons) if state else [],
            tickets_opened=tickets,
        )
        for key, task in sorted(owned.items(), key=lambda kv: (kv[1].due_at or self.clock.now(), kv[0])):
            label = task.template_key + (f":{task.episode}" if task.episode else "")
            if task.state is TaskState.CREATED and key not in self.seen_tasks:
                self.seen_tasks.add(key)
                record.created.append(label)
                template = self.pb.template(task.template_key)
                if task.template_key.startswith("alert_"):
                    record.alerts.append(task.subject)
                elif template is not None and template.repeat_every_days and template.when is not None:
                    record.decisions.append(f"{label}: {template.when.source} → {task.subject}")
            if task.status is TaskStatus.COMPLETED and key not in self.done_tasks:
                self.done_tasks.add(key)
                record.completed.append(label)
        for tr in fresh:
            if tr.detail.startswith("decision "):
                record.decisions.append(tr.detail.removeprefix("decision "))
            elif tr.new_status == OnboardingStatus.EXTENDED and tr.old_status != OnboardingStatus.EXTENDED:
                record.decisions.append(f"{tr.new_phase} extended ({tr.detail})")
            if tr.old_phase != tr.new_phase or tr.old_status != tr.new_status:
                old = f"{tr.old_phase or '∅'}/{tr.old_status or '∅'}"
                why = f" ({tr.detail})" if tr.detail else ""
                record.transitions.append(f"{old} → {tr.new_phase}/{tr.new_status} [{tr.cause}]{why}")
        reasons = tuple(state.health_reasons) if state else ()
        record.alerts.extend(f"health: {r}" for r in reasons if r not in self.reasons)
        self.reasons = reasons
        return record
