"""``onboard-sync plan`` (dry run: print what would change) and ``onboard-sync sync`` (apply)."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from onboard_sync.cli import app
from onboard_sync.cli.common import console, err_console, is_terminal, open_store, print_json, runtime
from onboard_sync.cli.options import ConfigOption, JsonOption
from onboard_sync.cli.plain_text import escape

if TYPE_CHECKING:  # the engine and the store load only when plan or sync runs
    from onboard_sync.runtime import Runtime
    from onboard_sync.sync.report import RunReport

FullOption = Annotated[bool, typer.Option("--full", help="Ignore cursors: re-read every won deal.")]


@contextmanager
def progress_reporter(enabled: bool) -> Iterator[Callable[[str, int, int | None], None] | None]:
    """A rich progress display on stderr when attached to a terminal; nothing under cron."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def update(stage: str, advance: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            if total is not None:
                bar.update(tasks[stage], total=total, completed=advance if stage == "evaluate" else None)
            if advance and stage != "evaluate":
                bar.advance(tasks[stage], advance)

        yield update


@contextmanager
def logged_run(command: str) -> Iterator[Callable[[RunReport], RunReport]]:
    """Log the one INFO line of a ``sync``/``plan`` run (``logs.log_run``) when the block ends: with the
    report handed to ``finished`` (exit 0, or 1 with failed writes), or the error that stopped it (exit 2
    for a problem the user must fix, else 1)."""
    from onboard_sync.errors import UserError
    from onboard_sync.logs import log_run

    done: list[RunReport] = []

    def finished(report: RunReport) -> RunReport:
        done.append(report)
        return report

    try:
        yield finished
    except UserError as exc:
        log_run(command, None, 2, error=str(exc))
        raise
    except (Exception, KeyboardInterrupt) as exc:  # a crash: the traceback follows; the line says which run
        code = 130 if isinstance(exc, KeyboardInterrupt) else 1
        log_run(command, done[0] if done else None, code, error=type(exc).__name__)
        raise
    log_run(command, done[0], 0 if done[0].ok else 1)


def _print_plan(report: RunReport, rt: Runtime, limit: int) -> None:
    from onboard_sync.cli.plan_view import field_labels, print_plan_instance

    labels = field_labels(rt)
    for name, inst in report.instances.items():
        print_plan_instance(console, name, inst, labels, limit=limit)
        if inst.recovered or inst.unresolved:
            console.print(
                f"{inst.recovered + inst.unresolved} earlier write(s) of unknown outcome: {inst.recovered} found in "
                f"the CRM (sync records them), {inst.unresolved} not found (created again above)."
            )
        if inst.won_before_cutoff:
            console.print(_cutoff_note(inst.won_before_cutoff))
        if inst.adopted:
            console.print(_adopted_note(inst.adopted, inst.tasks_skipped, planned=True))
        if inst.deals_deleted:
            console.print(f"{inst.deals_deleted} open onboarding(s) of deals deleted in the CRM would be cancelled.")
        if inst.tasks_deleted:
            console.print(f"{inst.tasks_deleted} task(s) deleted in the CRM would no longer be expected.")
        if inst.error:
            console.print(f"[red]error[/red]: {escape(inst.error)}")
    for name, pulled in report.ticket_sources.items():
        if pulled.get("error"):  # the plan was made without this helpdesk's changes
            console.print(f"[red]error[/red] reading {name}: {escape(str(pulled['error']))}")


def _cutoff_note(count: int) -> str:
    return f"{count} won deal(s) closed before onboard_won_since: no onboarding started for them."


def _adopted_note(adopted: int, skipped: int, *, planned: bool) -> str:
    verb = "would be" if planned else "were"
    return (
        f"{adopted} onboarding(s) already under way {verb} adopted at the phase their plan is in; "
        f"{skipped} task(s) of phases that ended before {verb} recorded as skipped, not created "
        f"({'plan --json' if planned else 'status --json'} lists them with the reason)."
    )


def _print_sync(report: RunReport) -> None:
    totals = report.totals()
    for name, inst in report.instances.items():
        console.print(
            f"{name}: {inst.deals_pulled} deal(s) pulled, {inst.onboardings_evaluated} onboarding(s) evaluated, "
            f"{inst.started} started, {inst.transitions} transition(s); "
            f"{inst.writes_created} created, {inst.writes_updated} updated, {inst.writes_failed} failed; "
            f"{inst.api_calls.get('total', 0)} API call(s)"
        )
        if inst.won_before_cutoff:
            console.print(f"  {_cutoff_note(inst.won_before_cutoff)}")
        if inst.adopted:
            console.print(f"  {_adopted_note(inst.adopted, inst.tasks_skipped, planned=False)}")
        if inst.deals_deleted:
            console.print(f"  {inst.deals_deleted} onboarding(s) cancelled: their deal was deleted in the CRM")
        if inst.tasks_deleted:
            console.print(f"  {inst.tasks_deleted} task(s) deleted in the CRM: no longer expected")
        for failure in inst.failures[:10]:
            console.print(f"  [red]failed[/red] {escape(str(failure['key']))}: {escape(str(failure['error']))}")
        if inst.error:
            console.print(f"  [red]error[/red]: {escape(inst.error)}")
    status = "[green]ok[/green]" if report.ok else "[red]failed[/red]"
    console.print(f"{status}: {totals['created']} created, {totals['updated']} updated, {totals['failed']} failed")


LimitOption = Annotated[int, typer.Option(help="Onboardings to show in the table (--json lists every write).")]


@app.command(short_help="Show what a sync would create and update; write nothing.")
def plan(
    config: ConfigOption = None, json: JsonOption = False, full: FullOption = False, limit: LimitOption = 25
) -> None:
    """Show every create and update a sync would make, with its API cost. Writes nothing anywhere."""
    from onboard_sync.sync.engine import Engine

    with logged_run("plan") as finished:
        rt = runtime(config)
        with open_store(rt, read_only=True) as store, progress_reporter(is_terminal() and not json) as progress:
            report = finished(Engine(rt, store, plan_mode=True, progress=progress, full=full).run())
    if json:
        print_json(report.as_dict())
    else:
        _print_plan(report, rt, limit)
    if not report.ok:
        sys.exit(1)


@app.command(short_help="Pull changes, advance onboardings, write tasks to the CRM.")
def sync(config: ConfigOption = None, json: JsonOption = False, full: FullOption = False) -> None:
    """Pull changes, advance onboardings and write tasks and fields to the CRM (run it from cron)."""
    from onboard_sync.reconcile import reconcile
    from onboard_sync.sync.writes import run_changes

    with logged_run("sync") as finished:
        rt = runtime(config)
        with open_store(rt) as store:
            with progress_reporter(is_terminal() and not json) as progress:
                report = finished(reconcile(rt, store, progress=progress, full=full))
            if json:  # the writes it made, from the audit: the same rows as plan --json's "changes"
                rows = run_changes(store, report.run_id, list(report.instances)) if report.run_id is not None else ()
                _print_json_with_rows(report.as_dict(), "changes", rows)
    if not json:
        _print_sync(report)
    if not report.ok:
        sys.exit(1)


def _print_json_with_rows(data: dict[str, Any], key: str, rows: Iterable[dict[str, Any]]) -> None:
    """``print_json`` of ``data`` with ``key`` set to the list of ``rows``, written as they come."""
    marker = "__onboard_sync_rows__"
    head, tail = json.dumps({**data, key: marker}, indent=2, default=str).split(f'"{marker}"')
    sys.stdout.write(head + "[")
    separator = "\n"
    for row in rows:
        sys.stdout.write(separator + textwrap.indent(json.dumps(row, indent=2, default=str), "    "))
        separator = ",\n"
    sys.stdout.write(("\n  ]" if separator != "\n" else "]") + tail + "\n")
