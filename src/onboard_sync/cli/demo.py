"""``onboard-sync demo``: the whole product on a local CRM sandbox, no account needed.

It starts the simulator (``--crm hubspot|salesforce``; the differences live in :mod:`.demo_crm`)
with a realistic book of deals, writes a config folder (config.toml, the default rules, the
sandbox's secrets in .env, the store), creates the CRM properties, syncs (onboardings start,
handoff tasks appear), then acts like the people in the CRM — completes tasks, sets one phase
by hand — syncs again so phases advance, and shows the status table. The folder is kept and the
demo ends with the exact commands to look at it (``status``, ``report``); with ``--serve`` the
sandbox stays up until Ctrl-C so that ``plan`` and ``sync`` can run against it too.
"""

from __future__ import annotations

import random
import shlex
import tempfile
import textwrap
import threading
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from onboard_sync.cli import app
from onboard_sync.cli.common import console
from onboard_sync.cli.demo_crm import TOKEN_ENV, write_demo_config

if TYPE_CHECKING:  # the config, engine and store load only when the demo runs
    from onboard_sync.cli.demo_crm import People
    from onboard_sync.rules import Playbook
    from onboard_sync.runtime import Runtime
    from onboard_sync.store import Store

__all__ = ["TOKEN_ENV", "demo", "demo_folder", "run_story", "write_demo_config"]

MARKER = ".onboard-sync-demo"
DEALS, SEED = 400, 7
SHOWN = 10  # onboardings in the demo's status table; `onboard-sync status` shows them all


@app.command(short_help="Run onboard-sync end to end on a local CRM sandbox.")
def demo(
    deals: Annotated[int, typer.Option(help="Deals in the sandbox book.")] = DEALS,
    seed: Annotated[int, typer.Option(help="Seed of the sandbox data.")] = SEED,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            "--keep",
            help="Folder for the demo's config, rules and store (default: a new one in the temp folder). It is kept.",
        ),
    ] = None,
    crm: Annotated[str, typer.Option(help="Which CRM sandbox: hubspot or salesforce.")] = "hubspot",
    serve: Annotated[
        bool, typer.Option("--serve", help="Keep the sandbox running after the demo, until Ctrl-C (for plan, sync).")
    ] = False,
) -> None:
    """Run onboard-sync end to end on a local CRM sandbox (no account, no config needed)."""
    from onboard_sync.cli.demo_crm import people_for
    from onboard_sync.errors import ConfigError
    from onboard_sync.runtime import load_runtime

    if crm not in ("hubspot", "salesforce"):
        raise ConfigError(f"unknown CRM {crm!r} (use hubspot or salesforce)", where="--crm")
    where = demo_folder(folder)
    people = people_for(crm, seed, deals)
    with people.sandbox as sandbox:
        rt = load_runtime(people.configure(where))
        console.rule("[bold]onboard-sync demo[/bold]")
        console.print(f"{crm} sandbox at {sandbox.base_url} with {deals} deals", highlight=False)
        _say(f"config, rules and store: {where}")
        run_story(people, rt, seed)
        rerun = _command("demo", "--serve", *_options(crm, deals, seed), "--dir", str(where))
        _next_steps(where, crm, sandbox.base_url if serve else None, rerun)
        if serve:
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                console.print(f"\n{crm} sandbox stopped; the folder stays: {where}", highlight=False, markup=False)


def demo_folder(chosen: Path | None) -> Path:
    """The folder the demo writes to: a new temp folder, or ``--dir`` if it is new, empty or an earlier demo's.

    A rerun starts from a fresh store (the new sandbox does not hold the earlier run's tasks) and
    keeps the folder's rules, which may hold the user's edits.
    """
    from onboard_sync.errors import ConfigError

    if chosen is None:
        return Path(tempfile.mkdtemp(prefix="onboard-sync-demo-"))
    chosen = chosen.expanduser().resolve()
    if chosen.exists() and not chosen.is_dir():
        raise ConfigError("is a file; --dir needs a folder", where=str(chosen))
    if chosen.is_dir() and any(chosen.iterdir()) and not (chosen / MARKER).exists():
        raise ConfigError("holds files the demo did not write; give --dir a new or empty folder", where=str(chosen))
    chosen.mkdir(parents=True, exist_ok=True)
    for stale in chosen.glob("onboard-sync.db*"):
        stale.unlink()
    (chosen / MARKER).write_text("Written by `onboard-sync demo`; a rerun with --dir here starts afresh.\n")
    return chosen


def run_story(people: People, rt: Runtime, seed: int) -> None:
    """Setup, three syncs with people acting in the CRM in between, and the status table (the
    sandbox of ``people`` running, ``rt`` configured for it)."""
    from onboard_sync.cli.status_table import print_status_table
    from onboard_sync.schema import property_specs
    from onboard_sync.status import onboarding_views
    from onboard_sync.store import Store
    from onboard_sync.sync.engine import Engine, utcnow

    crm = people.name
    connector = rt.connector(crm)
    specs = connector.required_properties() + property_specs(rt.mappings[crm], rt.playbook)
    actions = connector.ensure_properties(specs, apply=True)
    connector.close()
    _say(f"setup: {sum(a.changed for a in actions)} CRM fields created")

    with Store.open(rt.config.store_url) as store:
        first = Engine(rt, store, clock=people.clock.now).run()  # a week ago: the CRM's clock (``WEEK_BEFORE``)
        totals = first.totals()
        views = onboarding_views(store, rt.playbook, people.clock.now(), calendar=rt.calendar)
        segments = Counter(v.segment for v in views)
        mix = ", ".join(f"{segments[s.key]} {s.label}" for s in rt.playbook.segments if segments[s.key])
        _say(f"sync 1: {len(views)} onboardings started ({mix})")
        _say(
            f"        {totals['created']} tasks created, {totals['updated']} records updated, "
            f"{first.api_calls()['total']} API calls"
        )
        adopted = sum(i.adopted for i in first.instances.values())
        if adopted:
            skipped = sum(i.tasks_skipped for i in first.instances.values())
            _say(f"        {adopted} were won days ago: each joined at the phase its plan is in;")
            _say(f"        {skipped} tasks of phases already over were skipped, none created overdue")
        _show_example(people, store, rt.playbook)

        completed = _act_like_people(people, store, random.Random(seed))
        people.clock.set(utcnow())  # the week is over: the CRM's clock is the real one again
        _say(f"a week of work in {crm}: people completed {completed} tasks, set one phase by hand")
        _say("        and left other tasks open (the demo's CRM started a week ago)")

        transitions_before = len(store.transitions())
        second = Engine(rt, store).run()
        now = utcnow()
        moved = [
            t
            for t in store.transitions()[transitions_before:]
            if t.old_phase is not None and t.new_phase != t.old_phase
        ]
        views = onboarding_views(store, rt.playbook, now, calendar=rt.calendar)
        late = sum(1 for v in views if v.health_status not in (None, "healthy") and v.overdue_tasks)
        unhealthy = sum(1 for v in views if v.health_status not in (None, "healthy"))
        _say(
            f"sync 2: {len(moved)} phase changes, {second.totals()['created']} new tasks for the new phases, "
            f"{second.api_calls()['total']} API calls"
        )
        _say(f"        {unhealthy} customers are no longer healthy ({late} with overdue tasks)")
        third = Engine(rt, store).run()
        writes = third.totals()["created"] + third.totals()["updated"]
        _say(f"sync 3 (nothing changed in {crm}): {writes} writes, {third.api_calls()['total']} API calls")
        views = onboarding_views(store, rt.playbook, utcnow(), owner_settings=rt.config.owners, calendar=rt.calendar)
    title = f"{min(SHOWN, len(views))} of {len(views)} onboardings, playbook {rt.playbook.name}"
    print_status_table(views[:SHOWN], title)


def _show_example(people: People, store: Store, playbook: Playbook) -> None:
    """The first tasks of one onboarding, in playbook order, as a person sees them in the CRM (the first
    with its body)."""
    from onboard_sync.store import TaskState

    created = [t for t in store.owned_tasks_for(people.name).values() if t.state is TaskState.CREATED and t.remote_id]
    if not created:
        return
    first = created[0].onboarding_id
    order = {t.key: n for n, t in enumerate(t for phase in playbook.phases for t in phase.tasks)}
    mine = sorted(
        (t for t in created if t.onboarding_id == first), key=lambda t: (order.get(t.template_key, len(order)), t.key)
    )
    tasks = [people.task(t.remote_id or "") for t in mine[:3]]
    _say(f"in {people.name} after sync 1 (a week ago), for example these tasks")
    _say(f"on {tasks[0].links}:")
    for n, task in enumerate(tasks):
        _say(f'  "{task.subject}"')
        _say(f"    for {task.owner}, due {_when(task.due)}")
        if n == 0 and task.body:
            width = max(40, console.width - 7)
            for line in task.body.splitlines():
                for part in textwrap.wrap(line, width, subsequent_indent="  " if line[:1] in "-0123456789" else ""):
                    _say(f"    | {part}")


def _when(due: datetime | date | None) -> str:
    if isinstance(due, datetime):
        return f"{due:%Y-%m-%d %H:%M} UTC"
    return due.isoformat() if due else "no due date"


def _next_steps(folder: Path, crm: str, serving: str | None, rerun: str) -> None:
    """Exact commands to look at what the demo made, and how to reach the sandbox."""
    console.print()
    _say(f"The demo's folder is kept: {folder}")
    if serving:
        _say(f"The {crm} sandbox stays up at {serving} until you press Ctrl-C.")
        _say("In another terminal:")
        commands = [["status"], ["plan"], ["sync"], ["report", "--out", "report.html"]]
    else:
        _say("Look at what it made (from the store; no CRM needed):")
        commands = [["status"], ["report", "--out", "report.html"]]
    _say(f"  cd {shlex.quote(str(folder))}", wrap=False)
    for command in commands:
        _say(f"  {_command(*command)}", wrap=False)
    if not serving:
        _say(f"The {crm} sandbox stopped with the demo. To run plan and sync against it,")
        _say("run the demo again with --serve (the sandbox then stays up until Ctrl-C):")
        _say(f"  {rerun}", wrap=False)


def _options(crm: str, deals: int, seed: int) -> list[str]:
    """The demo's options that differ from the defaults, to repeat the same demo."""
    out = ["--crm", crm] if crm != "hubspot" else []
    out += ["--deals", str(deals)] if deals != DEALS else []
    return out + (["--seed", str(seed)] if seed != SEED else [])


def _command(*words: str) -> str:
    return "onboard-sync " + " ".join(shlex.quote(w) for w in words)


def _say(text: str, *, wrap: bool = True) -> None:
    """Plain text (no markup, no highlighting); ``wrap=False`` keeps a command on one line to copy."""
    console.print(text, markup=False, highlight=False, soft_wrap=not wrap)


def _act_like_people(people: People, store: Store, rng: random.Random) -> int:
    """Complete every open task of about two thirds of the onboardings; set one phase by hand."""
    from onboard_sync.records import TaskStatus
    from onboard_sync.store import TaskState

    by_onboarding: dict[str, list[str]] = {}
    for task in store.owned_tasks_for(people.name).values():
        if task.state is TaskState.CREATED and task.status is TaskStatus.OPEN and task.remote_id:
            by_onboarding.setdefault(task.onboarding_id, []).append(task.remote_id)
    completed = 0
    chosen = sorted(by_onboarding)
    rng.shuffle(chosen)
    for onboarding_id in chosen[: (2 * len(chosen)) // 3]:
        for remote_id in by_onboarding[onboarding_id]:
            people.complete_task(remote_id)
            completed += 1
    if chosen:
        people.set_phase(chosen[-1].split(":", 1)[1], "training")
    return completed
