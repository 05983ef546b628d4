"""Playbook loader: the default loads; every kind of bad input names file, line and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from onboard_sync.errors import ConfigError
from onboard_sync.rules import default_playbook_path, load_playbook

GOOD = """\
[playbook]
name = "tiny"

[[segments]]
key = "big"
label = "Big"
duration_days = 60
when = "deal.amount >= 100000.0"

[[segments]]
key = "std"
label = "Standard"
duration_days = 30

[[phases]]
key = "start"
label = "Start"

  [[phases.tasks]]
  key = "hello"
  title = "Say hello to {account.name}"
  owner = "csm"
  due_day = 2

  [[phases.tasks]]
  key = "plan"
  title = "Plan"
  owner = "csm"
  due_day = 3
  when = 'segment == "big"'

[[phases]]
key = "done"
label = "Done"

[health]
healthy_min = 70

  [[health.components]]
  key = "overdue"
  metric = "overdue_required_tasks"
  max = 0
  weight = 10
  reason = "{value} overdue"
"""


def write(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_playbook(write(tmp_path, text))
    return info.value


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def test_default_playbook_loads_with_expected_shape() -> None:
    pb = load_playbook(default_playbook_path())
    assert pb.name == "default"
    assert pb.phase_keys() == (
        "handoff", "kickoff", "discovery", "configuration", "training", "go_live", "adoption", "review", "completed",
    )  # fmt: skip
    assert [(s.key, s.duration_days) for s in pb.segments] == [
        ("smb", 14),
        ("mid_market", 30),
        ("enterprise", 75),
    ]
    assert pb.segment("enterprise").timeline_factor == 2.5
    assert "health_score" in pb.field_names()
    assert pb.go_live_phase == "go_live"
    owners = {t.owner for p in pb.phases for t in p.tasks}
    assert owners <= {"sales", "csm", "implementation", "tam", "support", "account_manager"}


def test_good_file_loads(tmp_path: Path) -> None:
    pb = load_playbook(write(tmp_path, GOOD))
    assert pb.phase_keys() == ("start", "done")
    assert pb.phases[0].tasks[1].when is not None
    assert pb.segment("std").timeline_factor == 1.0


@pytest.mark.parametrize(
    ("old", "new", "needle", "path", "message"),
    [
        (
            "  due_day = 2\n",
            '  due_day = 2\n  colour = "red"\n',
            "colour",
            "phases[0].tasks[0].colour",
            "unknown key",
        ),
        ('label = "Big"\n', "", "[[segments]]", "segments[0]", "missing required key 'label'"),
        (
            "duration_days = 60",
            'duration_days = "60"',
            "duration_days = ",
            "segments[0].duration_days",
            "integer",
        ),
        (
            'when = "deal.amount >= 100000.0"',
            'when = "deal.amount >= "',
            "when = ",
            "segments[0].when",
            "parse",
        ),
        (
            'when = "deal.amount >= 100000.0"',
            'when = "deal.amout >= 1.0"',
            "when = ",
            "segments[0].when",
            "amout",
        ),
        (
            "when = 'segment == \"big\"'",
            "when = 'segmnt == \"big\"'",
            "segmnt",
            "phases[0].tasks[1].when",
            "segmnt",
        ),
        (
            'when = "deal.amount >= 100000.0"',
            'when = "days_since_start > 3"',
            "when = ",
            "segments[0].when",
            "unknown",
        ),
        (
            "when = 'segment == \"big\"'",
            "when = 'deal.amount + 1.0'",
            "+ 1.0",
            "phases[0].tasks[1].when",
            "true",
        ),
        (
            "when = 'segment == \"big\"'",
            "when = 'deal.name > 3'",
            "deal.name",
            "phases[0].tasks[1].when",
            "sample",
        ),
        (
            'owner = "csm"\n  due_day = 2',
            'owner = "chef"\n  due_day = 2',
            "chef",
            "phases[0].tasks[0].owner",
            "role",
        ),
        ('key = "plan"', 'key = "hello"  # again', "# again", "phases[0].tasks[1].key", "duplicate task"),
        (
            'title = "Plan"',
            'title = "Plan {deal.secret}"',
            "deal.secret",
            "phases[0].tasks[1].title",
            "placeholder",
        ),
        (
            'title = "Plan"',
            'title = "Plan week {episode}"',
            "week {episode}",
            "phases[0].tasks[1].title",
            "repeated task",
        ),
        (
            'metric = "overdue_required_tasks"\n  max = 0',
            "ok_when = 'metrics.nps > 7.0'",
            'reason = "{value} overdue"',
            "health.components[0].reason",
            "needs a 'metric'",
        ),
        (
            'metric = "overdue_required_tasks"',
            'metric = "vibes"',
            "vibes",
            "health.components[0].metric",
            "metric",
        ),
        (
            "  due_day = 3\n",
            '  due_day = 3\n  segments = ["huge"]\n',
            "huge",
            "phases[0].tasks[1].segments",
            "huge",
        ),
        (
            'name = "tiny"',
            'name = "tiny"\ngo_live_phase = "launch"',
            "launch",
            "playbook.go_live_phase",
            "launch",
        ),
    ],
)
def test_errors_name_file_line_and_key_path(
    tmp_path: Path, old: str, new: str, needle: str, path: str, message: str
) -> None:
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    error = error_for(tmp_path, text)
    file = tmp_path / "rules.toml"
    assert error.where == f"{file}:{line_of(text, needle)} ({path})", error
    assert message in error.message


def test_toml_syntax_error_names_line(tmp_path: Path) -> None:
    text = GOOD.replace('label = "Start"', 'label = "Start', 1)
    error = error_for(tmp_path, text)
    assert error.where is not None
    line = line_of(text, 'label = "Start')
    assert error.where.startswith(f"{tmp_path / 'rules.toml'}:{line}")


def test_terminal_phase_cannot_have_tasks(tmp_path: Path) -> None:
    text = GOOD + '\n  [[phases.tasks]]\n  key = "late"\n  title = "x"\n  owner = "csm"\n  due_day = 1\n'
    error = error_for(tmp_path, text)
    line = line_of(text, 'key = "late"')
    assert error.where == f"{tmp_path / 'rules.toml'}:{line} (phases[1].tasks[0].key)"
    assert "terminal" in error.message


def test_task_needs_exactly_one_due(tmp_path: Path) -> None:
    text = GOOD.replace("  due_day = 2\n", "  due_day = 2\n  due_hours = 4\n", 1)
    error = error_for(tmp_path, text)
    assert "exactly one of 'due_day' or 'due_hours'" in error.message
    assert error.where == f"{tmp_path / 'rules.toml'}:{line_of(text, '[[phases.tasks]]')} (phases[0].tasks[0])"


def test_directory_merges_files_in_name_order(tmp_path: Path) -> None:
    head, _, rest = GOOD.partition("[[phases]]")
    write(tmp_path, head, "10-head.toml")
    write(tmp_path, "[[phases]]" + rest, "20-phases.toml")
    pb = load_playbook(tmp_path)
    assert pb.phase_keys() == ("start", "done")
    assert len(pb.sources) == 2


def test_directory_duplicate_key_across_files_names_second_file(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "10-main.toml")
    extra = '[[segments]]\nkey = "std"\nlabel = "Again"\nduration_days = 10\n'
    write(tmp_path, extra, "20-extra.toml")
    with pytest.raises(ConfigError) as info:
        load_playbook(tmp_path)
    assert info.value.where == f"{tmp_path / '20-extra.toml'}:2 (segments[0].key)"
    assert "duplicate segment key 'std'" in info.value.message
    assert "10-main.toml" in info.value.message


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_playbook(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"no \.toml files"):
        load_playbook(tmp_path)


def test_condition_knows_names_and_metrics_it_reads(tmp_path: Path) -> None:
    text = GOOD.replace(
        'metric = "overdue_required_tasks"\n  max = 0',
        "ok_when = 'has(metrics.nps) && metrics.nps > 7.0 && [1, 2].exists(x, x > 0)'",
    ).replace('reason = "{value} overdue"', 'reason = "NPS not above 7"')
    pb = load_playbook(write(tmp_path, text))
    component = pb.health.components[0]
    assert component.metrics == {"nps"}
    assert component.ok_when is not None
    assert component.ok_when.names == {"metrics"}
