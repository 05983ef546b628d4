"""``onboard-sync demo``: the whole product on a local CRM sandbox, no account needed.

It starts the simulator (``--crm hubspot|salesforce``; the differences live in :mod:`.demo_crm`)
with a realistic book of deals, writes a config folder, creates
the CRM properties, syncs (onboardings start, handoff tasks appear), then acts like the
people in the CRM — completes tasks, sets one phase by hand — syncs again so phases
advance, and shows the status table.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from onboard_sync.cli import app
from onboard_sync.cli.common import console
from onboard_sync.cli.status import show_status
from onboard_sync.mappings.loader import default_mapping_text
from onboard_sync.records import TaskStatus
from onboard_sync.runtime import load_runtime
from onboard_sync.schema import property_specs

if TYPE_CHECKING:  # the engine and the store load only when the demo runs
    from onboard_sync.store import Store

TOKEN_ENV = "ONBOARD_SYNC_DEMO_HUBSPOT_TOKEN"


def write_demo_config(directory: Path, base_url: str) -> Path:
    """A config folder that points the hubspot connector at the sandbox."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "mappings").mkdir(exist_ok=True)
    (directory / "mappings" / "hubspot.toml").write_text(default_mapping_text("hubspot") or "", encoding="utf-8")
    config = directory / "config.toml"
    config.write_text(
        f"""[onboard_sync]
store = "sqlite:///onboard-sync.db"
mappings = "mappings"

[owners]
sales = "deal_owner"
csm = ["erin.cs@example.test", "farid.cs@example.test", "grace.cs@example.test"]
implementation = ["farid.cs@example.test", "hugo.cs@example.test"]
tam = ["grace.cs@example.test"]
support = ["hugo.cs@example.test"]
account_manager = "account_owner"

[connectors.hubspot]
type = "hubspot"
base_url = "{base_url}"
token_env = "{TOKEN_ENV}"
""",
        encoding="utf-8",
    )
    return config


@app.command()
def demo(
    deals: Annotated[int, typer.Option(help="Deals in the sandbox book.")] = 400,
    seed: Annotated[int, typer.Option(help="Seed of the sandbox data.")] = 7,
    keep: Annotated[Path | None, typer.Option(help="Keep the demo's config and store in this folder.")] = None,
    crm: Annotated[str, typer.Option(help="Which CRM sandbox: hubspot or salesforce.")] = "hubspot",
) -> None:
    """Run onboard-sync end to end on a local CRM sandbox (no account, no config needed)."""
    from onboard_sync.cli.demo_crm import people_for
    from onboard_sync.errors import ConfigError
    from onboard_sync.status import onboarding_views
    from onboard_sync.store import Store, TaskState
    from onboard_sync.sync.engine import Engine, utcnow

    if crm not in ("hubspot", "salesforce"):
        raise ConfigError(f"unknown CRM {crm!r} (use hubspot or salesforce)", where="--crm")
    people = people_for(crm, seed, deals)
    with people.sandbox as sandbox, tempfile.TemporaryDirectory() as tmp:
        folder = keep or Path(tmp)
        config_path = people.configure(folder)
        rt = load_runtime(config_path)
        console.rule("[bold]onboard-sync demo[/bold]")
        console.print(f"{crm} sandbox at {sandbox.base_url} with {deals} deals; config in {folder}")

        connector = rt.connector(crm)
        specs = connector.required_properties() + property_specs(rt.mappings[crm], rt.playbook)
        actions = connector.ensure_properties(specs, apply=True)
        connector.close()
        console.print(f"setup: {sum(a.changed for a in actions)} CRM fields created")

        with Store.open(rt.config.store_url) as store:
            first = Engine(rt, store).run()
            totals = first.totals()
            views = onboarding_views(store, rt.playbook, utcnow())
            segments = Counter(v.segment for v in views)
            console.print(
                f"sync 1: {len(views)} onboardings started ({', '.join(f'{n} {s}' for s, n in segments.items())}); "
                f"{totals['created']} tasks created, {totals['updated']} records updated, "
                f"{first.api_calls()['total']} API calls"
            )
            for task in [t for t in store.owned_tasks_for(crm).values() if t.state is TaskState.CREATED][:3]:
                console.print(f"  task {task.remote_id}: {people.describe_task(task.remote_id or '')}")

            completed = _act_like_people(people, store, random.Random(seed))
            console.print(f"in {crm}: people completed {completed} tasks and set one phase by hand")

            second = Engine(rt, store).run()
            transitions = store.transitions()
            moved = [t for t in transitions if t.old_phase is not None and t.new_phase != t.old_phase]
            console.print(
                f"sync 2: {len(moved)} phase change(s); {second.totals()['created']} new tasks for the new phases; "
                f"{second.api_calls()['total']} API calls"
            )
            third = Engine(rt, store).run()
            console.print(
                f"sync 3 (nothing changed in {crm}): {third.totals()['created'] + third.totals()['updated']} writes, "
                f"{third.api_calls()['total']} API calls"
            )
            show_status(
                onboarding_views(store, rt.playbook, utcnow(), owner_settings=rt.config.owners), rt.playbook, limit=25
            )
        os.environ.pop(TOKEN_ENV, None)


def _act_like_people(people: object, store: Store, rng: random.Random) -> int:
    """Complete every open task of about two thirds of the onboardings; set one phase by hand."""
    from onboard_sync.store import TaskState

    crm = people.name  # type: ignore[attr-defined]
    owned = store.owned_tasks_for(crm)
    by_onboarding: dict[str, list[str]] = {}
    for task in owned.values():
        if task.state is TaskState.CREATED and task.status is TaskStatus.OPEN and task.remote_id:
            by_onboarding.setdefault(task.onboarding_id, []).append(task.remote_id)
    completed = 0
    chosen = sorted(by_onboarding)
    rng.shuffle(chosen)
    for onboarding_id in chosen[: (2 * len(chosen)) // 3]:
        for remote_id in by_onboarding[onboarding_id]:
            people.complete_task(remote_id)  # type: ignore[attr-defined]
            completed += 1
    if chosen:
        people.set_phase(chosen[-1].split(":", 1)[1], "training")  # type: ignore[attr-defined]
    return completed
