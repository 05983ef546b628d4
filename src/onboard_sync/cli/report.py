"""``onboard-sync report``: write the self-contained HTML onboarding report from the store.

Registered by importing this module from ``cli/__init__.py``. Reads the store named by the
config (or ``--store``) with the config's playbook (or ``--rules``); computes with
:func:`onboard_sync.report.collect` and renders with :func:`onboard_sync.report.render_html`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from onboard_sync.cli import app
from onboard_sync.cli.common import console
from onboard_sync.cli.options import ConfigOption
from onboard_sync.errors import UserError

if TYPE_CHECKING:  # rules load when the report is written (a fast --help)
    from onboard_sync.rules import Playbook


@app.command("report", short_help="Write an HTML report: funnel, phases, health, outcomes.")
def report_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the HTML report.")] = Path("report.html"),
    store: Annotated[
        str | None, typer.Option("--store", help="Store URL (default: the config's; e.g. from `simulate --store`).")
    ] = None,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="Playbook rules (default: the config's playbook).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write an HTML report (funnel, time to first value, phase durations, health, at-risk, success metrics)."""
    from onboard_sync.onboarding.calendar import UTC_CALENDAR
    from onboard_sync.report import collect, render_html  # the store loads only for this command
    from onboard_sync.store import Store

    calendar = UTC_CALENDAR  # without a config, days count in UTC
    if rules is not None and store is not None:
        from onboard_sync.rules import load_playbook

        playbook = load_playbook(rules)
        url = store
    else:
        from onboard_sync.runtime import load_runtime

        rt = load_runtime(config)
        playbook = load_playbook_override(rules) or rt.playbook
        url = store or rt.config.store_url
        calendar = rt.calendar
    _require_store_file(url)
    with Store.open(url, read_only=True, must_exist=True) as opened:
        runs = opened.runs(limit=1)
        # "as of" the last sync: a simulation's store lives on its simulated clock
        as_of = (runs[0].finished_at or runs[0].started_at) if runs else datetime.now(UTC)
        data = collect(opened, playbook, as_of, calendar)
    try:
        out.write_text(render_html(data), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write the report: {exc.strerror or exc}", where=str(out)) from exc
    console.print(f"wrote {out} ({data.onboardings} onboardings, {len(data.at_risk)} at risk)", markup=False)


def _require_store_file(url: str) -> None:
    """A SQLite store that does not exist is a mistake here (a read-only open would report an empty store)."""
    import sqlalchemy as sa

    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return  # Store.open names the problem
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:"):
        path = Path(database).expanduser()
        if not path.exists():
            raise UserError(
                "no store here; run `onboard-sync sync` (or `simulate --store URL`) first, or check --store",
                where=str(path),
            )


def load_playbook_override(rules: Path | None) -> Playbook | None:
    if rules is None:
        return None
    from onboard_sync.rules import load_playbook

    return load_playbook(rules)
