"""Entry point of the built-in Salesforce connector (``[project.entry-points.onboard_sync] salesforce``).

Registers :class:`SalesforceConnector` and the Salesforce sandbox simulator. The sandbox is imported
only when a simulator is actually built, so loading plugins stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from onboard_sync.hookspecs import hookimpl

if TYPE_CHECKING:  # the connector (and its SDK) loads when a connector type is looked up
    from onboard_sync.connectors.salesforce.connector import SalesforceConnector
    from onboard_sync.webhooks.schemes import Scheme


def create_sandbox(**kwargs: Any) -> Any:
    """Build the Salesforce sandbox (``onboard_sync.sandbox.salesforce``) with the given options."""
    from onboard_sync.sandbox.salesforce import create_sandbox as create

    return create(**kwargs)


@hookimpl
def register_connectors(register: Callable[[type[SalesforceConnector]], None]) -> None:
    """Register the Salesforce connector type (``type = "salesforce"``)."""
    from onboard_sync.connectors.salesforce.connector import SalesforceConnector

    register(SalesforceConnector)


@hookimpl
def register_simulators(register: Callable[..., None]) -> None:
    """Register the Salesforce sandbox simulator."""
    register("salesforce", create_sandbox, default_port=8766)


@hookimpl
def register_webhook_schemes(register: Callable[[Scheme], None]) -> None:
    """Register Salesforce's webhook schemes (``salesforce-outbound``, ``salesforce-flow``)."""
    from onboard_sync.connectors.salesforce.webhooks import SalesforceFlowScheme, SalesforceOutboundScheme

    register(SalesforceOutboundScheme())
    register(SalesforceFlowScheme())
