"""``onboard-sync demo`` as a user runs it: the folder it names exists afterwards, and the commands it
prints (status, report; plan and sync with --serve) work there, exactly as printed."""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from cli_run import clean_env, run_cli, user_error

DEALS = "60"


def printed_commands(stdout: str) -> tuple[Path, list[list[str]]]:
    """The folder of the ``cd`` line and the ``onboard-sync …`` lines that follow it."""
    lines = [line.strip() for line in stdout.splitlines()]
    cd = next(n for n, line in enumerate(lines) if line.startswith("cd "))
    folder = Path(shlex.split(lines[cd])[1])
    commands = []
    for line in lines[cd + 1 :]:
        if not line.startswith("onboard-sync "):
            break
        commands.append(shlex.split(line)[1:])
    return folder, commands


def test_demo_keeps_its_folder_and_the_printed_commands_work_there(tmp_path: Path) -> None:
    temp = tmp_path / "temp"  # where the demo makes its folder (TMPDIR), so the test leaves nothing behind
    temp.mkdir()
    result = run_cli("demo", "--deals", DEALS, cwd=tmp_path, env=clean_env({"TMPDIR": str(temp)}), timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    folder, commands = printed_commands(result.stdout)
    assert folder.is_dir(), f"the demo points at {folder}, which does not exist"
    assert folder.parent == temp
    assert {"config.toml", ".env", "onboard-sync.db", "rules", "mappings"} <= {p.name for p in folder.iterdir()}
    assert commands == [["status"], ["report", "--out", "report.html"]]
    started = int(re.search(r"sync 1: (\d+) onboardings started", result.stdout).group(1))  # type: ignore[union-attr]

    status = run_cli("status", "--json", cwd=folder)
    assert status.returncode == 0, status.stderr
    assert len(json.loads(status.stdout)["onboardings"]) == started
    last_run = datetime.fromisoformat(json.loads(status.stdout)["last_run"]["started_at"])
    assert last_run <= datetime.now(UTC), "the store the demo leaves is not dated in the future"
    # what `status` shows in the folder is what the demo showed last: its week of work ended now
    table = run_cli("status", "--limit", "10", cwd=folder)
    assert table.returncode == 0, table.stderr
    demo_rows = _table_rows(result.stdout)
    status_lines = table.stdout.splitlines()
    rule = next(n for n, line in enumerate(status_lines) if line.startswith("─"))
    assert status_lines[rule + 1 : rule + 1 + len(demo_rows)] == demo_rows
    report = run_cli(*commands[1], cwd=folder)
    assert report.returncode == 0, report.stderr
    assert (folder / "report.html").stat().st_size > 1000
    assert f"onboard-sync demo --serve --deals {DEALS} --dir {folder}" in result.stdout


def test_demo_into_a_chosen_folder_reruns_afresh_and_keeps_edited_rules(tmp_path: Path) -> None:
    folder = tmp_path / "my demo"
    first = run_cli("demo", "--deals", DEALS, "--dir", folder, timeout=180)
    assert first.returncode == 0, first.stderr[-3000:]
    assert printed_commands(first.stdout)[0] == folder
    assert f"cd {shlex.quote(str(folder))}" in first.stdout
    rules = folder / "rules" / "playbook.toml"
    rules.write_text(rules.read_text().replace('name = "default"', 'name = "ours"', 1))

    again = run_cli("demo", "--deals", DEALS, "--dir", folder, timeout=180)
    assert again.returncode == 0, again.stderr[-3000:]
    assert 'name = "ours"' in rules.read_text()  # the user's edit survives
    assert "playbook ours" in again.stdout  # and the rerun used it
    started = int(re.search(r"sync 1: (\d+) onboardings started", again.stdout).group(1))  # type: ignore[union-attr]
    assert started > 0  # a fresh store: the onboardings started again in the new sandbox


def test_demo_refuses_a_folder_that_holds_other_files(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[onboard_sync]\n")
    line = user_error(run_cli("demo", "--dir", tmp_path))
    assert str(tmp_path) in line
    assert "--dir" in line
    assert (tmp_path / "config.toml").read_text() == "[onboard_sync]\n"


def test_demo_serve_keeps_the_sandbox_up_for_plan_and_sync_until_ctrl_c(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    process = subprocess.Popen(
        [sys.executable, "-m", "onboard_sync.cli", "demo", "--serve", "--deals", DEALS, "--dir", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env({"PYTHONUNBUFFERED": "1"}),
    )
    try:
        assert process.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            seen.append(line)
            if not line or line.startswith("  onboard-sync report"):
                break
        stdout = "".join(seen)
        assert "until you press Ctrl-C" in stdout, stdout
        cd_folder, commands = printed_commands(stdout)
        assert cd_folder == folder
        assert commands == [["status"], ["plan"], ["sync"], ["report", "--out", "report.html"]]

        plan = run_cli("plan", "--json", cwd=folder)
        assert plan.returncode == 0, plan.stderr
        sync = run_cli("sync", "--json", cwd=folder)
        assert sync.returncode == 0, sync.stderr
        assert json.loads(sync.stdout)["writes"]["failed"] == 0
    finally:
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors[-3000:]
    assert "Traceback" not in errors
    assert "sandbox stopped" in rest


def _table_rows(demo_output: str) -> list[str]:
    """The rows of the status table the demo prints last (between the rule under its header and the
    blank line before "The demo's folder is kept")."""
    lines = demo_output.splitlines()
    rule = max(n for n, line in enumerate(lines) if set(line.strip()) == {"─"})
    end = next(n for n in range(rule + 1, len(lines)) if lines[n].startswith("The demo's folder"))
    rows = lines[rule + 1 : end]
    while rows and not rows[-1].strip():
        rows.pop()
    assert rows, demo_output
    return rows
