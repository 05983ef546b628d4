"""The plugin contract: every hook a plugin may implement, typed and documented.

Naming follows the house rules: ``register_*`` for contributions, ``resolve_*`` for
single-answer decisions (``firstresult``; the core's default is a ``trylast`` impl in
``onboard_sync.defaults``), past tense for events. The core always calls hooks with
keyword arguments. Built-in connectors use exactly these hooks, found through the
``onboard_sync`` entry-point group like any third-party plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from onboard_sync.connector import Connector
    from onboard_sync.onboarding.state import OnboardingState, Transition
    from onboard_sync.records import Account, Deal, Owner
    from onboard_sync.webhooks.schemes import Scheme

PROJECT = "onboard_sync"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register connector classes: ``register(MyConnector)`` for each one.

    The connector class carries its ``type_name`` (the ``type = "..."`` in config.toml),
    its settings model and its capabilities.
    """


@hookspec
def register_transforms(register: Callable[[str, Callable[[Any], Any]], None]) -> None:
    """Register named value transforms for mappings: ``register("lower", str.lower)``."""


@hookspec
def register_simulators(register: Callable[..., None]) -> None:
    """Register a sandbox simulator for a connector type: ``register("hubspot", factory, default_port=8765)``.

    ``factory(seed=, deals=, latency=, port=)`` returns a ``simulator.Simulator`` (a context manager
    that serves while its block runs, with ``base_url``, ``connector_settings()`` and
    ``connector_secrets()``); ``onboard-sync sandbox NAME`` serves it on ``default_port`` (0: any free
    port) unless ``--port`` says otherwise.
    """


@hookspec
def register_webhook_schemes(register: Callable[[Scheme], None]) -> None:
    """Register webhook verification schemes: ``register(MyScheme())`` for each one.

    A scheme (a ``webhooks.schemes.Scheme``) verifies a delivery, parses it into events and says
    what to answer; ``Connector.webhook_scheme`` (or ``[serve.webhooks.NAME] scheme``) names it.
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add sub-commands to the ``onboard-sync`` Typer application."""


@hookspec
def register_signals(register: Callable[[Callable[..., Any]], None]) -> None:
    """Register health signal sources: ``register(source)`` for each one.

    The engine calls ``source(deal=Deal, account=Account | None, now=datetime)`` once per
    evaluated onboarding per run; it returns an iterable of ``records.Signal`` (``name`` is a
    metric such as ``nps``, ``active_users``, ``meeting_attendance``, ``engagement_score``,
    ``stakeholder_changes``; the latest ``at`` per name wins over CRM properties). Keep it
    fast and side-effect free: cache outside the call, not per onboarding.
    """


@hookspec
def alert_raised(onboarding: OnboardingState, alert: str, episode: int, title: str, task_key: str) -> None:
    """An alert episode opened (its condition became true); its CRM task is ``task_key``.
    Called after the run's writes are recorded: send it to chat, e-mail, a pager (a notifier)."""


@hookspec
def alert_cleared(onboarding: OnboardingState, alert: str, episode: int) -> None:
    """An alert episode cleared (its condition stopped holding)."""


@hookspec(firstresult=True)
def resolve_owner(
    role: str,
    deal: Deal,
    account: Account | None,
    owners: Mapping[str, Owner],
    settings: Mapping[str, Any],
) -> str | None:
    """Return the CRM owner id for a task's ``role`` (``sales``, ``csm``, ``tam`` …), or ``None``
    to leave the task unassigned. ``settings`` is the ``[owners]`` table of config.toml."""


@hookspec(firstresult=True)
def resolve_segment(deal: Deal, account: Account | None) -> str | None:
    """Choose the segment of a new onboarding; ``None`` lets the playbook's segment rules decide."""


@hookspec
def onboarding_transitioned(onboarding: OnboardingState, transition: Transition) -> None:
    """Called after a phase or status change has been recorded."""


@hookspec
def sync_finished(report: Mapping[str, Any]) -> None:
    """Called at the end of every ``sync`` with the run report (the ``sync --json`` object)."""


__all__ = ["PROJECT", "Connector", "hookimpl", "hookspec"]
