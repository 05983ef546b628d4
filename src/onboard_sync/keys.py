"""Known keys and "did you mean" hints for mistyped ones, so a typo names what was probably meant.

``did_you_mean("due_days", ["due_day", "due_hours"])`` gives ``" (did you mean 'due_day'?)"``
(or ``""`` when nothing is close). ``model_keys(Model, ("serve", "webhooks", "crm"))`` gives the
keys a pydantic model accepts at that place of a TOML file (descending through nested models,
``dict[str, Model]`` and lists). Used by :func:`onboard_sync.tomlfile.pydantic_error` (config.toml),
:mod:`onboard_sync.rules.table` (playbooks), :mod:`onboard_sync.mappings.loader` and
:mod:`onboard_sync.checks`.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

_SEQUENCES = (list, tuple, set, frozenset, Sequence)
_MAPPINGS = (dict, Mapping)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'X'?)`` for the closest candidate, or ``""`` when none is close."""
    pool = sorted(set(candidates) - {word})
    close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not close:  # a different case or separator ("Due-Day") is a typo too
        folded = {c.casefold().replace("-", "_"): c for c in pool}
        match = folded.get(word.casefold().replace("-", "_"))
        close = [match] if match else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unwrap(annotation: Any) -> list[Any]:
    """The members of a union (``X | None`` → ``[X]``), else the annotation itself."""
    if get_origin(annotation) in (Union, types.UnionType):
        return [a for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _step(annotation: Any, part: str | int) -> Any:
    """The annotation one key (or index) below ``annotation``; ``None`` if it has no such place."""
    for member in _unwrap(annotation):
        origin = get_origin(member)
        if _is_model(member) and isinstance(part, str):
            field = member.model_fields.get(part)
            if field is not None:
                return field.annotation
        elif origin in _MAPPINGS and len(get_args(member)) == 2:
            return get_args(member)[1]
        elif origin in _SEQUENCES and get_args(member):
            return get_args(member)[0]
    return None


def model_keys(model: type[BaseModel], path: Sequence[str | int]) -> list[str]:
    """The keys ``model`` accepts in the table at ``path`` (empty when it is not a model's table)."""
    annotation: Any = model
    for part in path:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    for member in _unwrap(annotation):
        if _is_model(member):
            return [field.alias or name for name, field in member.model_fields.items()]
    return []
