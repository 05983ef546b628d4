"""Docs that cannot lie about the CLI: every ``onboard-sync …`` command line in README.md and in every
Markdown file under docs/ (fenced code blocks and inline code) names commands and options the real
CLI has. Each is parsed by the CLI's own click command tree, not run (see ``doc_commands``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from doc_commands import DocCommand, commands_in, problem_with

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
COMMANDS = [command for document in DOCUMENTS for command in commands_in(document, ROOT)]


@pytest.mark.parametrize("command", COMMANDS, ids=[f"{c.path}:{c.line}" for c in COMMANDS])
def test_every_documented_command_parses(command: DocCommand) -> None:
    problem = problem_with(command.args)

    assert problem is None, f"{command}\n  {problem}"


def test_the_docs_are_all_read() -> None:
    assert ROOT / "README.md" in DOCUMENTS
    assert len(DOCUMENTS) >= 9, DOCUMENTS  # README plus docs/, docs/connectors/ and anything added later
    per_file = {c.path for c in COMMANDS}
    assert Path("README.md") in per_file
    assert Path("docs/connectors/hubspot.md") in per_file
    readme = [c.args for c in COMMANDS if c.path == Path("README.md")]
    for quick_start in [("validate", "--remote"), ("setup",), ("plan",), ("sync",), ("status",)]:
        assert quick_start in readme, quick_start


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("setup", "--apply"), "No such option: --apply"),
        (("connectors", "check"), "`onboard-sync connectors` got unexpected extra argument(s): check"),
        (("sycn",), "`onboard-sync`: no such command 'sycn'"),
        (("sandbox", "hubspott"), "`onboard-sync sandbox`: no such command 'hubspott'"),
        (("status", "--limit"), "--limit"),
        (("init", "one", "two"), "got unexpected extra argument(s): two"),
        (("sync", "--json", "--limt"), "No such option: --limt"),
    ],
)
def test_the_check_rejects_what_the_cli_rejects(args: tuple[str, ...], problem: str) -> None:
    found = problem_with(args)

    assert found is not None
    assert problem in found, found


@pytest.mark.parametrize(
    "args",
    [(), ("sandbox",), ("sandbox", "hubspot", "--port", "P"), ("simulate", "--rules", "FILE"), ("--version",)],
)
def test_the_check_accepts_placeholders_and_help_forms(args: tuple[str, ...]) -> None:
    assert problem_with(args) is None


SAMPLE = """\
Run `onboard-sync plan --json` first, then `onboard-sync`; `pip install "onboard-sync[postgres]"`.

```bash
$ pip install onboard-sync
ONBOARD_SYNC_LOG_LEVEL=DEBUG onboard-sync sync \\
    --config /etc/onboarding/config.toml   # a comment
onboard-sync init demo && cd demo && onboard-sync validate
```

```
*/15 * * * * cd /srv/x && flock -n sync.lock .venv/bin/onboard-sync sync --config c.toml >> sync.log 2>&1
```

```ini
ExecStart=/opt/onboard-sync/.venv/bin/onboard-sync serve --config /etc/onboarding/config.toml
```

```python
description = "onboard-sync's idempotency key"  # onboard-sync sync --nope
```

| `onboard-sync demo [--crm hubspot\\|salesforce]` | `onboard-sync simulate --rules FILE [--scenario …]` |
"""


def test_the_extractor_reads_shell_cron_units_and_usage_notation(tmp_path: Path) -> None:
    document = tmp_path / "sample.md"
    document.write_text(SAMPLE, encoding="utf-8")

    found = [(c.line, c.args) for c in commands_in(document)]

    assert found == [
        (1, ("plan", "--json")),
        (1, ()),
        (5, ("sync", "--config", "/etc/onboarding/config.toml")),
        (7, ("init", "demo")),
        (7, ("validate",)),
        (11, ("sync", "--config", "c.toml")),
        (15, ("serve", "--config", "/etc/onboarding/config.toml")),
        (22, ("demo", "--crm", "hubspot|salesforce")),
        (22, ("simulate", "--rules", "FILE", "--scenario")),
    ]
