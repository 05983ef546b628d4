"""A playbook TOML table under validation: typed getters that name file, line and key path.

Each getter marks its key as seen; :meth:`RuleTable.done` then rejects any key left over, so a
typo in a playbook is an error rather than a silently ignored setting. Used by
:mod:`onboard_sync.rules.loader` and :mod:`onboard_sync.rules.alerts`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from onboard_sync.errors import ConfigError
from onboard_sync.keys import did_you_mean
from onboard_sync.rules.expressions import Condition, compile_condition
from onboard_sync.rules.model import METRICS, PLACEHOLDERS, TextTemplate
from onboard_sync.tomlfile import KeyPath, TomlDocument

KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_DAYS = 3650
"""The largest day count a playbook may give (ten years): far beyond any onboarding plan, and small
enough that every due date computed from it, scaled by any segment, is a real date."""
_MISSING = object()


@dataclass
class RuleTable:
    """A TOML table being validated: typed getters, then :meth:`done` rejects leftovers."""

    src: TomlDocument
    data: dict[str, Any]
    path: KeyPath
    seen: set[str] = field(default_factory=set)

    def _get(self, key: str, kinds: tuple[type, ...], what: str, required: bool) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if required:
                raise self.typo_of(key) or self.src.error(self.path, f"missing required key {key!r}")
            return _MISSING
        value = self.data[key]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.src.error((*self.path, key), f"{key!r} must be {what}, not {type(value).__name__}")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        value = self._get(key, (str,), "a string", required=default is None)
        return default if value is _MISSING else value  # type: ignore[return-value]

    def opt_text(self, key: str) -> str | None:
        value = self._get(key, (str,), "a string", required=False)
        return None if value is _MISSING else value

    def integer(self, key: str, default: int | None = None, minimum: int | None = 0, maximum: int = MAX_DAYS) -> int:
        """An integer in ``minimum..maximum`` (a playbook's integers are days or scores: ``MAX_DAYS`` at most)."""
        value = self._get(key, (int,), "an integer", required=default is None)
        if value is _MISSING:
            return default  # type: ignore[return-value]
        if minimum is not None and value < minimum:
            raise self.src.error((*self.path, key), f"{key!r} must be at least {minimum}")
        if value > maximum:
            raise self.src.error((*self.path, key), f"{key!r} must be at most {maximum:,}, not {value:,}")
        return value  # type: ignore[no-any-return]

    def number(self, key: str, maximum: float | None = None) -> float | None:
        """A finite number (TOML's ``nan`` and ``inf`` are refused), at most ``maximum`` when given."""
        value = self._get(key, (int, float), "a number", required=False)
        if value is _MISSING:
            return None
        if not math.isfinite(value):
            raise self.src.error((*self.path, key), f"{key!r} must be a finite number, not {value}")
        if maximum is not None and value > maximum:
            raise self.src.error((*self.path, key), f"{key!r} must be at most {maximum:,g}, not {value:,g}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key, (bool,), "true or false", required=False)
        return default if value is _MISSING else value  # type: ignore[no-any-return]

    def keys(self, key: str) -> list[str] | None:
        value = self._get(key, (list,), "a list of strings", required=False)
        if value is _MISSING:
            return None
        if not all(isinstance(v, str) for v in value):
            raise self.src.error((*self.path, key), f"{key!r} must be a list of strings")
        return value  # type: ignore[no-any-return]

    def ident(self, key: str = "key") -> str:
        value = self.text(key)
        if not KEY_RE.match(value):
            raise self.src.error((*self.path, key), f"{value!r} is not a valid key (use lower_snake_case)")
        return value

    def condition(self, key: str, names: frozenset[str]) -> Condition | None:
        source = self.opt_text(key)
        if source is None:
            return None
        return compile_condition(
            source, names=names, metrics=frozenset(METRICS), where=self.src.where((*self.path, key))
        )

    def template(self, key: str, default: str | None = None, allowed: frozenset[str] = PLACEHOLDERS) -> TextTemplate:
        source = self.text(key, default)
        try:
            return TextTemplate.parse(source, allowed)
        except ValueError as exc:
            raise self.src.error((*self.path, key), str(exc)) from None

    def tables(self, key: str) -> list[RuleTable]:
        value = self._get(key, (list,), "an array of tables ([[...]])", required=False)
        if value is _MISSING:
            return []
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.src.error((*self.path, key, i), f"{key!r} must be an array of tables ([[...]])")
            out.append(RuleTable(self.src, item, (*self.path, key, i)))
        return out

    def table(self, key: str) -> RuleTable | None:
        value = self._get(key, (dict,), "a table", required=False)
        return None if value is _MISSING else RuleTable(self.src, value, (*self.path, key))

    def typo_of(self, *wanted: str) -> ConfigError | None:
        """The unknown-key error of a key no getter asked for that is close to one of ``wanted`` (raise it
        before saying ``wanted`` is missing: ``due_days = 3`` is a typo, not a task without a due day)."""
        for key in self.data:
            if key not in self.seen and key not in wanted:
                hint = did_you_mean(key, wanted)
                if hint:
                    return self.src.error((*self.path, key), f"unknown key {key!r}{hint}")
        return None

    def done(self) -> None:
        """Reject the first key no getter asked for, naming the closest known key."""
        for key in self.data:
            if key not in self.seen:
                raise self.src.error((*self.path, key), f"unknown key {key!r}{did_you_mean(key, self.seen)}")
