"""Offline checks of what config.toml refers to, shared by ``validate`` and every command that runs.

Each file loads on its own (config.toml, rules, mappings); these checks look at what the files
name, and at the machine, without calling any CRM:

* ``[owners]`` keys are owner roles the playbook uses;
* ``[serve.webhooks.NAME]`` names a connector instance and a known verification scheme;
* a helpdesk's ``[connectors.NAME.link] crm`` names a connector instance that reads deals;
* every ``mappings/*.toml`` file belongs to a connector instance or type (a misspelt file name is
  otherwise ignored silently, and the shipped default used instead);
* the store URL is a supported backend whose driver is installed and, for SQLite, a file in a
  folder that exists (a mistyped path would start a new, empty store);
* no connector setting still holds a starter placeholder (``init`` writes ``REPLACE-…`` where a
  person must fill in a value: a Zendesk subdomain, a Salesforce consumer key or user name).

:func:`config_problems` returns every problem (``validate`` lists them all);
:func:`onboard_sync.runtime.load_runtime` raises the first, so ``sync``, ``plan``, ``serve`` and the
rest refuse exactly what ``validate`` refuses. ``serve`` adds only what needs its environment (the
webhook signing secrets, see ``webhooks.server.resolve_routes``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from onboard_sync.connector import PLACEHOLDER, Capability
from onboard_sync.errors import ConfigError, UserError
from onboard_sync.keys import did_you_mean
from onboard_sync.linking import LinkSettings
from onboard_sync.plugins import connector_type, webhook_schemes
from onboard_sync.tomlfile import shown_path

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from onboard_sync.config import AppConfig
    from onboard_sync.rules import Playbook

STORE_BACKENDS = ("sqlite", "postgresql")


def config_problems(config: AppConfig, playbook: Playbook) -> list[ConfigError]:
    """Every reference in config.toml that points nowhere, in file order of the checks above."""
    return [
        *owner_problems(config, playbook),
        *webhook_problems(config),
        *link_problems(config),
        *mapping_file_problems(config),
        *store_problems(config),
        *placeholder_problems(config),
    ]


def raise_first(problems: Sequence[UserError], *, listed: bool = False) -> None:
    """Raise the first problem, counting the others: ``listed`` on stdout already, or for ``validate`` to list."""
    from onboard_sync.checks.runtime import refuse

    refuse(problems, listed="listed on stdout" if listed else "`onboard-sync validate` lists them")


def owner_problems(config: AppConfig, playbook: Playbook) -> Iterator[ConfigError]:
    """``[owners]`` keys that are no owner role of the playbook (they would never be used)."""
    for role in config.owners:
        if role not in playbook.roles:
            yield ConfigError(
                f"unknown owner role {role!r}{did_you_mean(role, playbook.roles)}; playbook {playbook.name!r} "
                f"has {', '.join(sorted(playbook.roles))}",
                where=config.where("owners", role),
            )


def webhook_problems(config: AppConfig) -> Iterator[ConfigError]:
    """``[serve.webhooks.NAME]`` tables for no connector instance, or with an unknown scheme (the
    schemes are what plugins register, so the receiver need not be imported to know them)."""
    instances = list(config.connectors)
    for name, route in config.serve.webhooks.items():
        if name not in config.connectors:
            yield ConfigError(
                f"[serve.webhooks.{name}] names no connector instance{did_you_mean(name, instances)} "
                f"(have: {', '.join(instances) or 'none'})",
                where=config.where("serve", "webhooks", name),
            )
        if route.scheme is not None and route.scheme not in (known := sorted(webhook_schemes())):
            yield ConfigError(
                f"unknown webhook scheme {route.scheme!r}{did_you_mean(route.scheme, known)} "
                f"(known: {', '.join(known)})",
                where=config.where("serve", "webhooks", name, "scheme"),
            )


def link_problems(config: AppConfig) -> Iterator[ConfigError]:
    """A helpdesk's ``link.crm`` that is not a connector instance reading deals (it would link nothing)."""
    deal_sources = [
        name
        for name, settings in config.connectors.items()
        if Capability.DEAL_SOURCE in connector_type(settings.type).capabilities
    ]
    for name, settings in config.connectors.items():
        link = getattr(settings, "link", None)
        if not isinstance(link, LinkSettings) or link.crm is None or link.crm in deal_sources:
            continue
        what = "a connector instance that reads no deals" if link.crm in config.connectors else "no connector instance"
        yield ConfigError(
            f"link.crm names {what}: {link.crm!r}{did_you_mean(link.crm, deal_sources)} "
            f"(deal sources: {', '.join(deal_sources) or 'none'})",
            where=config.where("connectors", name, "link", "crm"),
        )


def mapping_file_problems(config: AppConfig) -> Iterator[ConfigError]:
    """The mappings folder named in config.toml exists, and each file in it is used by some instance."""
    folder = config.mappings_dir
    if not folder.is_dir():
        if config.document is not None and "mappings" in config.document.data.get("onboard_sync", {}):
            yield ConfigError(f"mappings folder not found: {folder}", where=config.where("onboard_sync", "mappings"))
        return
    names = set(config.connectors) | {settings.type for settings in config.connectors.values()}
    for path in sorted(folder.glob("*.toml")):
        if path.stem not in names:
            yield ConfigError(
                f"this mapping file is used by no connector instance{did_you_mean(path.stem, names)}: "
                f"a file is used when it is named after an instance or a type ({', '.join(sorted(names))})",
                where=shown_path(path),
            )


def store_problems(config: AppConfig) -> Iterator[ConfigError]:
    """A store URL that cannot open: bad URL, unsupported backend, driver not installed, no such folder."""
    from onboard_sync.store.sqlite_reader import plain_database

    where = config.store_where or config.where("onboard_sync", "store")
    database = plain_database(config.store_url)  # sqlite:///PATH: no SQLAlchemy needed to read it
    if database is None:
        problems, database = _url_problems(config.store_url, where)
        if problems:
            yield from problems
            return
    if database is None or database in ("", ":memory:"):
        return
    if database.startswith("file:"):
        yield ConfigError("SQLite URI filenames are not supported; give a plain path", where=where)
        return
    path = Path(database).expanduser()
    if path.is_dir():
        yield ConfigError(f"the store path is a folder, not a database file: {path}", where=where)
    elif not path.parent.is_dir():
        yield ConfigError(
            f"the store's folder does not exist: {path.parent} (create it, or correct the path)", where=where
        )


def _url_problems(store_url: str, where: str) -> tuple[list[ConfigError], str | None]:
    """SQLAlchemy's reading of a store URL: its problems, and the SQLite database it names (``None``:
    not SQLite)."""
    import sqlalchemy as sa

    from onboard_sync.store.database import redact_url

    shown = redact_url(store_url)
    try:
        url = sa.engine.make_url(store_url)
    except Exception:  # sqlalchemy.exc.ArgumentError and friends; the message would echo the URL
        return [
            ConfigError(
                f"not a store URL: {shown} (expected e.g. sqlite:///onboard-sync.db or postgresql+psycopg://user@host/db)",
                where=where,
            )
        ], None
    backend = url.get_backend_name()
    if backend not in STORE_BACKENDS:
        return [
            ConfigError(
                f"unsupported store backend {backend!r}{did_you_mean(backend, STORE_BACKENDS)} in {shown}: "
                "use sqlite or postgresql",
                where=where,
            )
        ], None
    if backend == "postgresql":
        driver_url = url.set(drivername="postgresql+psycopg") if url.drivername == backend else url
        return list(_driver_problems(driver_url, where)), None
    return [], url.database or ""


def _driver_problems(url: URL, where: str) -> Iterator[ConfigError]:
    """The URL's database driver imports (``postgresql+psycopg`` needs the ``postgres`` extra)."""
    try:
        url.get_dialect().import_dbapi()
    except ImportError as exc:
        yield ConfigError(
            f"the store is PostgreSQL but its driver {exc.name or url.drivername!r} is not installed: "
            "pip install 'onboard-sync[postgres]'",
            where=where,
        )
    except Exception as exc:  # an unknown driver name: sqlalchemy.exc.NoSuchModuleError
        yield ConfigError(f"unknown store driver: {exc}", where=where)


def placeholder_problems(config: AppConfig) -> Iterator[ConfigError]:
    """Connector settings that still hold the starter's ``REPLACE-…`` value (``onboard-sync init``)."""
    for name, settings in config.connectors.items():
        for key, value in settings.model_dump().items():
            if isinstance(value, str) and value.startswith(PLACEHOLDER):
                yield ConfigError(
                    f"{value!r} is init's placeholder: fill in the real value (the comment beside it says what)",
                    where=config.where("connectors", name, key),
                )
