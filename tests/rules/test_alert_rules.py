"""[[alerts]] and the helpdesk [health] keys: load, validate with file:line, evaluate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from onboard_sync.errors import ConfigError
from onboard_sync.rules import default_playbook_path, load_playbook


def test_default_playbook_has_the_seed_trigger_alerts() -> None:
    pb = load_playbook(default_playbook_path())
    assert [a.key for a in pb.alerts] == [
        "engagement_low",
        "blockers",
        "ticket_spike",
        "attendance_low",
        "milestones_missed",
        "stakeholder_change",
    ]
    blockers = next(a for a in pb.alerts if a.key == "blockers")
    assert blockers.owner == "csm"
    assert blockers.template_key == "alert.blockers"
    assert blockers.when.metrics == {"stale_blockers", "stale_urgent_tickets"}
    assert pb.health.stale_ticket_days == 3
    assert pb.health.status_reasons["at-risk"].startswith("at risk")
    assert not any(a.close_when_cleared for a in pb.alerts), "alert tasks stay for the person unless a rule says"


def _with(tmp_path: Path, extra: str) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(default_playbook_path() / "playbook.toml", folder / "playbook.toml")
    (folder / "zz_alerts.toml").write_text(extra, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('[[alerts]]\nkey = "x"\ntitle = "t"\nwhen = "metrics.nope > 1.0"\n', 4, "nope"),
        ('[[alerts]]\nkey = "x"\ntitle = "t"\n', 1, "needs a 'when'"),
        ('[[alerts]]\nkey = "x"\ntitle = "{bogus}"\nwhen = "true"\n', 3, "unknown placeholder"),
        ('[[alerts]]\nkey = "x"\ntitle = "t"\nwhen = "true"\nowner = "ceo"\n', 2, "unknown owner role"),
        ('[[alerts]]\nkey = "x"\ntitle = "t"\nwhen = "true"\ncolour = "red"\n', 5, "unknown key"),
        ('[[alerts]]\nkey = "blockers"\ntitle = "t"\nwhen = "true"\n', 2, "duplicate alert key"),
        ('[[alerts]]\nkey = "x"\ntitle = "t"\nwhen = "true"\nclose_when_cleared = "yes"\n', 5, "close_when_cleared"),
    ],
)
def test_bad_alerts_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_playbook(_with(tmp_path, text))
    assert f"zz_alerts.toml:{line}" in str(info.value)
    assert message in str(info.value)


def test_bad_status_reason_key_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    text = (
        (default_playbook_path() / "playbook.toml")
        .read_text(encoding="utf-8")
        .replace('critical = "critical (health {score}): escalate now"', 'dying = "x"')
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"p\.toml:\d+ \(health\.status_reasons\.dying\)"):
        load_playbook(path)
