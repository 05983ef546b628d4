"""The CEL conditions that passed their check are remembered per user: a later load of the same
playbook checks nothing and imports no cel-python, while a wrong condition is named on every load."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from onboard_sync.errors import ConfigError
from onboard_sync.rules import verified
from onboard_sync.rules.activation import build_activation
from onboard_sync.rules.expressions import RULE_NAMES, compile_condition
from onboard_sync.usercache import CACHE_ENV

METRICS = frozenset({"nps"})

LOAD_DEFAULT_PLAYBOOK = """
import sys
from onboard_sync.rules import default_playbook_path, load_playbook
playbook = load_playbook(default_playbook_path())
loaded = "celpy" in sys.modules
rule = next(s.when for s in playbook.segments if s.when)
print(loaded, rule.programs()[0] is not None, "celpy" in sys.modules)
"""


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A cache folder of this test's own, read afresh (the process's remembered passes are restored)."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    verified.PASSES.forget()
    yield tmp_path / "cache" / "onboard-sync" / verified.FILE_NAME
    verified.PASSES.forget()


def load_in_a_new_process(cache_home: Path) -> list[str]:
    env = {"PATH": "", CACHE_ENV: str(cache_home), "HOME": str(cache_home)}
    result = subprocess.run(
        [sys.executable, "-c", LOAD_DEFAULT_PLAYBOOK], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_a_second_load_imports_no_cel_until_a_condition_is_evaluated(cache: Path) -> None:
    home = cache.parents[1]

    first = load_in_a_new_process(home)
    second = load_in_a_new_process(home)

    assert first == ["True", "True", "True"], "the first load checks (and compiles) every condition"
    assert second == ["False", "True", "True"], "then nothing is checked; evaluating compiles"
    assert json.loads(cache.read_text(encoding="utf-8"))["fingerprints"]


def test_a_remembered_condition_evaluates_as_a_checked_one(cache: Path) -> None:
    checked = compile_condition("metrics.nps > 7.0 && plan_day >= 3", names=RULE_NAMES, metrics=METRICS, where="x")
    verified.PASSES.forget()  # as a new process: read back from the file
    remembered = compile_condition("metrics.nps > 7.0 && plan_day >= 3", names=RULE_NAMES, metrics=METRICS, where="x")

    assert not remembered._compiled, "not compiled when loaded"
    assert (
        (remembered.names, remembered.metrics) == (checked.names, checked.metrics) == ({"metrics", "plan_day"}, {"nps"})
    )
    activation = build_activation(deal=None, account=None, plan_day=5, metrics={"nps": 9.0})
    assert remembered.evaluate(activation) is checked.evaluate(activation) is True


def test_a_wrong_condition_is_named_on_every_load(cache: Path) -> None:
    for _ in range(2):
        with pytest.raises(ConfigError, match="unknown name 'plan_dy'"):
            compile_condition("plan_dy > 3", names=RULE_NAMES, metrics=METRICS, where="rules.toml:3")
        verified.PASSES.forget()
    assert not cache.exists(), "failures are not kept"


def test_a_pass_holds_only_for_the_names_it_was_checked_with(cache: Path) -> None:
    compile_condition("plan_day >= 3", names=RULE_NAMES, metrics=METRICS, where="x")

    assert verified.remembered("plan_day >= 3", names=RULE_NAMES, metrics=METRICS) is not None
    with pytest.raises(ConfigError, match="unknown name 'plan_day'"):
        compile_condition("plan_day >= 3", names=frozenset({"deal", "account"}), metrics=METRICS, where="x")


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"fingerprint": "other", "conditions": {"[\\"plan_day >= 3\\",[],[]]": [[], []]}}',  # the first format
        '{"fingerprints": {"other": {"written": 1, "answers": {}}}}',
        '{"fingerprints": {"other": {"written": "x", "answers": 3}}}',
        "[1, 2]",
    ],
)
def test_an_unreadable_or_foreign_cache_file_is_ignored(cache: Path, content: str) -> None:
    cache.parent.mkdir(parents=True)
    cache.write_text(content, encoding="utf-8")

    condition = compile_condition("plan_day >= 3", names=RULE_NAMES, metrics=METRICS, where="x")

    assert condition._compiled, "checked (and compiled) again"
    assert verified._fingerprint() in json.loads(cache.read_text(encoding="utf-8"))["fingerprints"]


def test_passes_made_by_another_installation_are_kept_beside_this_ones(cache: Path) -> None:
    """Two virtual environments (or a release and a checkout) that share a cache folder each keep
    their passes: the one that writes last does not drop the other's, so neither checks again."""
    other = {"fingerprints": {"another venv": {"written": 1.0, "answers": {"k": [["deal"], []]}}}}
    cache.parent.mkdir(parents=True)
    cache.write_text(json.dumps(other), encoding="utf-8")

    compile_condition("plan_day >= 3", names=RULE_NAMES, metrics=METRICS, where="x")

    kept = json.loads(cache.read_text(encoding="utf-8"))["fingerprints"]
    assert kept["another venv"]["answers"] == {"k": [["deal"], []]}
    assert verified.PASSES.read_answers(), "and this installation's pass is there too"


def test_only_the_latest_fingerprints_are_kept(cache: Path) -> None:
    old = {f"old {n}": {"written": float(n), "answers": {"k": [[], []]}} for n in range(20)}
    cache.parent.mkdir(parents=True)
    cache.write_text(json.dumps({"fingerprints": old}), encoding="utf-8")

    compile_condition("plan_day >= 3", names=RULE_NAMES, metrics=METRICS, where="x")

    kept = json.loads(cache.read_text(encoding="utf-8"))["fingerprints"]
    assert len(kept) == verified.PASSES.max_fingerprints
    assert verified._fingerprint() in kept
    assert "old 19" in kept
    assert "old 0" not in kept
