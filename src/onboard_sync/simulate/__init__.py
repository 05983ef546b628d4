"""Simulation: a synthetic customer runs through a playbook on a simulated clock.

``onboard-sync simulate`` (:mod:`onboard_sync.cli.simulate`) calls :func:`simulate`, which
drives the real sync engine against the HubSpot sandbox with a frozen clock advanced day by
day, while a scripted person (:mod:`onboard_sync.simulate.scenarios`) completes tasks and
reports usage. The result is a day-by-day :class:`Timeline`.
"""

from typing import Any

from onboard_sync.simulate.scenarios import SCENARIOS, Scenario
from onboard_sync.simulate.timeline import DayRecord, Timeline

__all__ = ["SCENARIOS", "DayRecord", "Scenario", "Timeline", "simulate"]


def __getattr__(name: str) -> Any:
    """``simulate`` loads the engine, the store and the sandbox: only when it is used (fast CLI start)."""
    if name == "simulate":
        from onboard_sync.simulate.runner import simulate

        return simulate
    raise AttributeError(name)
