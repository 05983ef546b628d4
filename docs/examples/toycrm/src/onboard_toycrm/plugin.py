"""The plugin's entry point: ``[project.entry-points.onboard_sync] toycrm = "onboard_toycrm.plugin"``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onboard_sync import Connector, hookimpl
from onboard_toycrm.activities import ToyActivitiesConnector
from onboard_toycrm.connector import ToyCrmConnector


@hookimpl
def register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register the ToyCRM connector types: ``type = "toycrm"`` (tasks) and ``"toycrm-activities"``."""
    register(ToyCrmConnector)
    register(ToyActivitiesConnector)


@hookimpl
def register_simulators(register: Callable[..., None]) -> None:
    """Register ToyCRM's simulator: ``onboard-sync sandbox toycrm`` serves a seeded workspace."""
    register("toycrm", create_simulator, default_port=8791)


def create_simulator(**options: Any) -> Any:
    """``onboard_toycrm.sim.create_sandbox``, imported when a simulator is wanted (not on every CLI start)."""
    from onboard_toycrm.sim import create_sandbox

    return create_sandbox(**options)
