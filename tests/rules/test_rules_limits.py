"""Playbook numbers are finite and in range, and a mistyped key names the key it meant, with file:line.

TOML allows ``nan`` and ``inf``; before these checks ``due_hours = nan`` loaded and crashed ``sync``
(``timedelta(hours=nan)``), and ``due_days = 3`` was reported as a task without a due day."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_rules_loader import GOOD

from onboard_sync.errors import ConfigError
from onboard_sync.rules import load_playbook

PLAYBOOK = (
    GOOD
    + """
[[alerts]]
key = "late"
when = "metrics.overdue_required_tasks > 0"
title = "Late"
due_hours = 24
"""
)
"""The loader tests' playbook (two segments, the second "std" of 30 days; two tasks; one health
component) with an alert."""


def load_with(tmp_path: Path, old: str, new: str) -> ConfigError:
    """Load PLAYBOOK with ``old`` replaced by ``new``; the ConfigError it raises."""
    assert old in PLAYBOOK, old
    path = tmp_path / "rules.toml"
    path.write_text(PLAYBOOK.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_playbook(path)
    return info.value


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_the_playbook_under_test_loads(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(PLAYBOOK, encoding="utf-8")
    assert load_playbook(path).name == "tiny"


@pytest.mark.parametrize(
    ("old", "new", "key_path", "shown"),
    [
        ("due_day = 2", "due_hours = nan", "phases[0].tasks[0].due_hours", "nan"),
        ("due_day = 2", "due_day = inf", "phases[0].tasks[0].due_day", "inf"),
        ("due_day = 2", "due_day = -inf", "phases[0].tasks[0].due_day", "-inf"),
        ("weight = 10", "weight = inf", "health.components[0].weight", "inf"),
        ("weight = 10", "weight = nan", "health.components[0].weight", "nan"),
        ("max = 0", "max = nan", "health.components[0].max", "nan"),
        ("duration_days = 30", "duration_days = 30\ntimeline_factor = nan", "segments[1].timeline_factor", "nan"),
        ("due_hours = 24", "due_hours = inf", "alerts[0].due_hours", "inf"),
    ],
)
def test_non_finite_numbers_are_refused_naming_file_line_and_field(
    tmp_path: Path, old: str, new: str, key_path: str, shown: str
) -> None:
    error = load_with(tmp_path, old, new)

    line = line_of(PLAYBOOK.replace(old, new, 1), new.splitlines()[-1])
    assert error.where is not None
    assert error.where.endswith(f"rules.toml:{line} ({key_path})"), error.where
    field = key_path.rsplit(".", 1)[-1]
    assert error.message == f"{field!r} must be a finite number, not {shown}"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("due_day = 2", "due_day = 100000", "'due_day' must be at most 3,650, not 100,000"),
        ("due_day = 2", "due_hours = 1e12", "'due_hours' must be at most 87,600, not 1e+12"),
        ("due_hours = 24", "due_hours = 1e300", "'due_hours' must be at most 87,600, not 1e+300"),
        ("weight = 10", "weight = 1e308", "'weight' must be at most 10,000, not 1e+308"),
        ("duration_days = 30", "duration_days = 1000000", "'duration_days' must be at most 3,650, not 1,000,000"),
        ("duration_days = 30", "duration_days = 30\ntimeline_factor = 1e9", "'timeline_factor' must be at most 100"),
    ],
)
def test_numbers_beyond_any_real_date_are_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    error = load_with(tmp_path, old, new)
    assert message in error.message


def test_a_segment_derived_beyond_100_times_the_base_plan_is_refused(tmp_path: Path) -> None:
    # no timeline_factor: it is duration_days / base_days = 3650 / 30
    error = load_with(tmp_path, "duration_days = 30", "duration_days = 3650")

    assert error.message.startswith("segment 'std' lasts 121.667× the playbook's base_days (30); at most 100×")
    assert error.where is not None
    line = line_of(PLAYBOOK, 'key = "std"')
    assert error.where.endswith(f"rules.toml:{line} (segments[1].key)"), error.where


@pytest.mark.parametrize(
    ("old", "new", "typo", "meant", "key_path"),
    [
        ("due_day = 2", "due_days = 2", "due_days", "due_day", "phases[0].tasks[0].due_days"),
        ('owner = "csm"', 'ownr = "csm"', "ownr", "owner", "phases[0].tasks[0].ownr"),
        ("weight = 10", "wieght = 10", "wieght", "weight", "health.components[0].wieght"),
        ('metric = "overdue', 'metrc = "overdue', "metrc", "metric", "health.components[0].metrc"),
        ('when = "metrics.', 'wehn = "metrics.', "wehn", "when", "alerts[0].wehn"),
        ('label = "Standard"', 'lable = "Standard"', "lable", "label", "segments[1].lable"),
        (
            'title = "Plan"',
            'title = "Plan"\nrequird = true',
            "requird",
            "required",
            "phases[0].tasks[1].requird",
        ),
        ("[[segments]]", "[[segment]]", "segment", "segments", "segment"),
    ],
)
def test_a_mistyped_key_names_itself_and_the_key_it_meant(
    tmp_path: Path, old: str, new: str, typo: str, meant: str, key_path: str
) -> None:
    error = load_with(tmp_path, old, new)

    assert error.message == f"unknown key {typo!r} (did you mean {meant!r}?)"
    line = line_of(PLAYBOOK.replace(old, new, 1), new.splitlines()[-1])
    assert error.where is not None
    assert error.where.endswith(f"rules.toml:{line} ({key_path})"), error.where


def test_a_key_far_from_every_known_one_gets_no_guess(tmp_path: Path) -> None:
    error = load_with(tmp_path, "due_day = 2", "due_day = 2\nxyzzy = 1")
    assert error.message == "unknown key 'xyzzy'"
