"""The shipped example playbooks (one per seed SOP, plus the default) load, validate and say what the seeds say."""

from __future__ import annotations

from pathlib import Path

import pytest

from onboard_sync.errors import ConfigError
from onboard_sync.rules import example_playbooks, load_playbook

EXAMPLES = example_playbooks()


def test_there_is_one_example_per_seed_plus_the_default() -> None:
    assert sorted(EXAMPLES) == [
        "default",
        "seed000_60_day_process",
        "seed001_90_day_workflow",
        "seed002_excellence_framework",
        "seed003_30_day_sop",
        "seed004_fnb_30_60_90",
    ]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_loads_and_validates(name: str) -> None:
    pb = load_playbook(EXAMPLES[name])
    assert pb.phases[-1].tasks == ()  # terminal phase
    assert pb.segments
    assert pb.health.components
    assert pb.go_live_phase is not None
    assert pb.has_phase(pb.go_live_phase)
    for phase in pb.phases:
        for task in phase.tasks:
            assert task.owner in pb.roles


@pytest.mark.parametrize(
    ("name", "phases"),
    [
        ("seed000_60_day_process", ["initial_contact", "account_setup", "training", "go_live", "follow_up"]),
        ("seed001_90_day_workflow", ["pre_kickoff", "foundation", "implementation", "launch", "optimization"]),
        ("seed002_excellence_framework", ["welcome", "setup", "value", "optimization", "transition"]),
        ("seed003_30_day_sop", ["welcome", "discovery", "configuration", "training", "go_live"]),
        (
            "seed004_fnb_30_60_90",
            ["handoff", "kickoff", "data_integration", "training", "driving_usage", "business_review"],
        ),
    ],
)
def test_examples_have_their_seeds_phases_in_order(name: str, phases: list[str]) -> None:
    keys = load_playbook(EXAMPLES[name]).phase_keys()
    assert list(keys[: len(phases)]) == phases


def test_seed000_timings_and_first_value() -> None:
    pb = load_playbook(EXAMPLES["seed000_60_day_process"])
    assert [(p.plan_start_day, p.plan_end_day) for p in pb.phases[:4]] == [(0, 1), (1, 3), (4, 7), (8, 8)]
    assert [t.due_day for t in pb.phase("follow_up").tasks] == [15, 30, 60]
    assert pb.template("welcome_email").due_hours == 1  # type: ignore[union-attr]
    assert [t.key for p in pb.phases for t in p.tasks if t.first_value] == ["first_value"]
    assert {t.owner for p in pb.phases for t in p.tasks} >= {"sales", "csm", "support", "security", "billing"}


def test_seed003_segments_and_escalation_contacts() -> None:
    pb = load_playbook(EXAMPLES["seed003_30_day_sop"])
    assert {s.key: s.duration_days for s in pb.segments} == {"smb": 14, "mid_market": 30, "enterprise": 75}
    bodies = " ".join(t.body.source for p in pb.phases for t in p.tasks)
    for contact in ("ops-lead@company.com", "support-escalation@company.com", "cs-leadership@company.com"):
        assert contact in bodies
    assert pb.template("slack_channel").segments == frozenset({"enterprise"})  # type: ignore[union-attr]
    assert pb.template("group_training").segments == frozenset({"smb"})  # type: ignore[union-attr]


def test_seed004_loop_products_and_90_day_decision() -> None:
    pb = load_playbook(EXAMPLES["seed004_fnb_30_60_90"])
    loop = pb.template("usage_remediation")
    assert loop is not None
    assert loop.repeat_every_days == 7
    assert loop.when is not None
    assert "adoption_rate < 80.0" in loop.when.source
    for product in ("a1", "r1", "e1", "r2"):
        task = pb.template(f"{product}_training")
        assert task is not None
        assert task.when is not None
        assert product.upper() in task.when.source
    review = pb.phase("business_review")
    assert [(d.key, d.goto) for d in review.decisions] == [
        ("healthy", "account_handoff"),
        ("at_risk", "extended_onboarding"),
    ]
    assert pb.health.healthy_min == 100  # healthy only when every 90-day criterion holds
    assert {c.key for c in pb.health.components} == {
        "adoption",
        "usage",
        "business_outcome",
        "nps",
        "critical_issues",
    }


def test_seed001_trigger_alerts_per_phase() -> None:
    pb = load_playbook(EXAMPLES["seed001_90_day_workflow"])
    alerts = {p.key: [t.key for t in p.tasks if t.key.startswith("alert_")] for p in pb.phases}
    assert alerts["foundation"]
    assert alerts["implementation"]
    assert alerts["launch"]
    assert all(not pb.template(k).required for ks in alerts.values() for k in ks)  # type: ignore[union-attr]


BASE = """\
[playbook]
name = "d"

[[segments]]
key = "std"
label = "Std"
duration_days = 30

[[phases]]
key = "a"
label = "A"

  [[phases.decisions]]
  key = "jump"
  {decision}

[[phases]]
key = "b"
label = "B"

[[phases]]
key = "c"
label = "C"
"""


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        ('when = "true"\n  goto = "nowhere"', "unknown phase 'nowhere'"),
        ('when = "true"\n  goto = "a"', "must go to a later phase"),
        ('goto = "c"', "missing required key 'when'"),
        ('when = "true"\n  goto = "c"\n  then = "x"', "unknown key 'then'"),
    ],
)
def test_bad_decisions_name_file_line_and_key(tmp_path: Path, decision: str, message: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(BASE.format(decision=decision), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_playbook(path)
    assert message in str(info.value)
    assert "p.toml:" in str(info.value)
    assert "phases[0].decisions[0]" in str(info.value)


def test_good_decision_loads(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(BASE.format(decision='label = "skip b"\n  when = "true"\n  goto = "c"'), encoding="utf-8")
    decision = load_playbook(path).phase("a").decisions[0]
    assert (decision.key, decision.label, decision.goto) == ("jump", "skip b", "c")


def test_init_examples_writes_every_seed_example(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from onboard_sync.cli import _register_commands, app

    _register_commands()
    result = CliRunner().invoke(app, ["init", str(tmp_path), "--examples"])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "rules-examples").iterdir())
    assert written == sorted(f"{k}.toml" for k in EXAMPLES if k != "default")
    for path in (tmp_path / "rules-examples").iterdir():
        assert load_playbook(path).name.startswith("seed-")
