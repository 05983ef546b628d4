"""Two plugins claiming one webhook scheme or simulator name are an error naming both (which one
served would depend on the order plugins were loaded in); the same plugin loaded twice is not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import onboard_everyhook as plugin
import pytest

from onboard_sync import hookimpl
from onboard_sync.errors import ConfigError
from onboard_sync.plugins import get_plugin_manager, simulators, webhook_schemes
from onboard_sync.webhooks.schemes import Scheme


class ImpostorScheme(plugin.RelayScheme):
    """Another plugin's scheme under the same name."""


class Impostor:
    @staticmethod
    @hookimpl
    def register_webhook_schemes(register: Callable[[Scheme], None]) -> None:
        register(ImpostorScheme())

    @staticmethod
    @hookimpl
    def register_simulators(register: Callable[..., None]) -> None:
        register("relaycrm", lambda **options: plugin.RelaySimulator(**options))


@pytest.fixture
def plugins() -> Iterator[Any]:
    pm = get_plugin_manager()
    pm.register(plugin, name="onboard-everyhook")
    try:
        yield pm
    finally:
        pm.unregister(name="onboard-everyhook")
        if pm.get_plugin("impostor") is not None:
            pm.unregister(name="impostor")


def test_one_plugin_registers_its_names_once(plugins: Any) -> None:
    assert type(webhook_schemes()["relay-hmac"]) is plugin.RelayScheme
    assert simulators()["relaycrm"].factory is plugin.RelaySimulator


def test_two_plugins_claiming_a_scheme_name_are_named(plugins: Any) -> None:
    plugins.register(Impostor, name="impostor")
    with pytest.raises(ConfigError, match="two plugins register webhook scheme 'relay-hmac'") as caught:
        webhook_schemes()
    assert "RelayScheme" in str(caught.value)
    assert "ImpostorScheme" in str(caught.value)


def test_two_plugins_claiming_a_simulator_name_are_named(plugins: Any) -> None:
    plugins.register(Impostor, name="impostor")
    with pytest.raises(ConfigError, match="two plugins register simulator 'relaycrm'") as caught:
        simulators()
    assert "onboard_everyhook" in str(caught.value)
    assert "test_plugin_conflicts" in str(caught.value)
