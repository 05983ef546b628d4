"""Options of plain types are converted without pydantic, to exactly what Typer's own conversion gives:
the same value for a valid one, Typer's error for a bad one (so a mistake reads as before)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
import typer.main
from hypothesis import given, settings
from hypothesis import strategies as st
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param

from onboard_sync.cli.plain_options import PlainConversion, convert_plainly, plain_kind

probe = typer.Typer()


@probe.command()
def probe_command(
    number: Annotated[int, typer.Option()] = 50,
    text: Annotated[str | None, typer.Option()] = None,
    path: Annotated[Path | None, typer.Option()] = None,
    flag: Annotated[bool, typer.Option()] = False,
    bounded: Annotated[int, typer.Option(min=1)] = 1,
    existing: Annotated[Path | None, typer.Option(exists=True)] = None,
    many: Annotated[list[str] | None, typer.Option()] = None,
) -> None:
    """A command with an option of each kind."""


def params() -> dict[str, Any]:
    command = typer.main.get_command(probe)
    return {param.name: param for param in command.params}


def both(name: str, value: Any) -> tuple[Any, Any]:
    """What Typer's conversion and the plain one make of ``value`` (a value, or the error's message)."""
    param = params()[name]
    ctx = typer.main.get_command(probe).make_context("probe", [])
    answers = []
    for conversion in (build_runtime_param(param.type_descriptor), PlainConversion(plain_kind(param) or object)):
        try:
            answers.append(conversion.coerce(value, param=param, ctx=ctx))
        except BadParameter as exc:
            answers.append(f"error: {exc.format_message()}")
    return answers[0], answers[1]


def test_only_plain_options_are_converted_plainly() -> None:
    kinds = {name: plain_kind(param) for name, param in params().items()}

    assert {name: kinds[name] for name in PROBED} == PROBED


PROBED = {
    "number": int,
    "text": str,
    "path": Path,
    "flag": bool,
    "bounded": None,  # Typer checks the bound
    "existing": None,  # and that the path exists
    "many": None,
}


@settings(deadline=None)  # the first example imports pydantic for Typer's side
@given(st.one_of(st.integers(), st.text(max_size=25), st.from_regex(r"\A[+-]?[0-9_ ]{0,22}\Z")))
def test_numbers_convert_as_typer_converts_them(value: Any) -> None:
    typer_answer, plain_answer = both("number", value)
    assert plain_answer == typer_answer
    assert type(plain_answer) is type(typer_answer)


@settings(deadline=None)
@given(st.text(max_size=30))
def test_texts_convert_as_typer_converts_them(value: str) -> None:
    assert both("text", value)[1] == both("text", value)[0]


@pytest.mark.parametrize("value", ["config.toml", "", "-", ".", "/", "a/b/../c", "~/x", Path("p")])
def test_paths_convert_as_typer_converts_them(value: Any) -> None:
    typer_answer, plain_answer = both("path", value)
    assert plain_answer == typer_answer
    assert type(plain_answer) is type(typer_answer)


def test_an_unreadable_path_is_refused_in_typers_words(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("")
    secret.chmod(0)
    try:
        typer_answer, plain_answer = both("path", str(secret))
    finally:
        secret.chmod(0o600)
    assert plain_answer == typer_answer


def test_the_help_option_and_every_plain_option_get_the_plain_conversion() -> None:
    command = typer.main.get_command(probe)
    convert_plainly(command)

    converted = {p.name for p in command.params if isinstance(p._runtime_param, PlainConversion)}
    help_option = command.get_help_option(command.make_context("probe", []))
    assert converted == {"number", "text", "path", "flag", "install_completion", "show_completion"}
    assert isinstance(help_option._runtime_param, PlainConversion)
