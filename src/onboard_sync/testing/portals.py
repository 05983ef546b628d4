"""Many HubSpot sandbox portals on one address, and a config folder with one connector instance per portal.

Used by the multi-host tests (tests/cluster) and the scale-out bench: the agency case, where one
onboard-sync deployment serves many portals, each with its own token, rate limit and latency::

    portals = Portals.start(12, host=net.gateway, deals=20)
    folder = portals.write_config(tmp_path, store_url)   # [connectors.hs01] ... [connectors.hs12]
    portals["hs03"].requests                             # who called portal hs03, when

Instance ``hsNN`` is served by the sandbox seeded ``seed + NN``; its token is in the folder's ``.env``
(``ONBOARD_SYNC_HS<NN>_TOKEN``). ``spread=True`` gives each portal its own rate limit (40 to 95
requests per rolling 10 s) and latency (5 to 27 ms), so that no two portals are alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onboard_sync.cli.demo_crm import OWNERS_TABLE
from onboard_sync.mappings.loader import default_mapping_text
from onboard_sync.sandbox.hubspot import HubSpotSandbox


def instance_name(n: int) -> str:
    """``hs01``, ``hs02``, ...: the connector instance of portal ``n`` (1-based)."""
    return f"hs{n:02d}"


def token_env(name: str) -> str:
    return f"ONBOARD_SYNC_{name.upper()}_TOKEN"


@dataclass
class Portals:
    """Started sandboxes by instance name."""

    sandboxes: dict[str, HubSpotSandbox]

    @classmethod
    def start(
        cls,
        count: int,
        *,
        host: str = "127.0.0.1",
        deals: int = 20,
        seed: int = 100,
        spread: bool = True,
        latency: float = 0.0,
        rate_limit: tuple[int, float] | None = None,
    ) -> Portals:
        """Start ``count`` portals on ``host``; ``spread`` varies limits and latency per portal (see module)."""
        started: dict[str, HubSpotSandbox] = {}
        try:
            for n in range(1, count + 1):
                limit, lag = (40 + 5 * (n % 12), 10.0), 0.005 + 0.002 * (n % 12)
                started[instance_name(n)] = HubSpotSandbox(
                    seed=seed + n,
                    deals=deals,
                    host=host,
                    latency=lag if spread else latency,
                    rate_limit=limit if spread else rate_limit,
                ).start()
        except BaseException:
            for sb in started.values():
                sb.stop()
            raise
        return cls(started)

    def __getitem__(self, name: str) -> HubSpotSandbox:
        return self.sandboxes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.sandboxes)

    def items(self) -> Iterator[tuple[str, HubSpotSandbox]]:
        return iter(self.sandboxes.items())

    def stop(self) -> None:
        for sb in self.sandboxes.values():
            sb.stop()

    def secrets(self) -> dict[str, str]:
        return {token_env(name): sb.token for name, sb in self.sandboxes.items()}

    def write_config(self, folder: Path, store_url: str, *, extra: str = "") -> Path:
        """A config folder (config.toml, mappings/hubspot.toml, .env) for every portal; returns config.toml."""
        urls = {name: sb.base_url for name, sb in self.items()}
        return write_portals_config(folder, store_url, urls, self.secrets(), extra)

    def clear_logs(self) -> None:
        for sb in self.sandboxes.values():
            sb.requests.clear()


def write_portals_config(
    folder: Path, store_url: str, base_urls: dict[str, str], secrets: dict[str, str], extra: str = ""
) -> Path:
    """config.toml with one ``[connectors.NAME]`` table per ``base_urls`` entry; tokens go to ``.env``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mappings").mkdir(exist_ok=True)
    (folder / "mappings" / "hubspot.toml").write_text(default_mapping_text("hubspot") or "", encoding="utf-8")
    env = folder / ".env"
    env.write_text("".join(f"{k}={v}\n" for k, v in secrets.items()), encoding="utf-8")
    env.chmod(0o600)
    tables = "".join(
        f'\n[connectors.{name}]\ntype = "hubspot"\nbase_url = "{url}"\ntoken_env = "{token_env(name)}"\n'
        for name, url in base_urls.items()
    )
    core = f'[onboard_sync]\nstore = "{store_url}"\nmappings = "mappings"\nsecrets_file = ".env"\n'
    config = folder / "config.toml"
    config.write_text(f"{core}{extra}\n{OWNERS_TABLE}{tables}", encoding="utf-8")
    return config


def won_deals(sandbox: Any) -> set[str]:
    """Ids of the portal's won, not archived deals: each must end with exactly one onboarding."""
    return {
        deal_id
        for deal_id, deal in sandbox.backend.deals.items()
        if deal.properties.get("dealstage") == "closedwon" and not deal.archived
    }


__all__ = ["Portals", "instance_name", "token_env", "won_deals", "write_portals_config"]
