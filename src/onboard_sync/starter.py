"""The starter set ``onboard-sync init`` writes, for any installed connector types, and the backups it keeps.

:func:`starter_set` builds the files: config.toml (core settings, owners, and each type's
``[connectors.TYPE]`` table from ``Connector.starter_config``), ``mappings/TYPE.toml`` (the type's
default mapping) and the default playbook. :func:`write_starter` writes them; a file that exists is
replaced only with ``force``, and then only after it was renamed to ``NAME.bak-YYYYMMDD-HHMM``
(never lost). Called by ``cli/setup.py``'s ``init``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from onboard_sync.connector import PLACEHOLDER, Capability
from onboard_sync.errors import ConfigError
from onboard_sync.keys import did_you_mean
from onboard_sync.mappings.loader import default_mapping_text
from onboard_sync.plugins import connector_types
from onboard_sync.rules import default_playbook_path, example_playbooks

STARTER_WON_SINCE_DAYS = 30
"""``init`` onboards deals won in the last 30 days, not every customer the CRM ever won."""
DEFAULT_TYPES = ("hubspot",)

CORE_CONFIG = """\
# onboard-sync configuration. Reference: docs/configuration.md
[onboard_sync]
store = "sqlite:///onboard-sync.db"   # or postgresql+psycopg://user@host/db
rules = "rules"                       # playbook rules (directory of .toml files)
mappings = "mappings"                 # field mappings, one file per connector instance
timezone = "UTC"                      # due dates and "day N" in this zone, e.g. "America/New_York"
due_time = "17:00"                    # local time a task due "on day N" is due
business_days = false                 # true: due dates move off weekends and holidays
# holidays = { country = "US", subdivision = "CA" }
lookback_minutes = 10
# Won deals that closed before this day get no onboarding (customers onboarded before
# onboard-sync). `init` sets it 30 days before today; remove it to onboard every won deal.
onboard_won_since = {won_since}
# Customers won since then but before the first sync are adopted where their plan is: tasks of
# phases already over are skipped, not created overdue ("replay" judges them by the whole plan).
catch_up = "adopt"
# secrets_file = ".env"               # optional dotenv file with the secrets below

[owners]
# Who gets each task role. sales = the deal owner. A list is a pool: each deal gets one
# stable member. "deal_owner", "account_owner" or "property:NAME" work too.
sales = "deal_owner"
csm = "deal_owner"
implementation = "deal_owner"
tam = "deal_owner"
support = "deal_owner"
account_manager = "account_owner"
"""


@dataclass
class StarterSet:
    """The files of a starter set, and what the person must do next."""

    files: dict[Path, str]
    secrets: list[str] = field(default_factory=list)
    """Environment variables the connector tables name (``*_env``), to export before ``validate --remote``."""
    notes: list[str] = field(default_factory=list)


def starter_set(directory: Path, types: Sequence[str], *, today: date, examples: bool = False) -> StarterSet:
    """The files ``init`` writes into ``directory`` for connector ``types`` (one instance each, named
    after its type); an unknown type is a ConfigError naming the installed ones."""
    installed = connector_types()
    chosen = list(dict.fromkeys(types or DEFAULT_TYPES))
    for name in chosen:
        if name not in installed:
            raise ConfigError(
                f"unknown connector type {name!r}{did_you_mean(name, installed)} "
                f"(installed: {', '.join(sorted(installed))})",
                where="--connector",
            )
    won_since = today - timedelta(days=STARTER_WON_SINCE_DAYS)
    config = CORE_CONFIG.replace("{won_since}", won_since.isoformat())
    notes: list[str] = []
    files: dict[Path, str] = {}
    for name in chosen:
        cls = installed[name].cls
        table = cls.starter_config(name)
        if table is None:
            table = f'[connectors.{name}]\ntype = "{name}"\n'
            notes.append(f"{name}: its plugin supplies no starter settings: complete [connectors.{name}]")
        config += "\n" + table
        mapping = default_mapping_text(name)
        if mapping is None:
            notes.append(f"{name}: its plugin ships no mapping: write mappings/{name}.toml (docs/configuration.md)")
        else:
            files[directory / "mappings" / f"{name}.toml"] = mapping
    files = {directory / "config.toml": config, **files}
    rules_source = default_playbook_path()
    sources = sorted(rules_source.glob("*.toml")) if rules_source.is_dir() else [rules_source]
    for source in sources:
        files[directory / "rules" / source.name] = source.read_text(encoding="utf-8")
    if examples:  # one file per seed SOP; try one with `onboard-sync simulate --rules rules-examples/FILE`
        for example, path in example_playbooks().items():
            if path.is_file():
                files[directory / "rules-examples" / f"{example}.toml"] = path.read_text(encoding="utf-8")
    if not any(Capability.DEAL_SOURCE in installed[name].capabilities for name in chosen):
        deal_types = sorted(n for n, t in installed.items() if Capability.DEAL_SOURCE in t.capabilities)
        notes.append(
            "none of these connector types reads deals, so no onboarding starts: add a CRM "
            f"(--connector {' or '.join(deal_types)})"
        )
    if PLACEHOLDER in config:
        notes.append(f"edit config.toml: replace each {PLACEHOLDER}-… value (its comment says what goes there)")
    return StarterSet(files=files, secrets=_secret_names(config), notes=notes)


def _secret_names(config: str) -> list[str]:
    """The values of the ``*_env`` keys of every connector table (the variables to export)."""
    connectors = tomllib.loads(config).get("connectors", {})
    names = [
        value
        for table in connectors.values()
        for key, value in table.items()
        if key.endswith("_env") and isinstance(value, str)
    ]
    return list(dict.fromkeys(names))


def backup_path(path: Path, now: datetime) -> Path:
    """``NAME.bak-YYYYMMDD-HHMM`` next to ``path`` (with seconds, then a counter, if that exists)."""
    for suffix in (f"{now:%Y%m%d-%H%M}", f"{now:%Y%m%d-%H%M%S}"):
        candidate = path.with_name(f"{path.name}.bak-{suffix}")
        if not candidate.exists():
            return candidate
    counter = 2
    while (candidate := path.with_name(f"{path.name}.bak-{now:%Y%m%d-%H%M%S}-{counter}")).exists():
        counter += 1
    return candidate


def _checked_places(files: dict[Path, str]) -> list[Path]:
    """The files of ``files`` that exist already, once no folder stands where a file goes and no file
    where a folder goes (checked before anything is written)."""
    for path in files:
        if path.is_dir():
            raise ConfigError(
                "is a folder; init writes a file there (move it away or choose another folder)", where=str(path)
            )
        blocking = next((folder for folder in path.parents if folder.exists() and not folder.is_dir()), None)
        if blocking is not None:
            raise ConfigError("is a file; init needs a folder there (give init another folder)", where=str(blocking))
    return [path for path in files if path.exists()]


def write_starter(files: dict[Path, str], *, force: bool, now: datetime, say: Callable[[str], None]) -> None:
    """Write ``files``. An existing file stops it (unless ``force``); with ``force`` a file whose text
    differs is first renamed to its backup name, and ``say`` tells where it went."""
    try:  # a folder that cannot be looked into (another user's) is one error line too
        existing = _checked_places(files)
    except OSError as exc:
        raise ConfigError(f"cannot look here: {exc.strerror or exc}", where=str(exc.filename or "")) from None
    if existing and not force:
        raise ConfigError(
            "already exists (use --force to replace it; the old file is kept as a backup)", where=str(existing[0])
        )
    for path, text in files.items():
        try:
            if path.is_file():
                if path.read_text(encoding="utf-8", errors="replace") == text:
                    say(f"unchanged {path}")
                    continue
                backup = backup_path(path, now)
                path.rename(backup)
                say(f"kept the old {path} as {backup}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:  # a read-only or missing place (/proc, a full disk): one line, where
            raise ConfigError(f"cannot write here: {exc.strerror or exc}", where=str(exc.filename or path)) from None
        say(f"wrote {path}")
