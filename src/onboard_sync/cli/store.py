"""``onboard-sync store migrate --to URL`` (move the store to another database) and ``store upgrade``.

The step from one machine to many (docs/deploying.md, "Beyond one machine"): the config's
store (usually a SQLite file) is copied, every table and every task key, into an empty
PostgreSQL database or schema (``store.transfer``). A progress bar on a terminal (elsewhere one
line on stderr per table as it starts), a table of rows per table (source and target, read back)
at the end; exit 0 when every count and the task-key digest match, 1 when the read-back differs,
2 for a problem to fix (a non-empty target, a sync running, an unreachable server), in one line.

``store upgrade`` brings the store's schema to this version's (what ``sync`` and ``serve`` do when
they open it), for the read-only commands that refuse an older schema and for a database
prepared before the first worker starts.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from onboard_sync.cli import app
from onboard_sync.cli.common import console, err_console, is_terminal, print_json, runtime
from onboard_sync.cli.options import ConfigOption, JsonOption

if TYPE_CHECKING:
    from onboard_sync.store.transfer import CopyResult

store_app = typer.Typer(
    help="Manage the state store: upgrade its schema, move it to PostgreSQL.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(store_app, name="store", short_help="Upgrade the store's schema or move it to PostgreSQL.")

TARGET_ENV = "ONBOARD_SYNC_MIGRATE_TO"

ToOption = Annotated[
    str,
    typer.Option(
        "--to",
        envvar=TARGET_ENV,
        show_envvar=False,
        help=f"URL of the empty target store, e.g. postgresql+psycopg://USER@HOST/DB (or ${TARGET_ENV}, "
        "which keeps a password out of the shell history).",
    ),
]


@store_app.command("migrate", short_help="Copy the store into an empty one at --to; verify the copy.")
def migrate(to: ToOption, config: ConfigOption = None, json: JsonOption = False) -> None:
    """Copy the config's store, every table and task key, into an empty store at --to; verify it."""
    from onboard_sync.cli.run import progress_reporter
    from onboard_sync.store.transfer import copy_store

    rt = runtime(config)
    bar = is_terminal() and not json
    with progress_reporter(bar) as progress:
        result = copy_store(rt.config.store_url, to, progress=progress if bar else log_table_starts)
    if json:
        print_json(result.as_dict())
    else:
        show_copy(result)
    if not result.ok:
        sys.exit(1)


def log_table_starts(table: str, copied: int, total: int | None) -> None:
    """Off a terminal (a job, a pipe, ``--json``): one line on stderr as each non-empty table starts."""
    if total:
        err_console.print(f"copying {table}: {total:,} row(s)", highlight=False)


def show_copy(result: CopyResult) -> None:
    """Rows per table in source and target, then one line saying whether they all match."""
    from rich import box  # loaded when a table is printed: a fast --help
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("table")
    table.add_column("source rows", justify="right")
    table.add_column("target rows", justify="right")
    table.add_column("")
    for count in result.tables:
        mark = "[green]ok[/green]" if count.ok else "[red]differs[/red]"
        table.add_row(count.table, f"{count.source_rows:,}", f"{count.target_rows:,}", mark)
    console.print(table)
    tasks = next(c.source_rows for c in result.tables if c.table == "owned_tasks")
    if result.ok:
        console.print(
            f"[green]ok[/green]: {result.rows:,} row(s) in {len(result.tables)} tables copied and read back; "
            f"{tasks:,} task key(s) verified.",
            highlight=False,
        )
        console.print(
            "Next: set \\[onboard_sync] store in config.toml (or ONBOARD_SYNC_STORE) to the target, "
            "then start the workers (docs/deploying.md).",
            highlight=False,
        )
        return
    console.print(
        "[red]failed[/red]: the copy differs from the source"
        + ("" if result.task_keys_ok else " (task keys differ)")
        + ": keep using the source and migrate into a new, empty database.",
        highlight=False,
    )


@store_app.command("upgrade", short_help="Migrate the store to this version's schema.")
def upgrade(config: ConfigOption = None) -> None:
    """Migrate the config's store to this version's schema (sync and serve do it themselves)."""
    from onboard_sync.store import Store, redact_url

    rt = runtime(config)
    before, after = Store.migrate(rt.config.store_url)
    shown = redact_url(rt.config.store_url)
    if before == after:
        console.print(f"{shown}: already at schema revision {after}", highlight=False, markup=False)
    else:
        console.print(f"{shown}: schema revision {before or 'none'} -> {after}", highlight=False, markup=False)
