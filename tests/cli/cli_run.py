"""Run the real CLI as a user would: ``python -m onboard_sync.cli`` in a subprocess.

``run_cli(*args, env=..., cwd=...)`` returns the finished process (``run_code`` the same for a
``python -c`` snippet, e.g. ``main`` after a setup step); ``user_error(result)`` checks the
CLI's promise for problems the user can fix (exactly one line ``error: WHERE: WHAT`` on stderr,
exit code 2, no traceback) and returns that line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

Result = subprocess.CompletedProcess[str]


def clean_env(extra: Mapping[str, str] | None = None, *, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """The test process's environment without any ``ONBOARD_SYNC_*`` variable (a developer's config
    path, store, log level or the sandbox token), plus ``extra``; ``drop`` removes variables outright."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARD_SYNC_")}
    env.update(extra or {})
    for name in drop:
        env.pop(name, None)
    env.setdefault("NO_COLOR", "1")
    return env


def run_cli(
    *args: str | Path, env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> Result:
    return _run(["-m", "onboard_sync.cli", *map(str, args)], env, cwd, timeout)


def run_code(
    code: str, *args: str | Path, env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> Result:
    """``python -c CODE ARGS`` in a fresh process, e.g. the CLI's ``main`` with something set up first."""
    return _run(["-c", code, *map(str, args)], env, cwd, timeout)


def _run(argv: list[str], env: Mapping[str, str] | None, cwd: Path | None, timeout: float) -> Result:
    return subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else clean_env(),
        cwd=cwd,
        timeout=timeout,
    )


def user_error(result: Result) -> str:
    """Assert the one-line user-error contract and return the line."""
    context = f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 2, context
    assert "Traceback" not in result.stderr, context
    assert "Traceback" not in result.stdout, context
    lines = result.stderr.splitlines()
    assert len(lines) == 1, context
    assert lines[0].startswith("error: "), context
    return lines[0]


def assert_no_secret(result: Result, token: str) -> None:
    """Neither the token nor its random tail appears in anything the CLI printed."""
    printed = result.stdout + result.stderr
    assert token not in printed
    assert token.rsplit("-", 1)[-1] not in printed
