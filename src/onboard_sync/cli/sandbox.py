"""``onboard-sync sandbox NAME``: run any registered simulator standalone (for trying things out).

One command per simulator a plugin registers through ``register_simulators`` (the built-in
HubSpot, Salesforce and Zendesk ones included), all built the same way by
``add_simulator_commands`` once plugins are loaded: start it with ``--port``/``--seed``/
``--deals``/``--latency``, print the ``[connectors.NAME]`` table and the secrets to export, and
serve until Ctrl-C.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import typer

from onboard_sync.cli import sandbox_app
from onboard_sync.cli.common import console
from onboard_sync.simulator import RegisteredSimulator, Simulator

SeedOption = Annotated[int, typer.Option(help="Seed of the generated data (same seed, same data).")]
DealsOption = Annotated[int, typer.Option(help="How many deals (a helpdesk: customer organizations) to generate.")]
LatencyOption = Annotated[float, typer.Option(help="Added latency per request, in seconds.")]


def add_simulator_commands(registered: Mapping[str, RegisteredSimulator]) -> None:
    """Add ``sandbox NAME`` for each registered simulator that has no command yet."""
    existing = {info.name for info in sandbox_app.registered_commands}
    for name, simulator in sorted(registered.items()):
        if name not in existing:
            sandbox_app.command(name, short_help=f"Serve the {name} simulator until Ctrl-C.")(_command(simulator))


def _command(simulator: RegisteredSimulator) -> Callable[..., None]:
    def run(
        port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = simulator.default_port,
        seed: SeedOption = 0,
        deals: DealsOption = 200,
        latency: LatencyOption = 0.0,
    ) -> None:
        serve_until_interrupted(simulator(seed=seed, deals=deals, latency=latency, port=port), simulator.name)

    run.__doc__ = f"Serve the {simulator.name} simulator until Ctrl-C; print how to connect to it."
    return run


def connection_lines(name: str, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
    """The ``[connectors.NAME]`` table of a connector on a simulator, and the secrets it names
    (only those its ``*_env`` keys name: a simulator may hold more than one way to log in)."""
    from onboard_sync.tomlfile import toml_value  # pydantic loads only when a simulator starts (a fast --help)

    lines = [f"[connectors.{name}]", *(f"{key} = {toml_value(value)}" for key, value in settings.items())]
    named = [value for key, value in settings.items() if key.endswith("_env") and value in secrets]
    return lines + [f"export {env}={secrets[env]}" for env in named]


def serve_until_interrupted(simulator: Simulator, name: str) -> None:
    """Start ``simulator``, print where it is and how to connect, block until Ctrl-C, then stop it."""
    with simulator as running:
        console.print(f"{name} sandbox on {running.base_url}", markup=False, highlight=False)
        console.print("Add this to config.toml and export the secret (Ctrl-C stops):", markup=False)
        for line in connection_lines(name, running.connector_settings(), running.connector_secrets()):
            console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
        threading.Event().wait()
