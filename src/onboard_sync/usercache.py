"""This user's onboard-sync cache folder (``$XDG_CACHE_HOME/onboard-sync`` or ``~/.cache/onboard-sync``).

What lives there is derived from other files and may be deleted at any time: the CEL grammar's
parser tables (:mod:`onboard_sync.rules.cel_parser`) and the CEL conditions already checked
(:mod:`onboard_sync.rules.verified`). The folder is the user's own (mode 0700), not the shared
temp folder, because one of those files is a pickle. Without a writable folder every cache is
simply not used.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "XDG_CACHE_HOME"


def cache_folder() -> Path | None:
    """This user's onboard-sync cache folder, created if needed; ``None`` when it cannot be."""
    try:
        folder = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache") / "onboard-sync"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except (OSError, RuntimeError):  # RuntimeError: no home folder to be found
        return None
    return folder if os.access(folder, os.W_OK) else None
