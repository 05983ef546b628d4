"""`status` remembers the few settings it needs of a configuration that loaded without a problem, and
loads the configuration in full again as soon as any file of it (or the environment that chose them)
changed: a problem is named exactly as before, and the table is the same either way."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_run import Result, clean_env, run_code, user_error

from onboard_sync.cli.setup import init
from onboard_sync.runtime import load_runtime
from onboard_sync.status_settings import FILE_NAME, StatusSettings
from onboard_sync.store import Store
from onboard_sync.usercache import CACHE_ENV

STATUS_REPORTING_A_FULL_LOAD = """
import sys
from onboard_sync.cli import main
try:
    main(sys.argv[1:])
finally:
    print("full load" if "onboard_sync.runtime" in sys.modules else "remembered", file=sys.stderr)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A starter project with its (empty) store, as after a first `sync`."""
    init(directory=tmp_path / "project", force=False)
    config = tmp_path / "project" / "config.toml"
    Store.open(load_runtime(config).config.store_url).close()
    return config


@pytest.fixture
def status(tmp_path: Path) -> Callable[..., tuple[Result, str]]:
    """Run `status` in a new process with a cache folder of this test's own: (its result, whether
    it loaded the configuration in full or used the remembered settings)."""

    def run(config: Path, *args: str, env: dict[str, str] | None = None) -> tuple[Result, str]:
        environment = clean_env({CACHE_ENV: str(tmp_path / "cache"), **(env or {})})
        result = run_code(STATUS_REPORTING_A_FULL_LOAD, "status", "--config", config, *args, env=environment)
        *errors, how = result.stderr.splitlines()
        return Result(result.args, result.returncode, result.stdout, "\n".join(errors)), how

    return run


def test_the_second_status_uses_the_remembered_settings_and_prints_the_same(
    project: Path, status: Callable[..., tuple[Result, str]]
) -> None:
    (first, first_how), (second, second_how) = status(project), status(project)

    assert (first_how, second_how) == ("full load", "remembered")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout
    assert "playbook default" in second.stdout


def test_a_config_file_that_went_wrong_is_named_as_before(
    project: Path, status: Callable[..., tuple[Result, str]]
) -> None:
    status(project)
    text = project.read_text(encoding="utf-8")
    project.write_text(text.replace("lookback_minutes = 10", "lookback_minutes = 10\nlookbak = 3"), encoding="utf-8")

    result, how = status(project)

    assert how == "full load"
    assert "config.toml:" in user_error(result)
    assert "lookbak" in result.stderr


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda folder: (folder / "rules" / "playbook.toml").write_text("[playbook]\nnam = 1\n"), "playbook.toml"),
        (lambda folder: (folder / "mappings" / "hubspt.toml").write_text(""), "hubspt.toml"),
        (lambda folder: (folder / "mappings" / "hubspot.toml").unlink(), None),
    ],
    ids=["rules edited", "a misspelt mapping file added", "a mapping file removed"],
)
def test_a_changed_rules_or_mappings_file_is_loaded_again(
    project: Path, status: Callable[..., tuple[Result, str]], change: Callable[[Path], object], named: str | None
) -> None:
    status(project)
    change(project.parent)

    result, how = status(project)

    assert how == "full load"
    if named is None:  # the shipped default mapping takes the file's place
        assert result.returncode == 0, result.stderr
    else:
        assert named in user_error(result)


def test_another_store_from_the_environment_is_another_configuration(
    project: Path, status: Callable[..., tuple[Result, str]], tmp_path: Path
) -> None:
    status(project)

    result, how = status(project, env={"ONBOARD_SYNC_STORE": f"sqlite:///{tmp_path / 'elsewhere.db'}"})

    assert how == "full load"
    assert "no store at this path yet" in user_error(result)


def test_an_edit_that_keeps_the_configuration_valid_shows_at_once(
    project: Path, status: Callable[..., tuple[Result, str]]
) -> None:
    status(project)
    rules = project.parent / "rules" / "playbook.toml"
    rules.write_text(rules.read_text(encoding="utf-8").replace('name = "default"', 'name = "renamed"', 1))

    result, how = status(project)

    assert how == "full load"
    assert "playbook renamed" in result.stdout


def test_an_unreadable_cache_file_is_ignored(project: Path, status: Callable[..., tuple[Result, str]]) -> None:
    status(project)
    cache_file = project.parents[1] / "cache" / "onboard-sync" / FILE_NAME
    data = json.loads(cache_file.read_text(encoding="utf-8"))
    for section in data["fingerprints"].values():
        for answer in section["answers"].values():
            answer["settings"]["playbook"] = "not an outline"
    cache_file.write_text(json.dumps(data), encoding="utf-8")

    result, how = status(project)

    assert how == "full load"
    assert result.returncode == 0, result.stderr


def test_the_settings_round_trip_through_json(project: Path) -> None:
    settings = StatusSettings.of(load_runtime(project))

    assert StatusSettings.from_json(json.loads(json.dumps(settings.to_json()))) == settings
    assert settings.playbook.phases
    assert "HUBSPOT_TOKEN" in settings.secret_names


def test_the_secrets_are_kept_out_of_the_logs_when_remembered(project: Path, tmp_path: Path) -> None:
    token = "pat-na1-a-long-enough-secret-token"
    env = clean_env({CACHE_ENV: str(tmp_path / "cache"), "HUBSPOT_TOKEN": token})
    code = (
        "import os, sys; from onboard_sync.cli import main; from onboard_sync.logs import scrub\n"
        "try:\n    main(sys.argv[1:])\nfinally:\n"
        "    print('onboard_sync.runtime' in sys.modules, scrub(os.environ['HUBSPOT_TOKEN']), file=sys.stderr)"
    )
    for expected in ("True", "False"):  # the full load, then the remembered settings
        result = run_code(code, "status", "--config", project, env=env)
        assert result.stderr.split() == [expected, "***"]
