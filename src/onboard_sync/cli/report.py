"""``onboard-sync report``: write the self-contained HTML onboarding report from the store.

Registered by importing this module from ``cli/__init__.py``. Reads the store named by the
config (or ``--store``) with the config's playbook (or ``--rules``); computes with
:func:`onboard_sync.report.collect` and renders with :func:`onboard_sync.report.render_html`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from onboard_sync.cli import app
from onboard_sync.cli.common import ConfigOption, console
from onboard_sync.rules import Playbook


@app.command("report")
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
    from onboard_sync.report import collect, render_html  # the store loads only for this command
    from onboard_sync.store import Store

    health_property = "onboarding_health_score"
    if rules is not None and store is not None:
        from onboard_sync.rules import load_playbook

        playbook = load_playbook(rules)
        url = store
    else:
        from onboard_sync.runtime import load_runtime

        rt = load_runtime(config)
        playbook = load_playbook_override(rules) or rt.playbook
        url = store or rt.config.store_url
        for mapping in rt.mappings.values():
            from onboard_sync.records import ObjectKind

            fmap = mapping.for_kind(ObjectKind.DEAL).write.get("health_score")
            if fmap is not None:
                health_property = fmap.property
                break
    with Store.open(url, read_only=True, must_exist=True) as opened:
        runs = opened.runs(limit=1)
        # "as of" the last sync: a simulation's store lives on its simulated clock
        as_of = (runs[0].finished_at or runs[0].started_at) if runs else datetime.now(UTC)
        data = collect(opened, playbook, as_of, health_property=health_property)
    out.write_text(render_html(data), encoding="utf-8")
    console.print(f"wrote {out} ({data.onboardings} onboardings, {len(data.at_risk)} at risk)")


def load_playbook_override(rules: Path | None) -> Playbook | None:
    if rules is None:
        return None
    from onboard_sync.rules import load_playbook

    return load_playbook(rules)
