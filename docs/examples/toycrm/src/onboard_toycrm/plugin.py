"""The plugin's entry point: ``[project.entry-points.onboard_sync] toycrm = "onboard_toycrm.plugin"``."""

from __future__ import annotations

from collections.abc import Callable

from onboard_sync import Connector, hookimpl
from onboard_toycrm.activities import ToyActivitiesConnector
from onboard_toycrm.connector import ToyCrmConnector


@hookimpl
def register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register the ToyCRM connector types: ``type = "toycrm"`` (tasks) and ``"toycrm-activities"``."""
    register(ToyCrmConnector)
    register(ToyActivitiesConnector)
