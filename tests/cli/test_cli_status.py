"""`onboard-sync status` for people, on the demo's store (the real CLI in a subprocess, no API calls:
the demo's sandbox is gone by then): fits 80 columns with every column readable, worst first, owner
names, and filters that apply to the table and to --json alike."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cli_run import clean_env, run_cli, user_error

from onboard_sync.runtime import load_runtime
from onboard_sync.status import HEALTH_RANK
from onboard_sync.store import Store

CSM_POOL = {"erin.cs@example.test", "farid.cs@example.test", "grace.cs@example.test"}  # the demo's [owners] csm


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder `onboard-sync demo --keep` leaves behind: its config and its store."""
    folder = tmp_path_factory.mktemp("demo")
    result = run_cli("demo", "--deals", "160", "--keep", folder, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder / "config.toml"


def status(config: Path, *args: str, columns: int | None = None) -> Any:
    env = clean_env({"COLUMNS": str(columns)} if columns else None)
    result = run_cli("status", "--config", config, *args, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result


def status_json(config: Path, *args: str) -> dict[str, Any]:
    return json.loads(status(config, "--json", *args).stdout)


def words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("columns", [80, 100, 160])
def test_status_fits_the_terminal_and_every_column_is_readable(demo_config: Path, columns: int) -> None:
    rows = 12
    table = status(demo_config, "--limit", str(rows), columns=columns).stdout
    shown = status_json(demo_config)["onboardings"][:rows]

    lines = table.splitlines()
    assert max(len(line) for line in lines) <= columns, "\n".join(line for line in lines if len(line) > columns)
    header = next(line for line in lines if line.startswith("customer"))
    assert words(header) == ["customer", "owner", "phase", "health", "tasks", "next", "step"]
    assert "…" not in "\n".join(lines[:-1]), "nothing is cut off (only the last line says how many more)"
    printed = words(table)
    for view in shown:  # every word of every cell is printed whole (cells wrap at spaces, never mid-word)
        phase = view["phase_label"] + ("*" if view["manual_phase"] else "")  # * marks a phase set by hand
        cells = [view["deal"], view["segment_label"], view["owner"], phase, view["next_step"]]
        cells += [f"day {view['day']}/{view['planned_days']}", f"{view['health_score']} {view['health_status']}"]
        cells += [f"{view['open_tasks']} open", f"{view['overdue_tasks']} late"]
        for cell in cells:
            for word in words(cell):
                assert word in printed, f"{word!r} of {cell!r} missing at {columns} columns:\n{table}"


def test_at_80_columns_the_day_and_health_are_not_squeezed_out(demo_config: Path) -> None:
    table = status(demo_config, "--limit", "5", columns=80).stdout

    assert len(re.findall(r"\bday \d+/\d+\b", table)) == 5, table
    assert len(re.findall(r"\b\d+ (healthy|at-risk|critical)\b", table)) == 5, table


def test_status_lists_worst_first(demo_config: Path) -> None:
    views = [v for v in status_json(demo_config)["onboardings"] if v["status"] in ("active", "at-risk", "extended")]
    assert len({v["health_status"] for v in views}) > 1, "the demo store should hold more than one health status"

    ranks = [(HEALTH_RANK.get(v["health_status"], 3), -v["days_late"]) for v in views]
    assert ranks == sorted(ranks), "critical, then at-risk, then healthy; the latest first within each"
    table = status(demo_config, "--limit", "1", columns=120).stdout
    assert views[0]["deal"].split()[0] in table.splitlines()[3], table


def test_status_shows_the_csm_by_name(demo_config: Path) -> None:
    rt = load_runtime(demo_config)
    with Store.open(rt.config.store_url, read_only=True) as store:
        owners = store.owners("hubspot")
    csm_names = {o.name for o in owners.values() if o.email in CSM_POOL}
    assert len(csm_names) == len(CSM_POOL), "the sandbox names every CSM"

    views = status_json(demo_config)["onboardings"]

    assert {v["owner"] for v in views} <= csm_names
    assert len({v["owner"] for v in views}) > 1, "the pool spreads the customers"
    assert all(owners[v["owner_id"]].name == v["owner"] for v in views)


def test_at_risk_filter_in_table_and_json(demo_config: Path) -> None:
    every = status_json(demo_config)
    risky = status_json(demo_config, "--at-risk")

    assert 0 < len(risky["onboardings"]) < every["total"]
    assert risky["total"] == every["total"]
    assert risky["filters"]["at_risk"] is True
    for view in risky["onboardings"]:
        assert view["health_status"] in ("at-risk", "critical") or view["status"] == "at-risk", view
    expected = [v["id"] for v in every["onboardings"] if v in risky["onboardings"]]
    assert [v["id"] for v in risky["onboardings"]] == expected, "the filter keeps the order"
    title = status(demo_config, "--at-risk", columns=120).stdout.splitlines()[0]
    assert f"Onboardings ({len(risky['onboardings'])} of {every['total']})" in title


def test_owner_segment_and_phase_filters_in_json(demo_config: Path) -> None:
    every = status_json(demo_config)["onboardings"]
    owner = every[0]["owner"]
    first_name = owner.split()[0].lower()

    mine = status_json(demo_config, "--owner", first_name)["onboardings"]
    assert mine
    assert {v["owner"] for v in mine} == {owner}
    assert len(mine) == sum(1 for v in every if v["owner"] == owner)

    by_email = status_json(demo_config, "--owner", every[0]["owner_email"].upper())["onboardings"]
    assert [v["id"] for v in by_email] == [v["id"] for v in mine], "an e-mail works as well as a name"

    smb = status_json(demo_config, "--segment", "SMB")["onboardings"]  # a label works as well as the key
    assert smb
    assert {v["segment"] for v in smb} == {"smb"}

    handoff = status_json(demo_config, "--phase", "sales handoff", "--segment", "smb", "--owner", first_name)
    assert handoff["filters"] == {"at_risk": False, "owner": first_name, "segment": "smb", "phase": "handoff"}
    expected = [v["id"] for v in every if v["phase"] == "handoff" and v["segment"] == "smb" and v["owner"] == owner]
    assert [v["id"] for v in handoff["onboardings"]] == expected


def test_the_filters_narrow_the_table_too(demo_config: Path) -> None:
    kickoff = status_json(demo_config, "--phase", "kickoff")["onboardings"]

    table = status(demo_config, "--phase", "kickoff", "--limit", "100", columns=120).stdout

    assert f"Onboardings ({len(kickoff)} of " in table.splitlines()[0]
    assert "Sales handoff" not in table
    assert table.count("Kickoff") == len(kickoff)


def test_an_owner_nobody_has_says_so(demo_config: Path) -> None:
    result = status(demo_config, "--owner", "nobody-by-this-name", columns=80)

    assert "No onboarding matches --owner nobody-by-this-name." in result.stdout


@pytest.mark.parametrize(
    ("option", "value", "listed"), [("--phase", "kikoff", "kickoff (Kickoff)"), ("--segment", "smbb", "smb (SMB)")]
)
def test_a_phase_or_segment_the_playbook_lacks_is_an_error(
    demo_config: Path, option: str, value: str, listed: str
) -> None:
    error = user_error(run_cli("status", "--config", demo_config, option, value))

    assert error.startswith(f"error: {option}: the playbook has no {option[2:]} '{value}' (it has: "), error
    assert listed in error, error


def test_without_a_csm_role_the_owner_is_the_deal_owner(sandbox_project: Any) -> None:
    from datetime import UTC, datetime

    from onboard_sync.status import onboarding_views

    sandbox_project.setup_crm()
    assert sandbox_project.sync().ok
    rt = sandbox_project.runtime()
    with sandbox_project.store(read_only=True) as store:
        views = onboarding_views(store, rt.playbook, datetime.now(UTC), owner_settings={"sales": "deal_owner"})
        deals = store.get_deals("hubspot", [v.deal_id for v in views])
        owners = store.owners("hubspot")

    assert views
    for view in views:
        deal_owner = owners[deals[view.deal_id].owner_id or ""]
        assert (view.owner_id, view.owner) == (deal_owner.id, deal_owner.name)


@pytest.mark.postgres
def test_the_table_reads_the_same_from_a_postgresql_store(demo_config: Path) -> None:
    """A SQLite store is read with sqlite3 (no SQLAlchemy); a PostgreSQL one through ``Store``:
    the same data gives the same table either way."""
    from onboard_sync.store.sqlite_reader import SqliteReader
    from onboard_sync.store.transfer import copy_store
    from onboard_sync.testing.postgres import SchemaFactory, pg_unreachable

    reason = pg_unreachable()
    if reason:
        pytest.skip(reason)
    sqlite_url = load_runtime(demo_config).config.store_url
    assert SqliteReader.open(sqlite_url) is not None, "the demo's store takes the sqlite3 path"
    schemas = SchemaFactory()
    try:
        pg_url = schemas()
        copy_store(sqlite_url, pg_url)
        from_sqlite = run_cli("status", "--config", demo_config, env=clean_env({"COLUMNS": "120"}))
        from_pg = run_cli(
            "status", "--config", demo_config, env=clean_env({"COLUMNS": "120", "ONBOARD_SYNC_STORE": pg_url})
        )
    finally:
        schemas.close()

    assert from_pg.returncode == 0, from_pg.stderr
    assert from_sqlite.returncode == 0, from_sqlite.stderr
    assert from_pg.stdout == from_sqlite.stdout
    assert from_sqlite.stdout.startswith("Onboardings (")


def test_a_reader_that_stops_early_gets_no_traceback(demo_config: Path) -> None:
    """`status | head -2`: the table goes on after the pipe closed; onboard-sync stops quietly with 141
    (128 + SIGPIPE, as the shell reports a tool its pipe stopped), without a traceback. The reader is
    gone before the first line (its end of the pipe closed at once), so the write surely fails."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "onboard_sync.cli", "status", "--config", str(demo_config)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=clean_env({"COLUMNS": "80"}),
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141, done.stderr
    assert done.stderr == b""
