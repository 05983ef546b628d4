"""The plugin manager: built-in and third-party plugins, all found through entry points.

``get_plugin_manager()`` builds one pluggy manager with the hookspecs, the core defaults
and every module registered under the ``onboard_sync`` entry-point group (built-in
connectors included: the core never imports a connector by name). ``connector_types()``
collects what ``register_connectors`` returns.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from functools import cache
from typing import Any

import pluggy

from onboard_sync import defaults, hookspecs
from onboard_sync.connector import Connector, ConnectorType
from onboard_sync.errors import ConfigError


@cache
def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager (entry points are loaded once)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(defaults, name="onboard_sync.defaults")
    pm.load_setuptools_entrypoints(hookspecs.PROJECT)
    return pm


@cache  # installed distributions do not change while the process runs (and the lookup takes ~0.2 s)
def _distribution_of(module_name: str) -> tuple[str, str]:
    top = module_name.split(".")[0]
    for dist_name in importlib.metadata.packages_distributions().get(top, []):
        try:
            return dist_name, importlib.metadata.version(dist_name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return top, "unknown"


def connector_types(pm: pluggy.PluginManager | None = None) -> dict[str, ConnectorType]:
    """Every registered connector type by its ``type_name`` (two classes claiming one name are a
    ConfigError: which one ran would depend on the order plugins were loaded in)."""
    pm = pm or get_plugin_manager()
    found: dict[str, ConnectorType] = {}

    def register(cls: type[Connector]) -> None:
        package, version = _distribution_of(cls.__module__)
        existing = found.get(cls.type_name)
        if existing is not None and existing.cls is not cls:
            raise ConfigError(
                f"two plugins register connector type {cls.type_name!r}: "
                f"{existing.cls.__module__}.{existing.cls.__qualname__} (from {existing.package}) and "
                f"{cls.__module__}.{cls.__qualname__} (from {package}); uninstall one of them"
            )
        found[cls.type_name] = ConnectorType(
            name=cls.type_name, cls=cls, package=package, version=cls.version or version
        )

    pm.hook.register_connectors(register=register)
    return found


def connector_type(name: str, *, where: str | None = None) -> ConnectorType:
    """The connector type ``name`` or a ConfigError listing the installed ones."""
    types = connector_types()
    if name not in types:
        installed = ", ".join(sorted(types)) or "none"
        raise ConfigError(
            f"unknown connector type {name!r} (installed: {installed}); install the plugin that provides it",
            where=where,
        )
    return types[name]


def transforms(pm: pluggy.PluginManager | None = None) -> dict[str, Callable[[Any], Any]]:
    """Every named mapping transform."""
    pm = pm or get_plugin_manager()
    found: dict[str, Callable[[Any], Any]] = {}
    pm.hook.register_transforms(register=lambda name, fn: found.__setitem__(name, fn))
    return found


def simulators(pm: pluggy.PluginManager | None = None) -> dict[str, Callable[..., Any]]:
    """Every registered sandbox simulator factory by connector type."""
    pm = pm or get_plugin_manager()
    found: dict[str, Callable[..., Any]] = {}
    pm.hook.register_simulators(register=lambda name, fn: found.__setitem__(name, fn))
    return found
