"""What ``onboard-sync status`` does, without Typer: the Typer command (``cli/status.py``) runs it, and
so does ``main()`` directly when the arguments are only status's own (``cli/status_argv.py``), which
spares ``status`` Typer's and click's import (issue #16's start-up budget)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from onboard_sync.cli.common import open_reads, open_store, print_json, runtime
from onboard_sync.cli.status_table import show_status
from onboard_sync.cli.terminal import text_output
from onboard_sync.cli.text_table import wrap_text

if TYPE_CHECKING:
    from onboard_sync.cli.status_argv import StatusOptions
    from onboard_sync.runtime import Runtime
    from onboard_sync.status import StatusFilter


def run_status(options: StatusOptions) -> None:
    """Show every onboarding, worst first (``--json``: one JSON document with the health explanations)."""
    from onboard_sync.status import StatusFilter, onboarding_views
    from onboard_sync.status_settings import settings_for_status

    wanted = StatusFilter(options.at_risk, options.owner, options.segment, options.phase)
    if options.json:
        rt = runtime(options.config)
        print_json(status_document(rt, wanted.checked(rt.playbook), datetime.now(UTC)))
        return
    # the few settings the table needs, remembered from the last full load of the same files
    settings, loaded = settings_for_status(options.config)
    keep = wanted.checked(settings.playbook)
    now = datetime.now(UTC)
    with open_reads(settings.store_url, options.config, loaded) as reads:  # SQLite at head: sqlite3, no SQLAlchemy
        every = onboarding_views(
            reads, settings.playbook, now, owner_settings=settings.owners, calendar=settings.calendar
        )
    views = [v for v in every if keep(v)]
    out = text_output()
    show_status(views, settings.playbook, options.limit, out=out, total=len(every))
    if every and not views:
        out.write(wrap_text(f"No onboarding matches {keep.describe()}.", out.width))


def status_document(rt: Runtime, keep: StatusFilter, now: datetime) -> dict[str, Any]:
    """What ``status --json`` prints: the views with their health explanations, the filters, the
    last run's report and the helpdesk signals."""
    from onboard_sync.status import onboarding_views
    from onboard_sync.status_health import health_explanations, helpdesk_status

    with open_store(rt, read_only=True, must_exist=True) as store:
        every = onboarding_views(store, rt.playbook, now, owner_settings=rt.config.owners, calendar=rt.calendar)
        views = [v for v in every if keep(v)]
        runs = store.runs(limit=1)
        health = health_explanations(store, [v.id for v in views])
        signals = helpdesk_status(store, rt.config.connectors)
    return {
        "onboardings": [{**v.as_dict(), "health": health.get(v.id)} for v in views],
        "filters": {"at_risk": keep.at_risk, "owner": keep.owner, "segment": keep.segment, "phase": keep.phase},
        "total": len(every),
        "last_run": runs[0].report if runs else None,
        "signals": signals,
    }
