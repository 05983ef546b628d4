"""The deployment files under deploy/ work: the systemd units parse, run real `onboard-sync` commands with
options the CLI accepts and pass `systemd-analyze verify` where it exists; the crontab line syncs from
cron's bare environment; docs/deploying.md quotes each file verbatim; LICENSE is pyproject's licence."""

from __future__ import annotations

import hashlib
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import typer.main

from onboard_sync.cli import _register_commands, app
from onboard_sync.cli.demo import TOKEN_ENV

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "deploy" / "systemd"
CRONTAB = ROOT / "deploy" / "cron" / "onboard-sync.crontab"
UNITS = sorted(SYSTEMD.glob("onboard-sync-*"))
SERVICES = [u for u in UNITS if u.suffix == ".service"]
INSTALLED_SCRIPT = "/opt/onboard-sync/venv/bin/onboard-sync"

Unit = dict[str, dict[str, list[str]]]


def read_unit(path: Path) -> Unit:
    """A unit file as section → key → values (systemd allows a key more than once)."""
    unit: Unit = defaultdict(lambda: defaultdict(list))
    section = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            unit[section]  # an empty section is still a section
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}:{number}: not KEY=VALUE: {raw!r}"
        assert section is not None, f"{path.name}:{number}: a key before any [Section]"
        unit[section][key.strip()].append(value.strip())
    return unit


def one(unit: Unit, section: str, key: str) -> str:
    values = unit[section][key]
    assert len(values) == 1, f"[{section}] {key}: {values}"
    return values[0]


def parse_cli(argv: list[str]) -> tuple[str, dict[str, Any]]:
    """Parse ``onboard-sync ARGS`` with the real CLI, without running anything: the command name and its
    parameters (an unknown command or option raises the CLI's usage error)."""
    import onboard_sync.cli.logging_options  # noqa: F401 - registers the global options, as main() does

    _register_commands()
    group = typer.main.get_command(app)
    ctx = group.make_context("onboard-sync", list(argv))
    leading = getattr(ctx, "protected_args", None) or getattr(ctx, "_protected_args", [])
    name, command, rest = group.resolve_command(ctx, [*leading, *ctx.args])
    assert name is not None
    assert command is not None
    return name, command.make_context(name, rest, parent=ctx).params


def exec_command(unit: Unit) -> list[str]:
    return shlex.split(one(unit, "Service", "ExecStart"))


def test_the_units_are_the_three_the_docs_describe() -> None:
    assert [u.name for u in UNITS] == [
        "onboard-sync-serve.service",
        "onboard-sync-sync.service",
        "onboard-sync-sync.timer",
    ]


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_a_service_runs_a_real_onboard_sync_command_with_accepted_options(path: Path) -> None:
    unit = read_unit(path)
    argv = exec_command(unit)

    assert argv[0] == INSTALLED_SCRIPT, "the venv's console script, by its full path"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert Path(argv[0]).name in scripts, "a console script pyproject.toml installs"
    name, params = parse_cli(argv[1:])
    assert name == path.stem.removeprefix("onboard-sync-")
    assert params["config"] == Path("/etc/onboard-sync/config.toml")
    assert one(unit, "Service", "Type") == ("oneshot" if name == "sync" else "simple")
    state = one(unit, "Service", "StateDirectory")
    assert one(unit, "Service", "WorkingDirectory") == f"/var/lib/{state}"
    assert f"/var/lib/{state}" in unit["Service"]["ReadWritePaths"], "the store and its lock are writable"
    assert one(unit, "Service", "User") == "onboard-sync"
    assert one(unit, "Service", "EnvironmentFile") == "/etc/onboard-sync/secrets.env"
    assert "ONBOARD_SYNC_LOG_FORMAT=json" in unit["Service"]["Environment"]


def test_serve_restarts_on_failure_but_not_on_a_problem_to_fix() -> None:
    unit = read_unit(SYSTEMD / "onboard-sync-serve.service")

    assert one(unit, "Service", "Restart") == "on-failure"
    assert one(unit, "Service", "RestartPreventExitStatus") == "2"
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


def test_the_timer_starts_the_sync_service_every_15_minutes() -> None:
    timer = read_unit(SYSTEMD / "onboard-sync-sync.timer")

    service = SYSTEMD / one(timer, "Timer", "Unit")
    assert service.is_file(), f"the timer names {service.name}, which deploy/systemd does not ship"
    assert parse_cli(exec_command(read_unit(service))[1:])[0] == "sync"
    assert one(timer, "Timer", "OnCalendar") == "*:0/15"
    assert one(timer, "Timer", "Persistent") == "true"
    assert one(timer, "Install", "WantedBy") == "timers.target"
    if shutil.which("systemd-analyze"):
        calendar = subprocess.run(
            ["systemd-analyze", "calendar", "*:0/15"], capture_output=True, text=True, check=False
        )
        assert calendar.returncode == 0, calendar.stderr
        assert "*-*-* *:00/15:00" in calendar.stdout


@pytest.mark.skipif(
    not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed (the parse tests ran)"
)
def test_systemd_analyze_verify_accepts_the_units_without_a_warning(tmp_path: Path) -> None:
    script = shutil.which("onboard-sync", path=str(Path(sys.executable).parent))
    assert script, "the onboard-sync console script of this environment"
    for unit in UNITS:  # verify checks that ExecStart exists: point it at this environment's script
        (tmp_path / unit.name).write_text(unit.read_text(encoding="utf-8").replace(INSTALLED_SCRIPT, script))

    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(tmp_path / u.name) for u in UNITS)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    ours = [line for line in result.stderr.splitlines() if str(tmp_path) in line or "onboard-sync" in line]
    assert ours == [], "warnings (an unknown key is only a warning to systemd)"


# -- cron -----------------------------------------------------------------------------------------


def crontab() -> tuple[dict[str, str], list[str]]:
    """The crontab's variables and its one job line (schedule fields and command)."""
    variables: dict[str, str] = {}
    jobs: list[str] = []
    for line in CRONTAB.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"^[A-Z_][A-Z0-9_]*=", line):
            name, _, value = line.partition("=")
            variables[name] = value
        else:
            jobs.append(line)
    assert len(jobs) == 1, jobs
    return variables, jobs


def test_the_crontab_line_names_the_venv_config_log_and_secrets() -> None:
    variables, [job] = crontab()
    fields = job.split(None, 5)

    assert fields[:5] == ["*/15", "*", "*", "*", "*"]
    argv = shlex.split(fields[5])
    assert argv[0] == INSTALLED_SCRIPT
    redirect = argv.index(">>/var/log/onboard-sync/sync.log")
    assert argv[redirect + 1 :] == ["2>&1"], "stdout and stderr go to the log: cron mails nothing"
    name, params = parse_cli(argv[1:redirect])
    assert name == "sync"
    assert params["config"] == Path("/etc/onboard-sync/config.toml")
    assert variables["ONBOARD_SYNC_SECRETS_FILE"] == "/etc/onboard-sync/secrets.env"
    assert variables["SHELL"] == "/bin/sh"


def test_the_crontab_line_syncs_from_crons_bare_environment(
    sandbox_project: Any, hubspot_sandbox: Any, tmp_path: Path
) -> None:
    """The job line as cron runs it: /bin/sh -c, only the crontab's variables plus what cron sets."""
    sandbox_project.setup_crm()
    secrets = tmp_path / "secrets.env"
    secrets.write_text(f"{TOKEN_ENV}={hubspot_sandbox.token}\n", encoding="utf-8")
    log = tmp_path / "log" / "sync.log"
    log.parent.mkdir()
    variables, [job] = crontab()
    script = shutil.which("onboard-sync", path=str(Path(sys.executable).parent))
    assert script
    command = (
        job.split(None, 5)[5]
        .replace(INSTALLED_SCRIPT, script)
        .replace("/etc/onboard-sync/config.toml", str(sandbox_project.config_path))
        .replace("/var/log/onboard-sync/sync.log", str(log))
    )
    env = {**variables, "ONBOARD_SYNC_SECRETS_FILE": str(secrets)}
    env.update(HOME=str(tmp_path), LOGNAME="onboard-sync", PATH="/usr/bin:/bin")  # cron's own

    def cron_run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [variables["SHELL"], "-c", command], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )

    first = cron_run()
    assert first.returncode == 0, log.read_text(encoding="utf-8")
    assert first.stdout == first.stderr == "", "everything goes to the log file"
    assert re.search(r"^ok: \d+ created, \d+ updated, 0 failed$", log.read_text(encoding="utf-8"), re.MULTILINE)
    assert hubspot_sandbox.backend.tasks, "the run reached the CRM with the token from the secrets file"
    assert hubspot_sandbox.token not in log.read_text(encoding="utf-8")

    from onboard_sync.runtime import load_runtime
    from onboard_sync.store import Store

    with Store.open(load_runtime(sandbox_project.config_path).config.store_url) as store, store.run_lock("sync"):
        overlapping = cron_run()
    assert overlapping.returncode == 2
    assert overlapping.stdout == overlapping.stderr == ""
    assert "another onboard-sync process holds the 'sync' lock" in log.read_text(encoding="utf-8")


# -- the guide quotes the files; the licence is the declared one ----------------------------------


def quoted_files(markdown: str) -> dict[str, str]:
    """``<!-- from: PATH -->`` followed by a fenced block: PATH → the block's text."""
    pattern = re.compile(r"<!-- from: (\S+) -->\n```[a-z]*\n(.*?)```", re.DOTALL)
    return {path: text for path, text in pattern.findall(markdown)}


def test_the_deploying_guide_quotes_every_deploy_file_verbatim() -> None:
    quoted = quoted_files((ROOT / "docs" / "deploying.md").read_text(encoding="utf-8"))

    shipped = sorted(str(p.relative_to(ROOT)) for p in [*UNITS, CRONTAB])
    assert sorted(quoted) == shipped
    for path, text in quoted.items():
        assert text == (ROOT / path).read_text(encoding="utf-8"), f"docs/deploying.md differs from {path}"


def test_the_readme_links_the_deploying_guide() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documentation = readme.split("## Documentation", 1)[1].split("\n## ", 1)[0]
    assert "docs/deploying.md" in documentation


APACHE_2_MD5 = "3b83ef96387f14655fc854ddc3c6bd57"
"""The md5 of the standard text of the Apache License 2.0 (LICENSE-2.0.txt)."""


def test_license_is_the_full_apache_text_that_pyproject_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]
    text = (ROOT / "LICENSE").read_bytes()

    assert declared == "Apache-2.0"
    assert hashlib.md5(text).hexdigest() == APACHE_2_MD5, "the standard text, unchanged"
    assert b"TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
