"""The CEL conditions that passed their load-time check, remembered per user.

Loading a playbook checks every condition (:func:`onboard_sync.rules.expressions.compile_condition`:
parse, names the rule may use, a run on typed sample data). That needs cel-python, lark and
pendulum (~60 ms to import) and a few ms per condition, which every process that loads a playbook
paid: ``onboard-sync status`` too, which evaluates none. The check's answer depends only on the
condition's text, the names and metrics it may use, onboard-sync's checking code and the installed
cel-python; so a pass is kept, with the names and metrics the condition reads, in
``cel-verified.json`` in the user's cache folder (:mod:`onboard_sync.usercache`) under those
inputs (the text, names and metrics as the key; the code as a fingerprint of the whole file), and
the condition is compiled when it is first evaluated. Failures are not kept: a
wrong condition is checked, and named, on every load.

Hand-written because the answer is a project rule (no library caches "this text passed our
check"); the file is plain JSON, never unpickled. Entries made by other code (another checkout,
an upgraded cel-python) are dropped when the file is next written, and it holds at most
``MAX_ENTRIES``. A write merges what the file holds at that moment, so processes that check
conditions side by side (cron syncs, workers) keep each other's passes.
"""

from __future__ import annotations

import importlib.util
import json
import os
import zlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from onboard_sync.usercache import cache_folder

FILE_NAME = "cel-verified.json"
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


def _key(source: str, names: Iterable[str], metrics: Iterable[str]) -> str:
    return json.dumps([source, sorted(names), sorted(metrics)], separators=(",", ":"))


@cache
def _entries() -> dict[str, Any]:
    """The remembered passes of this fingerprint (read once per process; empty without a cache)."""
    return _read()


def _read() -> dict[str, Any]:
    """The passes of this fingerprint in the file now."""
    folder = cache_folder()
    if folder is None:
        return {}
    try:
        data = json.loads((folder / FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("fingerprint") != _fingerprint():
        return {}
    entries = data.get("conditions")
    return dict(entries) if isinstance(entries, dict) else {}


def remembered(
    source: str, *, names: frozenset[str], metrics: frozenset[str]
) -> tuple[frozenset[str], frozenset[str]] | None:
    """The names and metrics ``source`` reads, if it passed the check with these ``names`` and
    ``metrics`` before; ``None`` if it must be checked."""
    entry = _entries().get(_key(source, names, metrics))
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
    entries = _entries()
    key = _key(source, names, metrics)
    if key in entries:
        return
    entries[key] = [sorted(used_names), sorted(used_metrics)]
    folder = cache_folder()
    if folder is None:
        return
    # what other processes added since this one read the file (cron syncs, workers, tests side by side)
    current = {**_read(), key: entries[key]}
    if len(current) > MAX_ENTRIES:
        current = {key: entries[key]}
    data = json.dumps({"fingerprint": _fingerprint(), "conditions": current}, separators=(",", ":"))
    import tempfile  # only when a pass is new

    try:
        handle, temp = tempfile.mkstemp(dir=folder, prefix=".cel-verified-")
    except OSError:
        return
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(data)
        os.replace(temp, folder / FILE_NAME)
    except OSError:
        Path(temp).unlink(missing_ok=True)
