"""The CEL grammar's parser tables, cached per user so that loading a playbook stays fast.

cel-python builds its Lark LALR parser on first use, and that analysis of the grammar costs
~0.15 s of CPU in every process that loads a playbook (``status`` included). Lark can store the
analysed tables (``cache=PATH``; a file stamped with a hash of the grammar, the options and the
Lark version, rebuilt when any of them changes). The file is a pickle, so it lives in the user's
own cache folder (``$XDG_CACHE_HOME/onboard-sync`` or ``~/.cache/onboard-sync``, mode 0700), not
in the shared temp folder Lark would use by default. Without a writable cache folder the parser
is built as before. Called by :func:`onboard_sync.rules.expressions._environment`.
"""

from __future__ import annotations

import re
from pathlib import Path

import celpy
import lark
from celpy.celparser import CELParser

from onboard_sync.usercache import CACHE_ENV, cache_folder

__all__ = ["CACHE_ENV", "cache_folder", "install_cached_parser"]


def install_cached_parser() -> None:
    """Give cel-python its parser (built as cel-python 0.5 builds it), from the cache when present.

    cel-python builds the parser only when ``CELParser.CEL_PARSER`` is unset; set it here first."""
    if CELParser.CEL_PARSER is not None:
        return
    folder = cache_folder()
    if folder is None:
        return  # cel-python builds it itself
    grammar = (Path(celpy.__file__).parent / "cel.lark").read_text(encoding="utf-8")
    CELParser.CEL_PARSER = lark.Lark(
        grammar,
        parser="lalr",
        start="expr",
        debug=True,
        g_regex_flags=re.M,
        lexer_callbacks={"IDENT": CELParser.ambiguous_literals},
        propagate_positions=True,
        maybe_placeholders=False,
        priority="invert",
        tree_class=lark.Tree,
        cache=str(folder / f"cel-parser-lark-{lark.__version__}.pickle"),
    )
