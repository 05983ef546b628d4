"""Text from the CRM or the store printed through rich's console markup: :func:`escape`.

rich reads ``[word]`` in a printed string as a style tag and drops it, so a deal named
"Acme [EU] [red]rollout" or an error naming ``[owners]`` lost words. Every value that did not come from
our own code goes through :func:`escape` before it joins marked-up text. Kept apart from rich's own
``rich.markup.escape`` so that a module imported by ``--help`` does not import rich.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")


def escape(text: str) -> str:
    """``text`` with every ``[...]`` that rich would read as a tag escaped, as ``rich.markup.escape`` does."""

    def backslashed(match: re.Match[str]) -> str:
        backslashes, tag = match.groups()
        return f"{backslashes}{backslashes}\\{tag}"

    text = _TAG.sub(backslashed, text)
    return text + "\\" if text.endswith("\\") and not text.endswith("\\\\") else text
