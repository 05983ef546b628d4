"""The contract suite catches each mistake the guide warns about, within seconds, and never hangs.

Runs pytest on ``seeded_mistakes.py`` (connectors with one seeded mistake each) in a subprocess with a
timeout, reads its JUnit report, and checks that each broken connector fails the contract test that
guards against its mistake, that no test took more than a few seconds, and that the unbroken
connector passes every test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parents[2] / "docs" / "examples" / "toycrm"
CAUGHT_BY = {
    "TestPagesOverlap": "test_paging_terminates_and_reads_each_record",
    "TestCursorIgnored": "test_paging_terminates_and_reads_each_record",
    "TestNeverLastPage": "test_paging_terminates_and_reads_each_record",
    "TestSinceIgnored": "test_incremental_read_returns_what_changed_since_and_nothing_older",
    "TestOnlyWonIncrementally": "test_incremental_read_sees_a_deal_that_left_the_won_stage",
    "TestCreatesNotFlagged": "test_every_write_is_flagged_so_plan_refuses_it",
    "TestExistingKeysNotFound": "test_replaying_a_create_never_duplicates",
}
WHOLE_RUN_TIMEOUT = 240.0
"""Seconds for every class (about 100 tests against a live simulator each) on a loaded 2-core machine."""
SLOWEST_TEST = 10.0
"""No contract test may take longer: a connector that never stops paging fails at ``max_pages``."""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, tuple[str, float]]]:
    """``{class: {test: (outcome, seconds)}}`` of the seeded-mistake run."""
    report = tmp_path_factory.mktemp("mistakes") / "junit.xml"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLE / "src"), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "pytest", str(HERE / "seeded_mistakes.py"), "-q", "-p", "no:cacheprovider"]
    try:
        subprocess.run(
            [*command, f"--junitxml={report}", "-o", "junit_family=xunit1"],
            cwd=HERE.parents[2],
            env=env,
            capture_output=True,
            timeout=WHOLE_RUN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the contract suite hung on a seeded mistake (no end within {WHOLE_RUN_TIMEOUT:g} s)")
    found: dict[str, dict[str, tuple[str, float]]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        cls = case.get("classname", "").rsplit(".", 1)[-1]
        failed = case.find("failure") is not None or case.find("error") is not None
        outcome = "failed" if failed else "skipped" if case.find("skipped") is not None else "passed"
        found.setdefault(cls, {})[case.get("name", "")] = (outcome, float(case.get("time", 0)))
    return found


@pytest.mark.parametrize(("mistake", "guard"), sorted(CAUGHT_BY.items()))
def test_each_seeded_mistake_fails_the_contract_test_that_guards_it(
    outcomes: dict[str, dict[str, tuple[str, float]]], mistake: str, guard: str
) -> None:
    assert outcomes[mistake][guard][0] == "failed", f"{mistake} passed {guard}"


def test_no_contract_test_takes_more_than_seconds_on_any_mistake(
    outcomes: dict[str, dict[str, tuple[str, float]]],
) -> None:
    slow = {
        f"{cls}.{name}": round(t, 1)
        for cls, tests in outcomes.items()
        for name, (_, t) in tests.items()
        if t > SLOWEST_TEST
    }
    assert slow == {}
    assert set(CAUGHT_BY) | {"TestUnbroken"} <= set(outcomes), "every class ran"


def test_the_unbroken_connector_passes_every_contract_test(outcomes: dict[str, dict[str, tuple[str, float]]]) -> None:
    failed = [name for name, (outcome, _) in outcomes["TestUnbroken"].items() if outcome == "failed"]
    assert failed == []
    assert len(outcomes["TestUnbroken"]) >= 12
