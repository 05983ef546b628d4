"""The loaded application: config, playbook, mappings and connector factories in one place.

The CLI commands, the sync engine, the webhook worker and the demo all start from a
``Runtime``: it loads and cross-validates every file once (config.toml, rules, mappings)
and builds connectors wrapped in the core's ``ApiGate``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onboard_sync.calendar_config import calendar_of, catch_up_of
from onboard_sync.checks import config_problems, raise_first
from onboard_sync.config import AppConfig, load_config
from onboard_sync.connector import Capability, Connector
from onboard_sync.errors import ConfigError
from onboard_sync.logs import protect
from onboard_sync.mappings import MappingSet, load_mapping
from onboard_sync.mappings.fields import CANONICAL_FIELDS
from onboard_sync.onboarding.calendar import Calendar
from onboard_sync.onboarding.catchup import CatchUp
from onboard_sync.plugins import connector_type, transforms
from onboard_sync.rules import Playbook, default_playbook_path, load_playbook

if TYPE_CHECKING:  # the call gate (tenacity) loads when a connector is built, not for status
    from onboard_sync.calls.gate import TokenBucket
    from onboard_sync.calls.window import RollingWindowLimiter


@dataclass
class Runtime:
    """Everything loaded from the config folder, validated together."""

    config: AppConfig
    playbook: Playbook
    mappings: dict[str, MappingSet] = field(default_factory=dict)
    shared: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    """Per instance: the ``Connector.shared`` dict of every connector built for it."""

    def connector(
        self,
        name: str,
        *,
        plan_mode: bool = False,
        sleep: Callable[[float], None] | None = None,
        limiters: dict[str, TokenBucket | RollingWindowLimiter] | None = None,
    ) -> Connector:
        """A ready connector instance whose ``call`` is a fresh ``ApiGate`` (its rate limiter shared
        through ``limiters``, the engine's per-run dict, with other connectors of the same instance)."""
        from onboard_sync.calls.gate import ApiGate

        settings = self.config.connectors[name]
        ctype = connector_type(settings.type, where=self.config.where("connectors", name, "type"))
        gate = ApiGate(plan_mode=plan_mode, sleep=sleep) if sleep else ApiGate(plan_mode=plan_mode)
        connector = ctype.cls(name, settings, self.config.secrets, gate)
        connector.shared = self.shared.setdefault(name, {})
        gate.bind_connector(connector, limiters=limiters)
        return connector

    @cached_property
    def calendar(self) -> Calendar:
        """The people's calendar (time zone, due time, business days) of ``[onboard_sync]``."""
        return calendar_of(self.config.core)

    @cached_property
    def catch_up(self) -> CatchUp:
        """The catch-up policy of ``[onboard_sync]``."""
        return catch_up_of(self.config.core)

    def instances_with(self, capability: Capability) -> list[str]:
        """Connector instance names whose type has ``capability``, in config order."""
        return [
            name
            for name, settings in self.config.connectors.items()
            if capability in connector_type(settings.type).capabilities
        ]


def load_runtime(config_path: Path | None = None, *, check: bool = True) -> Runtime:
    """Load config.toml, the playbook and every instance's mapping; cross-check them, and (unless
    ``check`` is false: ``validate`` lists them itself) raise the first of ``checks.config_problems``."""
    config = load_config(config_path)
    protect(config.secret_values())
    rules_path = config.rules_path
    if not rules_path.exists():
        if config.document and "rules" in config.document.data.get("onboard_sync", {}):
            raise ConfigError("rules path not found", where=config.where("onboard_sync", "rules"))
        rules_path = default_playbook_path()
    playbook = load_playbook(rules_path)
    named = transforms()
    mappings: dict[str, MappingSet] = {}
    for name, settings in config.connectors.items():
        capabilities = connector_type(settings.type).capabilities
        if Capability.DEAL_SOURCE in capabilities and Capability.TASK_SINK not in capabilities:
            raise ConfigError(
                f"connector type {settings.type!r} reads deals but cannot create tasks (it lacks the "
                "task-sink capability): an onboarding's tasks go to the CRM its deal came from",
                where=config.where("connectors", name, "type"),
            )
        mapping = load_mapping(config.mappings_dir, name, settings.type, named)
        if Capability.FIELD_SINK not in capabilities:
            for obj in mapping.objects.values():
                for fmap in obj.write.values():
                    raise ConfigError(
                        f"connector type {settings.type!r} cannot write fields (it lacks the field-sink "
                        "capability): remove the [*.write] tables of this mapping",
                        where=fmap.where,
                    )
        for kind, obj in mapping.objects.items():
            for canonical, fmap in obj.write.items():
                if canonical not in playbook.field_names() and canonical in CANONICAL_FIELDS:
                    raise ConfigError(
                        f"field {canonical!r} ({kind.value}) is not produced by playbook {playbook.name!r}",
                        where=fmap.where,
                    )
        mappings[name] = mapping
    if check:
        raise_first(config_problems(config, playbook))
    return Runtime(config=config, playbook=playbook, mappings=mappings)
