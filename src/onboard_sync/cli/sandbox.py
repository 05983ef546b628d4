"""``onboard-sync sandbox NAME``: run a connector's local simulator standalone (for trying things out)."""

from __future__ import annotations

from typing import Annotated

import typer

from onboard_sync.cli import sandbox_app
from onboard_sync.cli.common import console
from onboard_sync.errors import ConfigError
from onboard_sync.plugins import simulators

PortOption = Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")]
SeedOption = Annotated[int, typer.Option(help="Seed of the generated data (same seed, same data).")]
DealsOption = Annotated[int, typer.Option(help="How many deals to generate.")]
LatencyOption = Annotated[float, typer.Option(help="Added latency per request, in seconds.")]


@sandbox_app.command("hubspot")
def hubspot(
    port: PortOption = 8765, seed: SeedOption = 0, deals: DealsOption = 200, latency: LatencyOption = 0.0
) -> None:
    """Serve the HubSpot simulator until Ctrl-C; prints its base URL and token."""
    factories = simulators()
    if "hubspot" not in factories:
        raise ConfigError("no HubSpot simulator installed (the hubspot connector plugin provides it)")
    from onboard_sync.sandbox.hubspot import serve_forever

    sandbox = factories["hubspot"](seed=seed, deals=deals, latency=latency, port=port)
    sandbox.start()
    console.print(f"HubSpot sandbox on {sandbox.base_url}")
    console.print(f"token: {sandbox.token}")
    console.print("Point a connector at it with base_url = that URL and the token in its token_env. Ctrl-C stops.")
    serve_forever(sandbox)


@sandbox_app.command("zendesk")
def zendesk(port: PortOption = 8767, seed: SeedOption = 0, latency: LatencyOption = 0.0, orphans: int = 2) -> None:
    """Serve the Zendesk simulator until Ctrl-C (organizations seeded without a CRM; prints the API token)."""
    factories = simulators()
    if "zendesk" not in factories:
        raise ConfigError("no Zendesk simulator installed (the zendesk connector plugin provides it)")
    from onboard_sync.sandbox.zendesk import serve_forever

    companies = [(str(9000 + n), f"Customer {n}", f"customer{n}.example") for n in range(1, 11)]
    sandbox = factories["zendesk"](seed=seed, latency=latency, port=port, companies=companies, orphans=orphans)
    sandbox.start()
    console.print(f"Zendesk sandbox on {sandbox.base_url}")
    console.print(f"email: {sandbox.email}  api token: {sandbox.api_token}")
    console.print("Point a zendesk connector at it with base_url, email and the token in its token_env. Ctrl-C stops.")
    serve_forever(sandbox)


@sandbox_app.command("salesforce")
def salesforce(
    port: PortOption = 8766, seed: SeedOption = 0, deals: DealsOption = 200, latency: LatencyOption = 0.0
) -> None:
    """Serve the Salesforce simulator (HTTPS, generated CA) until Ctrl-C; prints its URL, CA and app keys."""
    factories = simulators()
    if "salesforce" not in factories:
        raise ConfigError("no Salesforce simulator installed (the salesforce connector plugin provides it)")
    from onboard_sync.sandbox.salesforce import SECRET_ENV, serve_forever

    sandbox = factories["salesforce"](seed=seed, deals=deals, latency=latency, port=port)
    sandbox.start()
    console.print(f"Salesforce sandbox on {sandbox.base_url}")
    console.print(f"CA bundle: {sandbox.ca_bundle}")
    console.print("connector table:")
    for key, value in sandbox.connector_settings().items():
        console.print(f'  {key} = "{value}"', markup=False)
    console.print(f"and {SECRET_ENV}={sandbox.app_credentials.consumer_secret} in the environment. Ctrl-C stops.")
    serve_forever(sandbox)
