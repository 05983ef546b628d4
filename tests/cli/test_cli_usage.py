"""The CLI speaks click, not Python: usage mistakes, ``--version``, shell completion and a plugin that
fails to load, through the real CLI in a subprocess (with the typer/click that pip installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from cli_run import Result, clean_env, run_cli, run_code

from onboard_sync.cli.setup import init


def assert_usage_error(result: Result, usage: str) -> None:
    """Click's answer to a usage mistake: the usage line, exit 2, never a traceback."""
    context = f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 2, context
    assert "Traceback" not in result.stdout + result.stderr, context
    assert f"Usage: {usage}" in result.stdout + result.stderr, context


def test_no_command_prints_the_usage_and_commands() -> None:
    result = run_cli()

    assert_usage_error(result, "onboard-sync [OPTIONS] COMMAND [ARGS]...")
    assert "sync" in result.stdout + result.stderr


def test_a_mistyped_command_is_named_with_a_suggestion() -> None:
    result = run_cli("sycn")

    assert_usage_error(result, "onboard-sync [OPTIONS] COMMAND [ARGS]...")
    assert "No such command 'sycn'" in result.stderr, result.stderr
    assert "Did you mean 'sync'?" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("args", "usage", "option"),
    [
        (["sync", "--limt"], "onboard-sync sync [OPTIONS]", "--limt"),
        (["status", "--jsn"], "onboard-sync status [OPTIONS]", "--jsn"),
        (["sandbox", "hubspot", "--prot", "1"], "onboard-sync sandbox hubspot [OPTIONS]", "--prot"),
        (["--verbose"], "onboard-sync [OPTIONS] COMMAND [ARGS]...", "--verbose"),
    ],
    ids=["sync", "status", "sandbox-hubspot", "root"],
)
def test_an_unknown_option_is_a_usage_error(args: list[str], usage: str, option: str) -> None:
    result = run_cli(*args)

    assert_usage_error(result, usage)
    assert "No such option" in result.stderr, result.stderr  # click 8.5 and typer's bundled click word it apart
    assert option in result.stderr, result.stderr


def test_a_bad_option_value_is_a_usage_error() -> None:
    result = run_cli("status", "--limit", "many")

    assert_usage_error(result, "onboard-sync status [OPTIONS]")
    assert "Invalid value for '--limit'" in result.stderr, result.stderr


def test_version_prints_the_distribution_version() -> None:
    result = run_cli("--version")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"onboard-sync {version('onboard-sync')}\n"
    assert result.stderr == ""


def _script_env() -> dict[str, str]:
    """The environment with this venv's ``onboard-sync`` console script first on PATH."""
    scripts = Path(sys.executable).parent
    assert (scripts / "onboard-sync").exists(), "the package is not installed in this venv (pip install -e .)"
    return clean_env({"PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"})


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_script_completes_commands_and_options() -> None:
    """The script ``--show-completion`` prints, sourced into bash, completes what a user types."""
    script = (
        'eval "$(onboard-sync --show-completion)"\n'
        "complete_words() { COMP_WORDS=($1); COMP_CWORD=$2; _onboard_sync_completion onboard-sync; "
        'echo "${COMPREPLY[*]}"; }\n'
        'complete_words "onboard-sync sy" 1\n'
        'complete_words "onboard-sync status --" 2\n'
    )
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=_script_env(), timeout=60)

    assert result.returncode == 0, result.stderr
    commands, options = result.stdout.splitlines()
    assert commands.split() == ["sync"], result.stdout
    assert {"--config", "--json", "--limit"} <= set(options.split()), result.stdout


def write_broken_plugin(folder: Path) -> Path:
    """A distribution on ``folder`` whose ``onboard_sync`` entry point fails to import."""
    dist_info = folder / "broken_crm-1.2.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-crm\nVersion: 1.2\n", encoding="utf-8")
    (dist_info / "entry_points.txt").write_text("[onboard_sync]\nbrokencrm = broken_crm_plugin\n", encoding="utf-8")
    (folder / "broken_crm_plugin.py").write_text("import a_module_that_is_not_installed\n", encoding="utf-8")
    return folder


def test_a_plugin_that_fails_to_import_is_named_and_the_rest_works(tmp_path: Path) -> None:
    env = clean_env({"PYTHONPATH": str(write_broken_plugin(tmp_path / "site"))})
    warning = (
        "warning: plugin 'brokencrm' (from broken-crm 1.2) failed to load: ModuleNotFoundError: "
        "No module named 'a_module_that_is_not_installed'; continuing without it"
    )

    listed = run_cli("connectors", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr.splitlines() == [warning]
    assert {"hubspot", "salesforce", "zendesk"} <= {c["type"] for c in json.loads(listed.stdout)}

    init(directory=tmp_path / "project", force=False)
    valid = run_cli("validate", "--config", tmp_path / "project" / "config.toml", env=env)
    assert valid.returncode == 0, valid.stderr
    assert valid.stderr.splitlines() == [warning]

    usage = run_cli("sycn", env=env)
    assert_usage_error(usage, "onboard-sync [OPTIONS] COMMAND [ARGS]...")


def test_a_config_naming_the_broken_plugins_type_says_why_it_is_missing(tmp_path: Path) -> None:
    env = clean_env({"PYTHONPATH": str(write_broken_plugin(tmp_path / "site"))})
    init(directory=tmp_path, force=False)
    config = tmp_path / "config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('type = "hubspot"', 'type = "brokencrm"'))

    result = run_cli("validate", "--config", config, env=env)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    error = result.stderr.splitlines()[-1]
    assert error.startswith("error: "), result.stderr
    assert "unknown connector type 'brokencrm'" in error, error
    assert "plugin 'brokencrm' (from broken-crm 1.2) failed to load: ModuleNotFoundError" in error, error


REGISTERED_BY = """
import json, sys
import typer.main
from onboard_sync.cli import COMMAND_MODULES, _register_commands, app
name = sys.argv[1] if len(sys.argv) > 1 else None
_register_commands(name)
commands = typer.main.get_command(app).commands
print(json.dumps({n: sorted(c.commands) if hasattr(c, "commands") else None for n, c in commands.items()}))
"""


def test_each_command_is_registered_by_the_module_the_table_names() -> None:
    """`onboard-sync NAME` imports only the module COMMAND_MODULES names for NAME: it must be the one
    that registers NAME, and the table must hold every built-in command."""
    from onboard_sync.cli import COMMAND_MODULES

    every = run_code(REGISTERED_BY)
    assert every.returncode == 0, every.stderr
    assert set(json.loads(every.stdout)) == set(COMMAND_MODULES)
    for name in COMMAND_MODULES:
        alone = run_code(REGISTERED_BY, name)
        assert alone.returncode == 0, alone.stderr
        registered = json.loads(alone.stdout)
        assert name in registered, f"{name} is not registered by onboard_sync.cli.{COMMAND_MODULES[name]}"
        assert registered[name] == json.loads(every.stdout)[name], "with its sub-commands (sandbox's simulators)"


def test_a_global_option_before_the_command_still_finds_it(tmp_path: Path) -> None:
    result = run_cli("--log-level", "ERROR", "connectors", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "hubspot" in result.stdout


PLUGINS_LOADED = (
    "import sys; from onboard_sync.plugins import get_plugin_manager, plugin_load_failures; "
    "print(sorted(name for name, _ in get_plugin_manager().list_name_plugin() if name), "
    "[f.name for f in plugin_load_failures()], 'importlib.metadata' in sys.modules)"
)


def test_the_entry_points_are_remembered_until_a_distribution_is_installed(tmp_path: Path) -> None:
    """The plugins' entry points are remembered per set of installation folders and their change
    times: the next command imports no importlib.metadata, and one installed since is found."""
    site = tmp_path / "site"
    site.mkdir()
    # no bytecode written into `site`: only the installation below changes the folder
    cache = str(tmp_path / "cache")
    env = clean_env({"PYTHONPATH": str(site), "XDG_CACHE_HOME": cache, "PYTHONDONTWRITEBYTECODE": "1"})

    def loaded() -> str:
        result = run_code(PLUGINS_LOADED, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    built_in = "['hubspot', 'onboard_sync.defaults', 'salesforce', 'zendesk']"
    assert loaded() == f"{built_in} [] True", "the first command scans the installed distributions"
    assert loaded() == f"{built_in} [] False", "the next one remembers them"
    write_broken_plugin(site)
    assert loaded() == f"{built_in} ['brokencrm'] True", "a distribution installed since is found"
    assert loaded() == f"{built_in} ['brokencrm'] False"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("os.path", "posixpath"), ("os.path:join", "join"), ("os : path.join", "join"), ("os:sep [extra]", "sep")],
)
def test_an_entry_point_value_names_what_importlib_metadata_would_load(value: str, expected: str) -> None:
    from importlib.metadata import EntryPoint

    from onboard_sync.plugins import load_entry_point

    found = load_entry_point(value)
    assert found is EntryPoint("x", value, "g").load()
    assert getattr(found, "__name__", "sep") == expected
