"""The plugin manager: built-in and third-party plugins, all found through entry points.

``get_plugin_manager()`` builds one pluggy manager with the hookspecs, the core defaults
and every module registered under the ``onboard_sync`` entry-point group (built-in
connectors included: the core never imports a connector by name). A plugin that fails to
import or register is left out and recorded: ``plugin_load_failures()`` names each one (the
CLI prints them as warnings), and the other plugins work. ``connector_types()`` collects
what ``register_connectors`` returns, ``webhook_schemes()`` what ``register_webhook_schemes`` does.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import pluggy

from onboard_sync import defaults, hookspecs
from onboard_sync.errors import ConfigError
from onboard_sync.simulator import RegisteredSimulator, Simulator
from onboard_sync.usercache import RememberedAnswers

if TYPE_CHECKING:
    from onboard_sync.webhooks.schemes import Scheme

if TYPE_CHECKING:  # the connector model (pydantic) loads when connector types are looked up
    from onboard_sync.connector import Connector, ConnectorType


@dataclass(frozen=True, slots=True)
class PluginLoadFailure:
    """An entry point of the ``onboard_sync`` group that could not be imported or registered."""

    name: str
    distribution: str
    reason: str

    def __str__(self) -> str:
        return f"plugin {self.name!r} (from {self.distribution}) failed to load: {self.reason}"


_failures: list[PluginLoadFailure] = []
_plugin_distributions: dict[str, tuple[str, str]] = {}
"""Top-level package of each loaded entry point's module → its distribution (name, version)."""


@cache
def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager (entry points are loaded once)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(defaults, name="onboard_sync.defaults")
    _failures.extend(load_entry_point_plugins(pm, hookspecs.PROJECT))
    return pm


@cache
def _installations() -> str:
    """The folders distributions are found in (``sys.path``) and the change time of each: installing,
    upgrading or removing a distribution adds or removes its ``.dist-info`` folder there."""
    parts = []
    for folder in sys.path:
        try:
            parts.append(f"{folder}:{os.stat(folder or '.').st_mtime_ns}")
        except OSError:
            parts.append(f"{folder}:-")
    return "\0".join(parts)


ENTRY_POINTS = RememberedAnswers("entry-points.json", _installations, max_entries=4)
"""By group, every entry point as ``[name, value, distribution, version]``, in the order
``importlib.metadata`` found them: a command that starts with the same installed distributions
skips importing ``importlib.metadata`` (email, zipfile, csv and more: ~20 ms) and scanning them all."""


def entry_points_of(group: str) -> list[tuple[str, str, str, str]]:
    """Every entry point of ``group`` as (name, value, distribution name, distribution version)."""
    remembered = ENTRY_POINTS.get(group)
    if isinstance(remembered, list) and all(
        isinstance(row, list) and len(row) == 4 and all(isinstance(part, str) for part in row) for row in remembered
    ):
        return [(name, value, dist, version) for name, value, dist, version in remembered]
    import importlib.metadata

    found = [
        (entry_point.name, entry_point.value, dist.metadata["Name"], dist.version)
        for dist in importlib.metadata.distributions()
        for entry_point in dist.entry_points
        if entry_point.group == group
    ]
    ENTRY_POINTS.put(group, [list(row) for row in found])
    return found


def load_entry_point(value: str) -> Any:
    """The object an entry point's ``module:attr.attr [extras]`` value names, as
    ``importlib.metadata.EntryPoint.load`` finds it (without importing importlib.metadata)."""
    module, _, attributes = value.partition("[")[0].partition(":")
    found = importlib.import_module(module.strip())
    for attribute in filter(None, attributes.strip().split(".")):
        found = getattr(found, attribute)
    return found


def load_entry_point_plugins(pm: pluggy.PluginManager, group: str) -> list[PluginLoadFailure]:
    """Register every plugin of entry-point ``group`` (as pluggy's ``load_setuptools_entrypoints``
    does), leaving out and returning those whose import or registration raises."""
    failures: list[PluginLoadFailure] = []
    for name, value, dist_name, dist_version in entry_points_of(group):
        if pm.get_plugin(name) or pm.is_blocked(name):
            continue
        top = value.split(":")[0].split(".")[0].strip()
        _plugin_distributions.setdefault(top, (dist_name, dist_version))
        try:
            pm.register(load_entry_point(value), name=name)
        except Exception as exc:  # any import-time error of third-party code: name it, go on
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())
            failures.append(PluginLoadFailure(name, f"{dist_name} {dist_version}", reason))
    return failures


def plugin_load_failures() -> list[PluginLoadFailure]:
    """The plugins that failed to load into the process-wide manager (none, normally)."""
    get_plugin_manager()
    return list(_failures)


def loaded_distributions() -> dict[str, tuple[str, str]]:
    """Each loaded entry point's top-level package with its distribution (name, version): what the
    plugins of this process are (``status_settings`` fingerprints its answers with them)."""
    get_plugin_manager()
    return dict(_plugin_distributions)


@cache  # installed distributions do not change while the process runs (and the lookup takes ~0.2 s)
def _distribution_of(module_name: str) -> tuple[str, str]:
    """The distribution of ``module_name``: the one whose entry point loaded its package, else the
    (slow) scan of every installed distribution's files."""
    top = module_name.split(".")[0]
    get_plugin_manager()
    if top in _plugin_distributions:
        return _plugin_distributions[top]
    import importlib.metadata

    for dist_name in importlib.metadata.packages_distributions().get(top, []):
        try:
            return dist_name, importlib.metadata.version(dist_name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return top, "unknown"


def connector_types(pm: pluggy.PluginManager | None = None) -> dict[str, ConnectorType]:
    """Every registered connector type by its ``type_name`` (two classes claiming one name are a
    ConfigError: which one ran would depend on the order plugins were loaded in)."""
    from onboard_sync.connector import ConnectorType

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
        broken = [str(f) for f in plugin_load_failures() if f.name == name]
        hint = broken[0] if broken else "install the plugin that provides it"
        raise ConfigError(f"unknown connector type {name!r} (installed: {installed}); {hint}", where=where)
    return types[name]


def transforms(pm: pluggy.PluginManager | None = None) -> dict[str, Callable[[Any], Any]]:
    """Every named mapping transform."""
    pm = pm or get_plugin_manager()
    found: dict[str, Callable[[Any], Any]] = {}
    pm.hook.register_transforms(register=lambda name, fn: found.__setitem__(name, fn))
    return found


def simulators(pm: pluggy.PluginManager | None = None) -> dict[str, RegisteredSimulator]:
    """Every registered sandbox simulator by name (two plugins claiming one name are a ConfigError)."""
    pm = pm or get_plugin_manager()
    found: dict[str, RegisteredSimulator] = {}

    def register(name: str, factory: Callable[..., Simulator], *, default_port: int = 0) -> None:
        existing = found.get(name)
        if existing is not None and existing.factory is not factory:
            raise ConfigError(
                f"two plugins register simulator {name!r}: {existing.factory.__module__} and "
                f"{factory.__module__}; uninstall one of them"
            )
        found[name] = RegisteredSimulator(name, factory, default_port)

    pm.hook.register_simulators(register=register)
    return found


def webhook_schemes(pm: pluggy.PluginManager | None = None) -> dict[str, Scheme]:
    """Every registered webhook scheme by name (two plugins claiming one name are a ConfigError:
    which one verified deliveries would depend on the order plugins were loaded in)."""
    pm = pm or get_plugin_manager()
    found: dict[str, Scheme] = {}

    def register(scheme: Scheme) -> None:
        existing = found.get(scheme.name)
        if existing is not None and type(existing) is not type(scheme):
            raise ConfigError(
                f"two plugins register webhook scheme {scheme.name!r}: {type(existing).__module__}."
                f"{type(existing).__qualname__} and {type(scheme).__module__}.{type(scheme).__qualname__}; "
                "uninstall one of them"
            )
        found[scheme.name] = scheme

    pm.hook.register_webhook_schemes(register=register)
    return found
