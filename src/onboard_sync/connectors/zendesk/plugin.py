"""Entry point of the built-in Zendesk connector (``[project.entry-points.onboard_sync] zendesk``).

Registers :class:`ZendeskConnector` and the Zendesk sandbox simulator (imported only when built).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from onboard_sync.hookspecs import hookimpl

if TYPE_CHECKING:  # the connector (and its SDK) loads when a connector type is looked up
    from onboard_sync.connectors.zendesk.connector import ZendeskConnector


def create_sandbox(**kwargs: Any) -> Any:
    """Build the Zendesk sandbox (``onboard_sync.sandbox.zendesk``) with the given options."""
    from onboard_sync.sandbox.zendesk import create_sandbox as create

    return create(**kwargs)


@hookimpl
def register_connectors(register: Callable[[type[ZendeskConnector]], None]) -> None:
    """Register the Zendesk connector type (``type = "zendesk"``)."""
    from onboard_sync.connectors.zendesk.connector import ZendeskConnector

    register(ZendeskConnector)


@hookimpl
def register_simulators(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register the Zendesk sandbox simulator."""
    register("zendesk", create_sandbox)
