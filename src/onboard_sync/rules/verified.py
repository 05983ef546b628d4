"""The CEL conditions that passed their load-time check, remembered per user.

Loading a playbook checks every condition (:func:`onboard_sync.rules.expressions.compile_condition`:
parse, names the rule may use, a run on typed sample data). That needs cel-python, lark and
pendulum (~60 ms to import) and a few ms per condition, which every process that loads a playbook
paid. The check's answer depends only on the condition's text, the names and metrics it may use,
onboard-sync's checking code and the installed cel-python; so a pass is kept, with the names and
metrics the condition reads, in ``cel-passes.json`` in the user's cache folder
(:class:`onboard_sync.usercache.RememberedAnswers`) under those inputs (the text, names and metrics
as the key; the code and cel-python as the fingerprint), and the condition is compiled when it is
first evaluated. Failures are not kept: a wrong condition is checked, and named, on every load.
"""

from __future__ import annotations

import importlib.util
import json
import os
import zlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from onboard_sync.usercache import RememberedAnswers

FILE_NAME = "cel-passes.json"
"""Not ``cel-verified.json``, the first format's file: releases that write that one do not drop these."""
MAX_ENTRIES = 5_000


@cache
def _fingerprint() -> str:
    """The checking code and the cel-python it runs on: this package's expressions.py (a CRC of its
    bytes: this tells versions apart, it guards nothing) and cel-python's installed files (path,
    size and change time of its ``__init__``)."""
    try:
        code = Path(__file__).with_name("expressions.py").read_bytes()
        parts = [f"{zlib.crc32(code):08x}:{len(code)}"]
    except OSError:  # installed without sources: the release stands for the code
        from onboard_sync import __version__

        parts = [f"onboard-sync {__version__}"]
    spec = importlib.util.find_spec("celpy")
    if spec is not None and spec.origin:
        stat = os.stat(spec.origin)
        parts.append(f"{spec.origin}:{stat.st_size}:{stat.st_mtime_ns}")
    return " ".join(parts)


PASSES = RememberedAnswers(FILE_NAME, _fingerprint, max_entries=MAX_ENTRIES)
"""The passes, by :func:`_key`: each the sorted names and metrics the condition reads."""


def _key(source: str, names: Iterable[str], metrics: Iterable[str]) -> str:
    return json.dumps([source, sorted(names), sorted(metrics)], separators=(",", ":"))


def remembered(
    source: str, *, names: frozenset[str], metrics: frozenset[str]
) -> tuple[frozenset[str], frozenset[str]] | None:
    """The names and metrics ``source`` reads, if it passed the check with these ``names`` and
    ``metrics`` before; ``None`` if it must be checked."""
    entry = PASSES.get(_key(source, names, metrics))
    if not (isinstance(entry, list) and len(entry) == 2 and all(isinstance(part, list) for part in entry)):
        return None
    used_names, used_metrics = entry
    return frozenset(map(str, used_names)), frozenset(map(str, used_metrics))


def remember(
    source: str,
    *,
    names: frozenset[str],
    metrics: frozenset[str],
    used_names: frozenset[str],
    used_metrics: frozenset[str],
) -> None:
    """Keep a pass (written at once, atomically; quietly not kept without a writable cache folder)."""
    PASSES.put(_key(source, names, metrics), [sorted(used_names), sorted(used_metrics)])
