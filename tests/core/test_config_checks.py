"""config.toml: numbers finite and in range, mistyped keys named with the key they meant, and every
reference (owner roles, webhook tables, link targets, mapping files, the store) checked when the
runtime loads, so ``validate`` refuses what ``sync`` and ``serve`` would refuse or crash on."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from onboard_sync.checks import config_problems
from onboard_sync.cli.setup import init
from onboard_sync.errors import ConfigError
from onboard_sync.runtime import load_runtime

ZENDESK = '\n[connectors.zendesk]\ntype = "zendesk"\nsubdomain = "acme"\n'


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The starter set `onboard-sync init` writes, with no ONBOARD_SYNC_* variable in the way."""
    for name in ("ONBOARD_SYNC_CONFIG", "ONBOARD_SYNC_STORE", "ONBOARD_SYNC_SECRETS_FILE"):
        monkeypatch.delenv(name, raising=False)
    init(directory=tmp_path, force=False)
    return tmp_path / "config.toml"


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` (or append ``new`` when ``old`` is empty); the line ``new`` ends on."""
    text = path.read_text(encoding="utf-8")
    if old:
        assert old in text, old
        start = text.index(old)
        text = text.replace(old, new, 1)
    else:
        start = len(text)
        text += new
    path.write_text(text, encoding="utf-8")
    return text[: start + len(new.rstrip())].count("\n") + 1


def load_error(config: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_runtime(config)
    return info.value


def test_the_starter_config_has_no_problem(config: Path) -> None:
    rt = load_runtime(config, check=False)
    assert config_problems(rt.config, rt.playbook) == []


# -- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key_path", "message"),
    [
        ("lookback_minutes = 10", "lookback_minutes = nan", "onboard_sync.lookback_minutes", "not nan"),
        ("", "\n[serve]\nfull_sync_every_minutes = inf\n", "serve.full_sync_every_minutes", "not inf"),
        ("", "\n[serve]\ncoalesce_seconds = nan\n", "serve.coalesce_seconds", "not nan"),
        (
            "",
            "\n[serve.webhooks.hubspot]\nmax_age_seconds = nan\n",
            "serve.webhooks.hubspot.max_age_seconds",
            "not nan",
        ),
        ('type = "hubspot"', 'type = "hubspot"\nrequests_per_second = inf', "requests_per_second", "not inf"),
        ('type = "hubspot"', 'type = "hubspot"\nrequests_per_second = nan', "requests_per_second", "not nan"),
        ('type = "hubspot"', 'type = "hubspot"\ntimeout_seconds = inf', "timeout_seconds", "not inf"),
        ('type = "hubspot"', 'type = "hubspot"\nsearch_requests_per_second = nan', "search_requests", "not nan"),
    ],
)
def test_non_finite_numbers_in_config_are_refused_naming_line_and_key(
    config: Path, old: str, new: str, key_path: str, message: str
) -> None:
    line = edit(config, old, new)
    error = load_error(config)

    assert error.where is not None
    assert error.where.startswith(f"{config}:{line} (") or f"config.toml:{line} (" in error.where, error.where
    assert key_path in error.where, error.where
    assert "must be a finite number" in error.message, error.message
    assert message in error.message


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("requests_per_second = 0", "greater than 0"),
        ("requests_per_second = -5", "greater than 0"),
        ("requests_per_second = 1e9", "less than or equal to 10000"),
        ("timeout_seconds = 1e300", "less than or equal to 600"),
        ("search_requests_per_second = 1e300", "less than or equal to 10000"),
    ],
)
def test_connector_numbers_out_of_range_are_refused(config: Path, new: str, message: str) -> None:
    line = edit(config, 'type = "hubspot"', f'type = "hubspot"\n{new}')
    error = load_error(config)

    assert f"config.toml:{line} (connectors.hubspot.{new.split()[0]})" in str(error.where)
    assert message in error.message


def test_a_full_sync_interval_beyond_a_week_is_refused(config: Path) -> None:
    edit(config, "", "\n[serve]\nfull_sync_every_minutes = 1e12\n")
    assert "less than or equal to 10080" in load_error(config).message


def test_zendesk_backfill_beyond_ten_years_is_refused(config: Path) -> None:
    edit(config, "", ZENDESK + "backfill_days = 100000\n")
    error = load_error(config)
    assert "connectors.zendesk.backfill_days" in str(error.where)
    assert "less than or equal to 3650" in error.message


# -- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key_path", "meant"),
    [
        ("lookback_minutes = 10", "lookbak_minutes = 10", "onboard_sync.lookbak_minutes", "lookback_minutes"),
        ('type = "hubspot"', 'type = "hubspot"\npipline = "x"', "connectors.hubspot.pipline", "pipeline"),
        (
            'type = "hubspot"',
            'type = "hubspot"\ntimeout_secs = 3',
            "connectors.hubspot.timeout_secs",
            "timeout_seconds",
        ),
        ("", "\n[serve]\nful_sync_every_minutes = 5\n", "serve.ful_sync_every_minutes", "full_sync_every_minutes"),
        ("", "\n[serve.webhooks.hubspot]\nsecret_evn = 'X'\n", "serve.webhooks.hubspot.secret_evn", "secret_env"),
        ("", ZENDESK + "[connectors.zendesk.link]\ncmr = 'hubspot'\n", "connectors.zendesk.link.cmr", "crm"),
    ],
)
def test_a_mistyped_config_key_names_itself_and_the_key_it_meant(
    config: Path, old: str, new: str, key_path: str, meant: str
) -> None:
    line = edit(config, old, new)
    error = load_error(config)

    typo = key_path.rsplit(".", 1)[-1]
    assert error.message == f"unknown key {typo!r} (did you mean {meant!r}?)"
    assert str(error.where).endswith(f"config.toml:{line} ({key_path})") or f":{line} ({key_path})" in str(
        error.where
    ), error.where


def test_a_mistyped_table_names_itself_and_the_table_it_meant(config: Path) -> None:
    line = edit(config, "", "\n[conectors.other]\ntype = 'hubspot'\n") - 1
    error = load_error(config)

    assert error.message == "unknown key 'conectors' (did you mean 'connectors'?)"
    assert str(error.where).endswith(f"config.toml:{line} (conectors)"), error.where


def test_an_owner_role_the_playbook_does_not_have_is_refused(config: Path) -> None:
    line = edit(config, 'csm = "deal_owner"', 'cms = "deal_owner"')
    error = load_error(config)

    assert f":{line} (owners.cms)" in str(error.where)
    assert error.message.startswith("unknown owner role 'cms' (did you mean 'csm'?); playbook 'default' has ")


# -- references ---------------------------------------------------------------------------------


def test_a_webhook_table_naming_no_instance_is_refused_at_load(config: Path) -> None:
    line = edit(config, "", "\n[serve.webhooks.hubspto]\nenabled = false\n") - 1
    error = load_error(config)

    assert f":{line} (serve.webhooks.hubspto)" in str(error.where)
    assert "names no connector instance (did you mean 'hubspot'?)" in error.message


def test_an_unknown_webhook_scheme_is_refused_at_load(config: Path) -> None:
    line = edit(config, "", "\n[serve.webhooks.hubspot]\nscheme = 'hubspott'\n")
    error = load_error(config)

    assert f":{line} (serve.webhooks.hubspot.scheme)" in str(error.where)
    assert "unknown webhook scheme 'hubspott' (did you mean 'hubspot'?)" in error.message


def test_a_link_to_no_connector_instance_is_refused(config: Path) -> None:
    line = edit(config, "", ZENDESK + "link = { crm = 'hubspto' }\n")
    error = load_error(config)

    assert f":{line} (connectors.zendesk.link.crm)" in str(error.where)
    assert "link.crm names no connector instance: 'hubspto' (did you mean 'hubspot'?)" in error.message


def test_a_link_to_an_instance_that_reads_no_deals_is_refused(config: Path) -> None:
    edit(config, "", ZENDESK + "link = { crm = 'zendesk' }\n")
    error = load_error(config)

    assert "link.crm names a connector instance that reads no deals: 'zendesk'" in error.message
    assert "(deal sources: hubspot)" in error.message


def test_a_mapping_file_named_after_no_instance_is_refused(config: Path) -> None:
    mappings = config.parent / "mappings"
    (mappings / "hubspot.toml").rename(mappings / "hubspto.toml")
    error = load_error(config)

    assert str(error.where).endswith("hubspto.toml")
    assert "used by no connector instance (did you mean 'hubspot'?)" in error.message


def test_a_mappings_folder_named_in_config_must_exist(config: Path) -> None:
    line = edit(config, 'mappings = "mappings"', 'mappings = "mapings"')
    error = load_error(config)

    assert f":{line} (onboard_sync.mappings)" in str(error.where)
    assert "mappings folder not found" in error.message


def test_salesforce_jwt_without_username_is_refused_at_load(config: Path) -> None:
    line = edit(config, "", "\n[connectors.sf]\ntype = 'salesforce'\nclient_id = 'c'\n") - 2
    error = load_error(config)

    assert f":{line} (connectors.sf)" in str(error.where)
    assert error.message == "auth = 'jwt' needs 'username' (the integration user)"


# -- store --------------------------------------------------------------------------------------


STORE = 'store = "sqlite:///onboard-sync.db"'


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:hunter2@db/x", "unsupported store backend 'mysql' in mysql://u:***@db/x: use sqlite or postgresql"),
        ("sqlit:///x.db", "unsupported store backend 'sqlit' (did you mean 'sqlite'?)"),
        ("not a url", "not a store URL"),
        ("sqlite:///no-such-folder/state.db", "the store's folder does not exist: "),
        ("postgresql+nosuchdriver://u:hunter2@db/x", "unknown store driver"),
    ],
)
def test_a_store_that_cannot_open_is_refused_at_load(config: Path, url: str, message: str) -> None:
    line = edit(config, STORE, f'store = "{url}"')
    error = load_error(config)

    assert f":{line} (onboard_sync.store)" in str(error.where)
    assert message in error.message
    assert "hunter2" not in str(error)


def test_a_store_path_that_is_a_folder_is_refused(config: Path) -> None:
    (config.parent / "state").mkdir()
    edit(config, STORE, 'store = "sqlite:///state"')
    assert "the store path is a folder" in load_error(config).message


def test_postgres_without_its_driver_names_the_extra(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    edit(config, STORE, 'store = "postgresql://u:hunter2@db/x"')
    error = load_error(config)

    assert "its driver 'psycopg' is not installed: pip install 'onboard-sync[postgres]'" in error.message
    assert "hunter2" not in str(error)


def test_a_store_from_the_environment_is_named_as_such(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONBOARD_SYNC_STORE", "sqlite:////no/such/folder/state.db")
    error = load_error(config)

    assert error.where == "ONBOARD_SYNC_STORE"
    assert "the store's folder does not exist: /no/such/folder" in error.message


def test_sqlite_in_memory_and_an_existing_folder_are_fine(config: Path) -> None:
    edit(config, STORE, 'store = "sqlite://"')
    load_runtime(config)


def test_every_problem_is_listed_and_the_first_raised_counts_the_rest(config: Path) -> None:
    edit(config, 'csm = "deal_owner"', 'cms = "deal_owner"')
    edit(config, STORE, 'store = "sqlite:///no-such-folder/state.db"')
    rt = load_runtime(config, check=False)

    problems = config_problems(rt.config, rt.playbook)
    assert [p.where.split(" ")[-1] for p in problems if p.where] == ["(owners.cms)", "(onboard_sync.store)"]
    error = load_error(config)
    assert error.message.endswith("(and 1 more problem: `onboard-sync validate` lists them)"), error.message
