"""Set-up commands: ``init`` (starter files), ``connectors``, ``validate`` and ``setup`` (CRM properties)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from onboard_sync.cli import app
from onboard_sync.cli.common import ConfigOption, JsonOption, console, print_json, runtime
from onboard_sync.connector import Capability, SetupAction
from onboard_sync.errors import ConfigError, SchemaError
from onboard_sync.mappings.loader import default_mapping_text
from onboard_sync.plugins import connector_types
from onboard_sync.rules import default_playbook_path, example_playbooks
from onboard_sync.schema import check_remote, property_specs

STARTER_WON_SINCE_DAYS = 30
"""``init`` onboards deals won in the last 30 days, not every customer the CRM ever won."""

STARTER_CONFIG = """\
# onboard-sync configuration. Reference: docs/configuration.md
[onboard_sync]
store = "sqlite:///onboard-sync.db"   # or postgresql+psycopg://user@host/db
rules = "rules"                       # playbook rules (directory of .toml files)
mappings = "mappings"                 # field mappings, one file per connector instance
timezone = "UTC"
lookback_minutes = 10
# Won deals that closed before this day get no onboarding (customers onboarded before
# onboard-sync). `init` sets it 30 days before today; remove it to onboard every won deal.
onboard_won_since = {won_since}
# secrets_file = ".env"               # optional dotenv file with the secrets below

[owners]
# Who gets each task role. sales = the deal owner. A list is a pool: each deal gets one
# stable member. "deal_owner", "account_owner" or "property:NAME" work too.
sales = "deal_owner"
csm = "deal_owner"
implementation = "deal_owner"
tam = "deal_owner"
support = "deal_owner"
account_manager = "account_owner"

[connectors.hubspot]
type = "hubspot"
token_env = "HUBSPOT_TOKEN"           # a private-app token, read from this environment variable
won_stages = ["closedwon"]
lost_stages = ["closedlost"]
"""


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to write the starter files.")] = Path("."),
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
    examples: Annotated[
        bool, typer.Option("--examples", help="Also write the seed example playbooks to rules-examples/.")
    ] = False,
) -> None:
    """Write a working starter set: config.toml, mappings/hubspot.toml and rules/playbook.toml."""
    won_since = datetime.now(UTC).date() - timedelta(days=STARTER_WON_SINCE_DAYS)
    files = {
        directory / "config.toml": STARTER_CONFIG.replace("{won_since}", won_since.isoformat()),
        directory / "mappings" / "hubspot.toml": default_mapping_text("hubspot") or "",
    }
    rules_source = default_playbook_path()
    sources = sorted(rules_source.glob("*.toml")) if rules_source.is_dir() else [rules_source]
    for source in sources:
        files[directory / "rules" / source.name] = source.read_text(encoding="utf-8")
    if examples:  # one file per seed SOP; try one with `onboard-sync simulate --rules rules-examples/FILE`
        for name, path in example_playbooks().items():
            if path.is_file():
                files[directory / "rules-examples" / f"{name}.toml"] = path.read_text(encoding="utf-8")
    existing = [p for p in files if p.exists()]
    if existing and not force:
        raise ConfigError("already exists (use --force to overwrite)", where=str(existing[0]))
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        console.print(f"wrote {path}")
    console.print(
        "Next: export HUBSPOT_TOKEN=…, then `onboard-sync validate --remote`, `onboard-sync setup`, "
        "`onboard-sync plan`."
    )


@app.command()
def connectors(json: JsonOption = False) -> None:
    """List installed connector types with their versions and capabilities."""
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


@app.command()
def validate(
    config: ConfigOption = None,
    remote: Annotated[bool, typer.Option("--remote", help="Also check every mapped property in the CRM.")] = False,
) -> None:
    """Check config.toml, rules and mappings offline (and, with --remote, against the CRM schema)."""
    rt = runtime(config)
    console.print(
        f"ok: {rt.config.path}: {len(rt.config.connectors)} connector(s), playbook {rt.playbook.name!r} "
        f"({len(rt.playbook.phases)} phases, {len(rt.playbook.segments)} segments), "
        f"{len(rt.mappings)} mapping(s)"
    )
    if not remote:
        return
    problems = []
    for name in rt.config.connectors:
        connector = rt.connector(name)
        try:
            who = connector.check_auth()
            console.print(f"ok: {name}: authenticated ({who})")
            problems.extend(check_remote(connector, rt.mappings[name]))
        finally:
            connector.close()
    if problems:
        # The full list goes to stdout; stderr gets the one-line error every command promises.
        for problem in problems:
            typer.echo(f"problem: {problem}")
        first, more = problems[0], len(problems) - 1
        if more:
            raise SchemaError(
                f"{first.message} (and {more} more problem{'s' if more > 1 else ''}, listed on stdout)",
                where=first.where,
            )
        raise first
    console.print("ok: every mapped property exists in the CRM")


@app.command()
def setup(
    config: ConfigOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what is missing.")] = False,
) -> None:
    """Create, idempotently, the CRM properties onboard-sync writes (property group "Onboarding")."""
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
            console.print(f"{name}: {prefix}{escape(action.description)}")
        console.print(f"{name}: {setup_summary(actions, dry_run=dry_run)}")


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
