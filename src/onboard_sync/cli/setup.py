"""Set-up commands: ``init`` (starter files), ``connectors``, ``validate`` and ``setup`` (CRM properties)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from onboard_sync.cli import app
from onboard_sync.cli.common import console, print_json, runtime
from onboard_sync.cli.options import ConfigOption, JsonOption
from onboard_sync.errors import UserError

if TYPE_CHECKING:  # config, checks and connectors load in the commands that use them (a fast --help)
    from onboard_sync.connector import SetupAction
    from onboard_sync.runtime import Runtime


@app.command(short_help="Write a starter config.toml, mappings and rules.")
def init(
    directory: Annotated[Path, typer.Argument(help="Where to write the starter files.")] = Path("."),
    connector: Annotated[
        list[str] | None,
        typer.Option(
            "--connector",
            metavar="TYPE",
            help="Connector type to configure, one instance named after it (repeat for a CRM and a helpdesk: "
            "--connector hubspot --connector zendesk). Default: hubspot. `onboard-sync connectors` lists them.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Replace existing files, keeping each old one as NAME.bak-YYYYMMDD-HHMM.")
    ] = False,
    examples: Annotated[
        bool, typer.Option("--examples", help="Also write the seed example playbooks to rules-examples/.")
    ] = False,
) -> None:
    """Write a working starter set: config.toml, mappings/TYPE.toml and rules/playbook.toml."""
    from onboard_sync.starter import starter_set, write_starter

    now = datetime.now().astimezone()
    starter = starter_set(directory, connector or [], today=now.astimezone(UTC).date(), examples=examples)
    write_starter(
        starter.files, force=force, now=now, say=lambda line: console.print(line, markup=False, soft_wrap=True)
    )
    for note in starter.notes:
        console.print(f"note: {note}", markup=False, soft_wrap=True)
    exports = " ".join(f"{name}=…" for name in starter.secrets)
    console.print(
        (f"Next: export {exports}, then " if exports else "Next: ")
        + "`onboard-sync setup`, `onboard-sync validate --remote`, `onboard-sync plan`.",
        markup=False,
        soft_wrap=True,
    )


@app.command(short_help="List installed connector types and their capabilities.")
def connectors(json: JsonOption = False) -> None:
    """List installed connector types with their versions and capabilities."""
    from rich.table import Table

    from onboard_sync.plugins import connector_types

    types = connector_types()
    if json:
        print_json(
            [
                {
                    "type": t.name,
                    "package": t.package,
                    "version": t.version,
                    "capabilities": sorted(c.value for c in t.capabilities),
                }
                for t in types.values()
            ]
        )
        return
    table = Table(title="Installed connectors")
    for column in ("type", "package", "version", "capabilities"):
        table.add_column(column)
    for t in types.values():
        table.add_row(t.name, t.package, t.version, ", ".join(sorted(c.value for c in t.capabilities)))
    console.print(table)


@app.command(short_help="Check config, rules, mappings, owners (--remote: the CRM).")
def validate(
    config: ConfigOption = None,
    remote: Annotated[bool, typer.Option("--remote", help="Also check every mapped property in the CRM.")] = False,
) -> None:
    """Check config.toml, rules, mappings and owners offline (and, with --remote, against the CRM)."""
    from onboard_sync.checks import remote_problems

    rt = validate_offline(config)
    if not remote:
        return
    _refuse_listing(remote_problems(rt, say=console.print))
    console.print(
        "ok: every mapped property exists in the CRM, can hold what onboard-sync writes and is onboard-sync's "
        "to write; every owner named in [owners] is an active CRM owner",
        markup=False,
    )


def _refuse_listing(problems: list[UserError]) -> None:
    """The full list goes to stdout; stderr gets the one-line error every command promises."""
    from onboard_sync.checks import refuse

    for problem in problems:
        typer.echo(f"problem: {problem}")
    refuse(problems, listed="listed on stdout")


def validate_offline(config: Path | None) -> Runtime:
    """Load every file, then list every problem of what config.toml refers to (``checks``) on stdout and
    stop on the first; print what loaded and how ``serve`` would start. The runtime, for ``--remote``."""
    from onboard_sync.checks import config_problems, offline_problems, refuse
    from onboard_sync.runtime import load_runtime
    from onboard_sync.store.database import redact_url  # SQLAlchemy loads only for the commands that need it
    from onboard_sync.webhooks.server import serve_readiness  # and the receiver only for validate

    rt = load_runtime(config, check=False)
    problems: list[UserError] = [*config_problems(rt.config, rt.playbook), *offline_problems(rt)[0]]
    for problem in problems if len(problems) > 1 else ():  # stderr gets the one line every command promises
        typer.echo(f"problem: {problem}")
    refuse(problems, listed="listed on stdout")
    console.print(
        f"ok: {rt.config.path}: {len(rt.config.connectors)} connector(s), playbook {rt.playbook.name!r} "
        f"({len(rt.playbook.phases)} phases, {len(rt.playbook.segments)} segments), "
        f"{len(rt.mappings)} mapping(s), store {redact_url(rt.config.store_url)}",
        markup=False,
        soft_wrap=True,
    )
    console.print(serve_readiness(rt), markup=False, soft_wrap=True)
    return rt


@app.command(short_help="Create the CRM properties onboard-sync writes (idempotent).")
def setup(
    config: ConfigOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what is missing.")] = False,
) -> None:
    """Create, idempotently, the CRM properties onboard-sync writes (property group "Onboarding")."""
    from rich.markup import escape

    from onboard_sync.connector import Capability
    from onboard_sync.schema import property_specs

    rt = runtime(config)
    for name in rt.instances_with(Capability.FIELD_SINK):
        connector = rt.connector(name)
        try:
            connector.check_auth()
            specs = connector.required_properties() + property_specs(rt.mappings[name], rt.playbook)
            actions = connector.ensure_properties(specs, apply=not dry_run)
        finally:
            connector.close()
        for action in actions:
            by_hand = not (action.done or action.pending)
            prefix = "[yellow]to do by hand:[/yellow] " if by_hand else ""
            console.print(f"{escape(name)}: {prefix}{escape(action.description)}")
        console.print(f"{name}: {setup_summary(actions, dry_run=dry_run)}", markup=False)


def setup_summary(actions: list[SetupAction], *, dry_run: bool) -> str:
    """One sentence counting what setup created (or, in a dry run, would create), what was already
    in place and what is left to an admin."""
    created = sum(1 for a in actions if a.changed)
    pending = sum(1 for a in actions if a.pending and not a.done)
    in_place = sum(1 for a in actions if a.done and not a.changed)
    by_hand = sum(1 for a in actions if not (a.done or a.pending))
    parts = [f"{pending} to create" if dry_run else f"{created} created", f"{in_place} already in place"]
    if by_hand:
        parts.append(f"{by_hand} to do by hand (listed above)")
    sentence = ", ".join(parts)
    if dry_run and pending:
        return f"{sentence}; run `onboard-sync setup` to create {'it' if pending == 1 else 'them'}."
    return f"{sentence}."
