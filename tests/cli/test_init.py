"""`init --connector TYPE` writes a starter set for any installed connector type (plugins supply their
table), and `init --force` never destroys a file without keeping a backup it names on stdout."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from cli_run import clean_env, run_cli, user_error

from onboard_sync import hookimpl
from onboard_sync.checks import config_problems
from onboard_sync.cli.setup import init
from onboard_sync.connector import Capability, Connector, ConnectorSettings
from onboard_sync.plugins import connector_types
from onboard_sync.runtime import load_runtime
from onboard_sync.starter import backup_path, starter_set

BUILT_IN = ["hubspot", "salesforce", "zendesk"]


def offline_ok(config: Path) -> None:
    """The folder loads and has no reference problem (what `validate` checks offline) but the starter's
    placeholders, each of which is refused by name until a person fills it in."""
    rt = load_runtime(config, check=False)
    placeholders = [
        f"connectors.{name}.{key}"
        for name, table in tomllib.loads(config.read_text(encoding="utf-8"))["connectors"].items()
        for key, value in table.items()
        if isinstance(value, str) and value.startswith("REPLACE")
    ]
    problems = config_problems(rt.config, rt.playbook)
    assert [p.where.split("(")[-1].rstrip(")") for p in problems] == placeholders
    assert all("init's placeholder" in p.message for p in problems)
    filled = config.read_text(encoding="utf-8").replace('"REPLACE-with-', '"filled-in-')
    config.write_text(filled, encoding="utf-8")
    rt = load_runtime(config, check=False)
    assert config_problems(rt.config, rt.playbook) == []


@pytest.mark.parametrize("type_name", BUILT_IN)
def test_every_built_in_type_ships_a_starter_that_validates(tmp_path: Path, type_name: str) -> None:
    result = run_cli("init", tmp_path, "--connector", type_name, env=clean_env())

    assert result.returncode == 0, result.stderr
    config = tmp_path / "config.toml"
    table = tomllib.loads(config.read_text(encoding="utf-8"))["connectors"]
    assert list(table) == [type_name]
    assert table[type_name]["type"] == type_name
    assert (tmp_path / "mappings" / f"{type_name}.toml").is_file()
    offline_ok(config)
    validated = run_cli("validate", "--config", config, env=clean_env())
    assert validated.returncode == 0, validated.stderr
    secrets = [v for k, v in table[type_name].items() if k.endswith("_env")]
    assert f"Next: export {secrets[0]}=…" in result.stdout, "the person is told which secret to export"


def test_a_crm_and_a_helpdesk_together(tmp_path: Path) -> None:
    result = run_cli("init", tmp_path, "--connector", "hubspot", "--connector", "zendesk", env=clean_env())

    assert result.returncode == 0, result.stderr
    config = tmp_path / "config.toml"
    assert list(tomllib.loads(config.read_text(encoding="utf-8"))["connectors"]) == ["hubspot", "zendesk"]
    assert "export HUBSPOT_TOKEN=… ZENDESK_OAUTH_TOKEN=…" in result.stdout
    assert "replace each REPLACE-… value" in result.stdout, "the Zendesk subdomain is a placeholder"
    offline_ok(config)


def test_a_helpdesk_alone_is_told_it_needs_a_crm(tmp_path: Path) -> None:
    result = run_cli("init", tmp_path, "--connector", "zendesk", env=clean_env())

    assert result.returncode == 0, result.stderr
    assert "note: none of these connector types reads deals" in result.stdout
    assert "--connector hubspot or salesforce" in result.stdout


def test_an_unknown_type_lists_the_installed_ones(tmp_path: Path) -> None:
    error = user_error(run_cli("init", tmp_path, "--connector", "hubspto", env=clean_env()))

    assert error == (
        "error: --connector: unknown connector type 'hubspto' (did you mean 'hubspot'?) "
        "(installed: hubspot, salesforce, zendesk)"
    )
    assert not (tmp_path / "config.toml").exists()


# -- a plugin's starter -------------------------------------------------------------------------


class StarterCrm(Connector):
    """A plugin CRM that supplies its starter table (and no default mapping)."""

    type_name: ClassVar[str] = "startercrm"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.DEAL_SOURCE, Capability.TASK_SINK, Capability.FIELD_SINK}
    )
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings

    @classmethod
    def starter_config(cls, instance: str) -> str | None:
        return f'[connectors.{instance}]\ntype = "startercrm"\nrequests_per_second = 2   # the plugin says so\n'

    @classmethod
    def default_mapping(cls) -> str | None:
        return '[deal.write]\nphase = "stage_of_onboarding"\n'


class BareCrm(StarterCrm):
    """A plugin that supplies neither: init writes `type` alone and says so."""

    type_name: ClassVar[str] = "barecrm"

    @classmethod
    def starter_config(cls, instance: str) -> str | None:
        return None

    @classmethod
    def default_mapping(cls) -> str | None:
        return None


@pytest.fixture
def starter_plugins() -> Iterator[None]:
    from onboard_sync.plugins import get_plugin_manager

    class Plugin:
        @staticmethod
        @hookimpl
        def register_connectors(register: Callable[[type], None]) -> None:
            register(StarterCrm)
            register(BareCrm)

    pm = get_plugin_manager()
    pm.register(Plugin, name="test-starter-plugins")
    try:
        yield
    finally:
        pm.unregister(name="test-starter-plugins")


def test_a_plugin_supplies_its_starter_table_and_mapping(
    tmp_path: Path, starter_plugins: None, capsys: pytest.CaptureFixture[str]
) -> None:
    init(directory=tmp_path, connector=["startercrm"], force=False)

    config = tmp_path / "config.toml"
    assert "requests_per_second = 2   # the plugin says so" in config.read_text(encoding="utf-8")
    assert (tmp_path / "mappings" / "startercrm.toml").read_text() == '[deal.write]\nphase = "stage_of_onboarding"\n'
    rt = load_runtime(config)
    assert rt.config.connectors["startercrm"].requests_per_second == 2
    assert "note:" not in capsys.readouterr().out


def test_a_plugin_without_a_starter_gets_its_type_and_a_note(tmp_path: Path, starter_plugins: None) -> None:
    starter = starter_set(tmp_path, ["barecrm"], today=datetime.now().date())

    config = starter.files[tmp_path / "config.toml"]
    assert config.endswith('\n[connectors.barecrm]\ntype = "barecrm"\n')
    assert starter.notes == [
        "barecrm: its plugin supplies no starter settings: complete [connectors.barecrm]",
        "barecrm: its plugin ships no mapping: write mappings/barecrm.toml (docs/configuration.md)",
    ]
    assert "startercrm" in connector_types(), "the fixture's plugin is installed"


# -- --force keeps a backup ---------------------------------------------------------------------


def test_force_keeps_the_old_file_and_says_where(tmp_path: Path) -> None:
    env = clean_env()
    assert run_cli("init", tmp_path, env=env).returncode == 0
    config = tmp_path / "config.toml"
    mine = config.read_text(encoding="utf-8").replace('timezone = "UTC"', 'timezone = "Europe/Paris"')
    config.write_text(mine, encoding="utf-8")
    starter_mapping = (tmp_path / "mappings" / "hubspot.toml").read_text(encoding="utf-8")

    refused = user_error(run_cli("init", tmp_path, env=env))
    forced = run_cli("init", tmp_path, "--force", env=env)

    assert f"{config}: already exists" in refused
    assert forced.returncode == 0, forced.stderr
    kept = re.search(r"^kept the old (\S+) as (\S+)$", forced.stdout, re.MULTILINE)
    assert kept, forced.stdout
    assert kept.group(1) == str(config)
    backup = Path(kept.group(2))
    assert re.fullmatch(r"config\.toml\.bak-\d{8}-\d{4}", backup.name), backup.name
    assert backup.read_text(encoding="utf-8") == mine, "the backup holds exactly what was replaced"
    assert 'timezone = "UTC"' in config.read_text(encoding="utf-8")
    assert f"unchanged {tmp_path / 'mappings' / 'hubspot.toml'}" in forced.stdout, "identical files are left alone"
    assert (tmp_path / "mappings" / "hubspot.toml").read_text(encoding="utf-8") == starter_mapping
    assert sorted(p.name for p in tmp_path.glob("*.bak-*")) == [backup.name]


def test_a_second_backup_in_the_same_minute_does_not_replace_the_first(tmp_path: Path) -> None:
    now = datetime(2026, 12, 3, 7, 12, 5)
    original = tmp_path / "config.toml"
    original.write_text("first", encoding="utf-8")

    first = backup_path(original, now)
    first.write_text("first", encoding="utf-8")
    second = backup_path(original, now)
    second.write_text("second", encoding="utf-8")
    third = backup_path(original, now)

    assert first.name == "config.toml.bak-20261203-0712"
    assert second.name == "config.toml.bak-20261203-071205"
    assert third.name == "config.toml.bak-20261203-071205-2"


def test_init_in_process_keeps_a_backup_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(directory=tmp_path, force=False)
    (tmp_path / "rules" / "playbook.toml").write_text("# my playbook\n", encoding="utf-8")
    capsys.readouterr()

    init(directory=tmp_path, force=True)

    out: Any = capsys.readouterr().out
    backups = list((tmp_path / "rules").glob("playbook.toml.bak-*"))
    assert [b.read_text(encoding="utf-8") for b in backups] == ["# my playbook\n"]
    assert f"kept the old {tmp_path / 'rules' / 'playbook.toml'} as {backups[0]}" in out


@pytest.mark.parametrize(
    ("prepare", "target", "says", "where"),
    [
        (lambda d: (d / "afile").touch(), "afile", "is a file; init needs a folder there", "afile"),
        (lambda d: (d / "d1").mkdir() or (d / "d1" / "mappings").touch(), "d1", "is a file", "mappings"),
        (lambda d: (d / "d2" / "config.toml").mkdir(parents=True), "d2", "is a folder", "config.toml"),
        (lambda d: None, "/proc/no-such-place", "cannot write here", "/proc/no-such-place"),
    ],
    ids=["a file for the folder", "a file for mappings/", "a folder for config.toml", "an unwritable place"],
)
def test_init_in_a_place_it_cannot_write_says_where_in_one_line(
    tmp_path: Path, prepare: Callable[[Path], object], target: str, says: str, where: str
) -> None:
    prepare(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    for extra in ([], ["--force"]):
        line = user_error(run_cli("init", target, *extra, cwd=tmp_path))
        assert says in line
        assert where in line
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before, "nothing was written"


def test_init_where_a_folder_cannot_be_looked_into_is_one_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python 3.11's Path.is_dir raises for a folder another user keeps closed: a ConfigError naming it."""
    from onboard_sync.errors import ConfigError
    from onboard_sync.starter import write_starter

    closed = tmp_path / "theirs"

    def refused(self: Path) -> bool:
        raise PermissionError(13, "Permission denied", str(closed))

    monkeypatch.setattr(Path, "is_dir", refused)
    with pytest.raises(ConfigError) as raised:
        write_starter({closed / "config.toml": ""}, force=False, now=datetime.now(), say=print)
    assert "cannot look here: Permission denied" in str(raised.value)
    assert str(closed) in str(raised.value)
