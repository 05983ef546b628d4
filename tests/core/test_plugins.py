"""Connector types from plugins: one class per type name, versions from the installing distribution,
and capabilities that match what the config asks of an instance."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pluggy
import pytest

from onboard_sync import hookimpl, hookspecs
from onboard_sync.connector import Capability, Connector, ConnectorSettings
from onboard_sync.connectors.hubspot import HubSpotConnector
from onboard_sync.errors import ConfigError
from onboard_sync.plugins import connector_types


class ImpostorHubSpot(HubSpotConnector):
    """Another plugin's class claiming the built-in type name."""


class Unversioned(Connector):
    """A plugin class that leaves ``version`` unset, as if shipped in the ``pluggy`` distribution."""

    type_name: ClassVar[str] = "unversioned"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.DEAL_SOURCE})
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings


Unversioned.__module__ = "pluggy.unversioned_plugin"


def _manager(*plugins: Callable[[Callable[[type], None]], None]) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for index, register_connectors in enumerate(plugins):
        plugin = type(f"Plugin{index}", (), {"register_connectors": staticmethod(hookimpl(register_connectors))})
        pm.register(plugin, name=f"plugin-{index}")
    return pm


def test_two_classes_with_one_type_name_are_an_error_naming_both() -> None:
    pm = _manager(lambda register: register(HubSpotConnector), lambda register: register(ImpostorHubSpot))
    with pytest.raises(ConfigError, match="two plugins register connector type 'hubspot'") as caught:
        connector_types(pm)
    message = str(caught.value)
    assert "onboard_sync.connectors.hubspot.connector.HubSpotConnector" in message
    assert "test_plugins.ImpostorHubSpot" in message


def test_the_same_class_registered_twice_is_one_type() -> None:
    pm = _manager(lambda register: register(HubSpotConnector), lambda register: register(HubSpotConnector))
    assert list(connector_types(pm)) == ["hubspot"]


def test_an_unset_version_is_the_distributions() -> None:
    pm = _manager(lambda register: register(Unversioned), lambda register: register(HubSpotConnector))
    types = connector_types(pm)
    assert types["hubspot"].version == "1.0", "a version set on the class wins"
    assert types["unversioned"].package == "pluggy"
    assert types["unversioned"].version == importlib.metadata.version("pluggy")


class DealsOnly(Connector):
    """A plugin that reads deals but cannot hold tasks or fields."""

    type_name: ClassVar[str] = "dealsonly"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.DEAL_SOURCE})
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings


class TicketsOnly(Connector):
    """A plugin that only reads tickets: no field sink."""

    type_name: ClassVar[str] = "ticketsonly"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.TICKET_SOURCE})
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings


class Mapped(Connector):
    """A complete CRM plugin that ships its default mapping."""

    type_name: ClassVar[str] = "mapped"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.DEAL_SOURCE, Capability.TASK_SINK, Capability.FIELD_SINK}
    )
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings
    mapping_text: ClassVar[str] = '[deal.write]\nphase = "onboarding_stage"\n'

    @classmethod
    def default_mapping(cls) -> str | None:
        return cls.mapping_text


@pytest.fixture
def partial_plugins() -> Iterator[None]:
    from onboard_sync.plugins import get_plugin_manager

    class Plugin:
        @staticmethod
        @hookimpl
        def register_connectors(register: Callable[[type], None]) -> None:
            register(DealsOnly)
            register(TicketsOnly)
            register(Mapped)

    pm = get_plugin_manager()
    pm.register(Plugin, name="test-partial-plugins")
    try:
        yield
    finally:
        pm.unregister(name="test-partial-plugins")


def _config(tmp_path: Path, type_name: str, mapping: str) -> Path:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "crm.toml").write_text(mapping, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[connectors.crm]\ntype = "{type_name}"\n', encoding="utf-8")
    return config


def test_a_deal_source_that_cannot_hold_tasks_is_refused(tmp_path: Path, partial_plugins: None) -> None:
    from onboard_sync.runtime import load_runtime

    with pytest.raises(ConfigError, match="reads deals but cannot create tasks") as caught:
        load_runtime(_config(tmp_path, "dealsonly", ""))
    assert "config.toml:2 (connectors.crm.type)" in str(caught.value)


def test_a_mapping_that_writes_fields_through_a_connector_without_a_field_sink_is_refused(
    tmp_path: Path, partial_plugins: None
) -> None:
    from onboard_sync.runtime import load_runtime

    with pytest.raises(ConfigError, match="cannot write fields") as caught:
        load_runtime(_config(tmp_path, "ticketsonly", '[account.write]\nhealth_score = "health"\n'))
    assert "crm.toml:2" in str(caught.value)


def test_a_plugin_ships_its_default_mapping(
    tmp_path: Path, partial_plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onboard_sync.records import ObjectKind
    from onboard_sync.runtime import load_runtime

    config = tmp_path / "config.toml"
    config.write_text('[connectors.crm]\ntype = "mapped"\n', encoding="utf-8")
    runtime = load_runtime(config)  # no mappings/ folder: the plugin's own mapping
    assert runtime.mappings["crm"].objects[ObjectKind.DEAL].write["phase"].property == "onboarding_stage"

    monkeypatch.setattr(Mapped, "mapping_text", '[deal.write]\nphase = "x"\nhelth = "y"\n')
    with pytest.raises(ConfigError, match="helth") as caught:
        load_runtime(config)
    assert "<default mapped mapping>:3" in str(caught.value)
