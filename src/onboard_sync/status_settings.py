"""What ``onboard-sync status`` needs of a configuration, remembered so that it need not load it again.

``status`` shows the store's onboardings: of the configuration it needs the store URL, the
``[owners]`` table (whose CSM each row names), the time zone (days are counted in it), the
playbook's name, segments and phases (labels, planned days, the ``--segment``/``--phase``
filters) and the names of the secrets (kept out of the logs). Loading the whole configuration
(``runtime.load_runtime``: the pydantic models, every connector type, which imports each connector
module, the mappings, the playbook and the offline checks) took ~0.15 s of the 0.3 s ``status`` may
take.

After a full load passes, :func:`remember` keeps those values as JSON in the user's cache folder
(``status-settings.json``, a :class:`~onboard_sync.usercache.RememberedAnswers`), one answer per
config file, with a digest of every input the load read: the config file's bytes, the
``ONBOARD_SYNC_*`` overrides, and the rules, the mappings folder and the secrets file (a folder by
the name and bytes of each ``.toml`` file in it; a missing one as missing). The fingerprint is the
code: onboard-sync's own files (name, size, change time), the Python and the plugins loaded with
their versions. :func:`recall` gives the values back only while every one of those is the same, so
an edited file, a new mapping or another plugin is loaded and checked in full, and its problems
named, as before. Not looked at again on a recall: what lies outside those files (the time zone
database, the ``holidays`` library's countries, the store's folder: ``status`` opens the store
itself and says when it is not there).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from onboard_sync.config_env import EnvOverrides, load_secrets
from onboard_sync.logs import protect
from onboard_sync.onboarding.calendar import Calendar
from onboard_sync.plugins import loaded_distributions
from onboard_sync.usercache import RememberedAnswers

if TYPE_CHECKING:
    from onboard_sync.runtime import Runtime

FILE_NAME = "status-settings.json"
MAX_ENTRIES = 64
"""Config files remembered per fingerprint (one answer each: a changed file replaces its answer)."""


@dataclass(frozen=True, slots=True)
class SegmentOutline:
    """A segment as ``status`` shows it."""

    key: str
    label: str
    duration_days: int


@dataclass(frozen=True, slots=True)
class PhaseOutline:
    """A phase as ``status`` shows it."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class PlaybookOutline:
    """The names of a playbook that ``status`` shows: its own, its segments' and its phases'."""

    name: str
    segments: tuple[SegmentOutline, ...]
    phases: tuple[PhaseOutline, ...]


@dataclass(frozen=True, slots=True)
class StatusSettings:
    """What ``status`` reads of a loaded configuration."""

    store_url: str
    owners: dict[str, str | list[str]]
    timezone: str
    playbook: PlaybookOutline
    secret_names: tuple[str, ...] = ()
    secrets_file: str | None = None

    @classmethod
    def of(cls, rt: Runtime) -> StatusSettings:
        """The settings of a fully loaded runtime."""
        playbook = PlaybookOutline(
            rt.playbook.name,
            tuple(SegmentOutline(s.key, s.label, s.duration_days) for s in rt.playbook.segments),
            tuple(PhaseOutline(p.key, p.label) for p in rt.playbook.phases),
        )
        secrets_file = rt.config.secrets_file
        return cls(
            store_url=rt.config.store_url,
            owners=dict(rt.config.owners),
            timezone=rt.config.core.timezone,
            playbook=playbook,
            secret_names=tuple(sorted(rt.config.secret_names())),
            secrets_file=str(secrets_file) if secrets_file is not None else None,
        )

    @property
    def calendar(self) -> Calendar:
        """The calendar ``status`` counts "day N of M" in: local dates of the time zone, which is all
        that counting asks of one (due times and business days are ``sync``'s)."""
        return Calendar(zone=ZoneInfo(self.timezone))

    def secret_values(self) -> set[str]:
        """The values of the secrets, from the environment and the secrets file, as now."""
        secrets = load_secrets(Path(self.secrets_file) if self.secrets_file else None)
        return {secrets[name] for name in self.secret_names if secrets.get(name)}

    def to_json(self) -> dict[str, Any]:
        playbook = self.playbook
        return {
            "store_url": self.store_url,
            "owners": self.owners,
            "timezone": self.timezone,
            "playbook": {
                "name": playbook.name,
                "segments": [[s.key, s.label, s.duration_days] for s in playbook.segments],
                "phases": [[p.key, p.label] for p in playbook.phases],
            },
            "secret_names": list(self.secret_names),
            "secrets_file": self.secrets_file,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StatusSettings:
        """The settings :meth:`to_json` wrote (KeyError, TypeError or ValueError for anything else)."""
        playbook = data["playbook"]
        owners = data["owners"]
        if not isinstance(owners, dict) or not all(isinstance(v, str | list) for v in owners.values()):
            raise TypeError("owners")
        secrets_file = data["secrets_file"]
        return cls(
            store_url=str(data["store_url"]),
            owners=owners,
            timezone=str(data["timezone"]),
            playbook=PlaybookOutline(
                str(playbook["name"]),
                tuple(SegmentOutline(str(key), str(label), int(days)) for key, label, days in playbook["segments"]),
                tuple(PhaseOutline(str(key), str(label)) for key, label in playbook["phases"]),
            ),
            secret_names=tuple(str(name) for name in data["secret_names"]),
            secrets_file=str(secrets_file) if secrets_file is not None else None,
        )


@cache
def _fingerprint() -> str:
    """The code that loaded and checked the configuration: this package's files (path, size, change
    time), the Python running it, and the plugins loaded with their distributions' versions."""
    package = Path(__file__).parent
    digest = hashlib.sha256(f"{sys.version}\0{package}\0".encode())
    for folder, subfolders, files in os.walk(package):
        subfolders[:] = sorted(name for name in subfolders if name != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".toml")):
                stat = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}:{stat.st_size}:{stat.st_mtime_ns}\0".encode())
    digest.update(repr(sorted(loaded_distributions().items())).encode())
    return digest.hexdigest()


ANSWERS = RememberedAnswers(FILE_NAME, _fingerprint, max_entries=MAX_ENTRIES)
"""By config file (:func:`_key`): ``{"inputs": [paths], "digest": ..., "settings": {...}}``."""


def _key(config_file: Path, overrides: EnvOverrides) -> str:
    store, secrets_file = overrides.store, overrides.secrets_file
    return json.dumps([str(config_file.resolve()), store, str(secrets_file) if secrets_file else None])


def _digest(config_file: Path, inputs: Sequence[str]) -> str:
    """A digest of the config file and ``inputs`` as they are now (see the module's docstring)."""
    digest = hashlib.sha256()
    for name in (str(config_file), *inputs):
        path = Path(name)
        digest.update(f"\0{name}\0".encode())
        try:
            if path.is_dir():
                for child in sorted(path.iterdir()):
                    if child.suffix == ".toml" and child.is_file():
                        _add_file(digest, child)
            elif path.is_file():
                _add_file(digest, path)
            else:
                digest.update(b"missing")
        except OSError:
            digest.update(b"unreadable")
    return digest.hexdigest()


def _add_file(digest: Any, path: Path) -> None:
    data = path.read_bytes()
    digest.update(f"{path.name}:{len(data)}:".encode())
    digest.update(data)


def recall(config: Path | None) -> StatusSettings | None:
    """The settings remembered for this config file, if it and every input of its last full load are
    as they were then; ``None``: load it in full."""
    overrides = EnvOverrides.from_environment()
    config_file = overrides.config_file(config)
    if not config_file.is_file():
        return None  # the full load names the problem
    answer = ANSWERS.get(_key(config_file, overrides))
    try:
        inputs = [str(name) for name in answer["inputs"]]
        if answer["digest"] != _digest(config_file, inputs):
            return None
        settings = StatusSettings.from_json(answer["settings"])
    except (KeyError, TypeError, ValueError):  # nothing remembered, or not in this shape
        return None
    protect(settings.secret_values())
    return settings


def remember(config: Path | None, rt: Runtime) -> StatusSettings:
    """Keep the settings of ``rt``, which was loaded (and checked) in full from ``config``."""
    settings = StatusSettings.of(rt)
    overrides = EnvOverrides.from_environment()
    config_file = overrides.config_file(config)
    read = [rt.config.rules_path, rt.config.mappings_dir, rt.config.secrets_file]
    inputs = [str(path) for path in read if path is not None]
    answer = {"inputs": inputs, "digest": _digest(config_file, inputs), "settings": settings.to_json()}
    ANSWERS.put(_key(config_file, overrides), answer)
    return settings


def settings_for_status(config: Path | None) -> tuple[StatusSettings, Runtime | None]:
    """The settings of ``config`` (``--config``): remembered, or loaded in full (and then remembered),
    with the runtime in that case (``None`` when remembered)."""
    settings = recall(config)
    if settings is not None:
        return settings, None
    from onboard_sync.runtime import load_runtime

    rt = load_runtime(config)
    return remember(config, rt), rt
