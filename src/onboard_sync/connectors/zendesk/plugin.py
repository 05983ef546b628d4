"""Entry point of the built-in Zendesk connector (``[project.entry-points.onboard_sync] zendesk``).

Registers :class:`ZendeskConnector` and the Zendesk sandbox simulator (imported only when built).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from onboard_sync.hookspecs import hookimpl

if TYPE_CHECKING:  # the connector (and its SDK) loads when a connector type is looked up
    from onboard_sync.connectors.zendesk.connector import ZendeskConnector
    from onboard_sync.webhooks.schemes import Scheme


def create_sandbox(**kwargs: Any) -> Any:
    """Build the Zendesk sandbox (``onboard_sync.sandbox.zendesk``) with the given options. A helpdesk
    has no deals: ``deals=N`` seeds N customer organizations (``Customer 1`` … with external ids
    9001 …) unless ``companies`` lists them."""
    from onboard_sync.sandbox.zendesk import create_sandbox as create

    customers = kwargs.pop("deals", 0) or 0
    if "companies" not in kwargs:
        numbers = range(1, customers + 1)
        kwargs["companies"] = [(str(9000 + n), f"Customer {n}", f"customer{n}.example") for n in numbers]
    return create(**kwargs)


@hookimpl
def register_connectors(register: Callable[[type[ZendeskConnector]], None]) -> None:
    """Register the Zendesk connector type (``type = "zendesk"``)."""
    from onboard_sync.connectors.zendesk.connector import ZendeskConnector

    register(ZendeskConnector)


@hookimpl
def register_simulators(register: Callable[..., None]) -> None:
    """Register the Zendesk sandbox simulator."""
    register("zendesk", create_sandbox, default_port=8767)


@hookimpl
def register_webhook_schemes(register: Callable[[Scheme], None]) -> None:
    """Register Zendesk's webhook scheme (``zendesk``)."""
    from onboard_sync.connectors.zendesk.webhooks import ZendeskScheme

    register(ZendeskScheme())
