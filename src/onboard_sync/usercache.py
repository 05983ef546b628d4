"""This user's onboard-sync cache folder (``$XDG_CACHE_HOME/onboard-sync`` or ``~/.cache/onboard-sync``),
and :class:`RememberedAnswers`, the one way onboard-sync keeps an answer there.

What lives there is derived from other files and may be deleted at any time: the CEL grammar's
parser tables (:mod:`onboard_sync.rules.cel_parser`), the CEL conditions already checked
(:mod:`onboard_sync.rules.verified`) and what ``status`` needs of a configuration that loaded
without a problem (:mod:`onboard_sync.status_settings`). The folder is the user's own (mode 0700),
not the shared temp folder, because one of those files is a pickle. Without a writable folder
every cache is simply not used.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CACHE_ENV = "XDG_CACHE_HOME"


def cache_folder() -> Path | None:
    """This user's onboard-sync cache folder, created if needed; ``None`` when it cannot be."""
    try:
        folder = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache") / "onboard-sync"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except (OSError, RuntimeError):  # RuntimeError: no home folder to be found
        return None
    return folder if os.access(folder, os.W_OK) else None


class RememberedAnswers:
    """Answers (JSON values under string keys) kept in one JSON file of the cache folder, each under
    the fingerprint of the code that gave it.

    An answer holds only for the fingerprint it was given under: one made by other code (another
    checkout or virtual environment of onboard-sync, an upgraded library) is not read. The answers of
    the ``max_fingerprints`` fingerprints written last are kept side by side, so two installations
    that share a cache folder (a release and a checkout, two virtual environments) do not drop each
    other's answers; each fingerprint keeps at most ``max_entries``. The file is read once per process
    and plain JSON, never unpickled. A write merges what the file holds at that moment, so processes
    side by side (cron syncs, workers, test workers) keep each other's answers, and replaces the file
    atomically. Hand-written because what is kept is a project rule ("this input passed our checks"),
    which no caching library states.
    """

    def __init__(
        self, file_name: str, fingerprint: Callable[[], str], *, max_entries: int, max_fingerprints: int = 8
    ) -> None:
        self.file_name = file_name
        self._fingerprint = fingerprint
        self.max_entries = max_entries
        self.max_fingerprints = max_fingerprints
        self._answers: dict[str, Any] | None = None

    def get(self, key: str) -> Any | None:
        """The answer remembered for ``key`` under this code's fingerprint (``None``: none)."""
        if self._answers is None:
            self._answers = self._read_section()
        return self._answers.get(key)

    def put(self, key: str, answer: Any) -> None:
        """Remember ``answer`` (written at once; quietly not kept without a writable cache folder)."""
        if self._answers is None:
            self._answers = self._read_section()
        if self._answers.get(key) == answer:
            return
        self._answers[key] = answer
        folder = cache_folder()
        if folder is None:
            return
        sections = self._read_sections(folder)
        fingerprint = self._fingerprint()
        answers = {**sections.get(fingerprint, {}).get("answers", {}), key: answer}
        if len(answers) > self.max_entries:
            answers = {key: answer}
        sections[fingerprint] = {"written": time.time(), "answers": answers}
        latest = sorted(sections, key=lambda fp: _written(sections[fp]), reverse=True)
        kept = {fp: sections[fp] for fp in latest[: self.max_fingerprints]}
        self._write(folder, json.dumps({"fingerprints": kept}, separators=(",", ":")))

    def forget(self) -> None:
        """Read the file afresh at the next ``get`` (as a new process would)."""
        self._answers = None

    def read_answers(self) -> dict[str, Any]:
        """This fingerprint's answers in the file now."""
        return self._read_section()

    def _read_section(self) -> dict[str, Any]:
        folder = cache_folder()
        if folder is None:
            return {}
        section = self._read_sections(folder).get(self._fingerprint(), {})
        answers = section.get("answers") if isinstance(section, dict) else None
        return dict(answers) if isinstance(answers, dict) else {}

    def _read_sections(self, folder: Path) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads((folder / self.file_name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        sections = data.get("fingerprints") if isinstance(data, dict) else None
        if not isinstance(sections, dict):
            return {}
        return {fp: section for fp, section in sections.items() if isinstance(section, dict)}

    def _write(self, folder: Path, text: str) -> None:
        import tempfile  # only when an answer is new

        try:
            handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{self.file_name}-")
        except OSError:
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temp, folder / self.file_name)
        except OSError:
            Path(temp).unlink(missing_ok=True)


def _written(section: dict[str, Any]) -> float:
    written = section.get("written")
    return float(written) if isinstance(written, int | float) else 0.0
