"""Reading ``[[alerts]]`` and the extra ``[health]`` keys of a playbook (helpdesk signals issue).

Kept apart from :mod:`onboard_sync.rules.loader` (which calls these) so the loader stays small.
An alert rule is a CEL condition over the same names as every other rule (``metrics``,
``health``, ``phase`` …); when it becomes true an *episode* opens and a task goes to the
owner role (see :mod:`onboard_sync.sync.alerts`). Errors name file, line and key path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onboard_sync.rules.expressions import RULE_NAMES
from onboard_sync.rules.model import PLACEHOLDERS, PRIORITIES, AlertRule, Playbook
from onboard_sync.rules.table import MAX_DAYS

if TYPE_CHECKING:
    from onboard_sync.rules.table import RuleTable

HEALTH_STATUSES = ("healthy", "at-risk", "critical")


def read_alert(t: RuleTable) -> AlertRule:
    """One ``[[alerts]]`` table."""
    key = t.ident()
    when = t.condition("when", RULE_NAMES)
    if when is None:
        raise t.typo_of("when") or t.src.error(t.path, "an alert needs a 'when' condition (CEL)")
    priority = t.text("priority", "HIGH").upper()
    if priority not in PRIORITIES:
        raise t.src.error((*t.path, "priority"), f"'priority' must be one of {', '.join(PRIORITIES)}")
    due_hours = t.number("due_hours", maximum=MAX_DAYS * 24)
    if due_hours is not None and due_hours < 0:
        raise t.src.error((*t.path, "due_hours"), "'due_hours' must be 0 or more")
    rule = AlertRule(
        key=key,
        when=when,
        title=t.template("title", allowed=PLACEHOLDERS),
        body=t.template("body", "", allowed=PLACEHOLDERS),
        owner=t.text("owner", "csm"),
        priority=priority,
        due_hours=24.0 if due_hours is None else due_hours,
        description=t.text("description", ""),
        close_when_cleared=t.flag("close_when_cleared", False),
        where=t.src.where((*t.path, "key")),
    )
    t.done()
    return rule


def check_alert_owners(playbook: Playbook) -> None:
    """Every alert names a known owner role."""
    from onboard_sync.errors import ConfigError

    for rule in playbook.alerts:
        if rule.owner not in playbook.roles:
            raise ConfigError(
                f"unknown owner role {rule.owner!r} (known: {', '.join(sorted(playbook.roles))})",
                where=rule.where,
            )


def read_health_extras(t: RuleTable) -> dict[str, Any]:
    """``ticket_stale_days`` and ``[health.status_reasons]`` (text per status, ``{score}`` allowed)."""
    extras: dict[str, Any] = {}
    if "ticket_stale_days" in t.data:
        extras["ticket_stale_days"] = t.integer("ticket_stale_days")
    reasons = t.table("status_reasons")
    if reasons is not None:
        texts: dict[str, str] = {}
        for status in HEALTH_STATUSES:
            value = reasons.opt_text(status)
            if value is not None:
                texts[status] = value
        reasons.done()
        extras["status_reasons"] = texts
    return extras
