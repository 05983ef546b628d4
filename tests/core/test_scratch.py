"""A run's scratch database (``sync.scratch``) and the account fields kept in it (``sync.plan.AccountFields``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from onboard_sync.mappings import MappingSet, load_mapping
from onboard_sync.onboarding.state import Evaluation, OnboardingState, OnboardingStatus
from onboard_sync.plugins import transforms
from onboard_sync.records import Account, Deal, ObjectKind
from onboard_sync.sync.plan import AccountFields
from onboard_sync.sync.scratch import BATCH, RunScratch

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_an_id_log_keeps_first_added_order_and_answers_membership_in_batches() -> None:
    with RunScratch() as scratch:
        log = scratch.ids("deals")
        log.add(["30", "10", "20"])
        log.add(["10", "40"])  # "10" again keeps its place
        assert len(log) == 4
        assert list(log) == ["30", "10", "20", "40"]
        assert list(log.chunks(3)) == [["30", "10", "20"], ["40"]]
        assert "20" in log
        assert "50" not in log
        many = [str(i) for i in range(2 * BATCH + 7)]  # more ids than one IN (...) query takes
        log.add(many[::2])
        assert log.present(many) == set(many[::2]) | {"10", "20", "30", "40"}
        assert log.missing(["x", "40", "y"]) == ["x", "y"]
        with pytest.raises(ValueError, match="fresh identifier"):
            scratch.ids("deals")


def _mapping(tmp_path: Path) -> MappingSet:
    (tmp_path / "hubspot.toml").write_text('[account.write]\nphase = "onboarding_phase"\n', encoding="utf-8")
    return load_mapping(tmp_path, "hubspot", "hubspot", transforms())


def _offer(deal_id: str, account_id: str, status: OnboardingStatus, started: datetime, phase: str) -> tuple:
    state = OnboardingState(
        id=f"hubspot:{deal_id}",
        source="hubspot",
        deal_id=deal_id,
        account_id=account_id,
        segment="smb",
        phase=phase,
        status=status,
        started_at=started,
        phase_entered_at=started,
    )
    deal = Deal("hubspot", deal_id, started, f"deal {deal_id}", "closedwon", True, True, account_ids=(account_id,))
    return Evaluation(state=state, fields={ObjectKind.ACCOUNT: {"phase": phase}}), deal


def test_an_account_follows_one_onboarding_over_every_chunk(tmp_path: Path) -> None:
    """Open before finished, then the latest start, the first offered on ties (as ``_primary_per_account``)."""
    with RunScratch() as scratch:
        fields = AccountFields(_mapping(tmp_path), scratch)
        fields.offer([_offer("1", "a", OnboardingStatus.COMPLETED, T0 + timedelta(days=9), "done")])
        fields.offer([_offer("2", "b", OnboardingStatus.ACTIVE, T0, "kickoff")])
        fields.offer(
            [
                _offer("3", "a", OnboardingStatus.ACTIVE, T0, "kickoff"),  # open beats a later finished one
                _offer("4", "b", OnboardingStatus.ACTIVE, T0, "training"),  # a tie: "2" stays
                _offer("5", "c", OnboardingStatus.CANCELLED, T0, "cancelled"),
            ]
        )
        fields.offer([_offer("6", "a", OnboardingStatus.AT_RISK, T0 + timedelta(days=1), "training")])  # later start
        fields.offer([_offer("7", "a", OnboardingStatus.ACTIVE, T0, "kickoff")])  # earlier start: "6" stays
        assert [fields.onboarding_of(a) for a in "abc"] == ["hubspot:6", "hubspot:2", "hubspot:5"]
        assert fields.fields_of("a") == {"phase": "training"}
        assert fields.fields_of("z") is None
        assert fields.onboarding_of("z") is None
        assert list(fields.id_chunks(2)) == [["a", "b"], ["c"]]  # the order first offered
        accounts = {
            i: Account("hubspot", i, T0, i, properties={"onboarding_phase": p})
            for i, p in (("a", "kickoff"), ("b", "kickoff"), ("c", None))
        }
        plan = fields.plan(accounts)
        written = {p.write.remote_id: (p.onboarding_id, dict(p.write.values), dict(p.before)) for p in plan.fields}
        assert written == {
            "a": ("hubspot:6", {"onboarding_phase": "training"}, {"onboarding_phase": "kickoff"}),
            "c": ("hubspot:5", {"onboarding_phase": "cancelled"}, {"onboarding_phase": None}),
        }
