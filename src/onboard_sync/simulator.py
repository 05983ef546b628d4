"""What a plugin's sandbox simulator offers: the ``Simulator`` protocol and its registration.

A connector package registers a factory through the ``register_simulators`` hook:
``register("toycrm", factory, default_port=8790)``. ``factory(seed=, deals=, latency=, port=)``
returns a ``Simulator``: a local imitation of the vendor's API over real HTTP on 127.0.0.1, served
while its ``with`` block runs.
``onboard-sync sandbox NAME`` (``cli/sandbox.py``) starts any registered one the same way and
prints the ``[connectors.NAME]`` table and the secrets that point a connector at it; tests and
the pytest plugin call the same factory. The built-in HubSpot, Salesforce and Zendesk
simulators are registered by their connector packages like any plugin's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class Simulator(Protocol):
    """A running (or startable) simulator of one vendor's API."""

    base_url: str
    """Where it listens once started, e.g. ``http://127.0.0.1:8765``."""

    def __enter__(self) -> Simulator:
        """Serve on loopback; return (itself) once the server accepts connections."""

    def __exit__(self, *exc: object) -> None:
        """Stop serving and release what starting took (the port, generated files)."""

    def connector_settings(self) -> Mapping[str, Any]:
        """The ``[connectors.NAME]`` table of a connector on this simulator, ``type`` included;
        secrets only by the names of their environment variables (``*_env`` keys)."""

    def connector_secrets(self) -> Mapping[str, str]:
        """The secrets that table names, by environment variable."""


@dataclass(frozen=True, slots=True)
class RegisteredSimulator:
    """A simulator factory as a plugin registered it; calling it builds a (stopped) simulator."""

    name: str
    factory: Callable[..., Simulator]
    default_port: int = 0
    """The port ``onboard-sync sandbox NAME`` listens on without ``--port`` (0: any free one)."""

    def __call__(self, **options: Any) -> Any:
        return self.factory(**options)


__all__ = ["RegisteredSimulator", "Simulator"]
