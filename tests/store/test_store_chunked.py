"""Store reads by id and keyset paging, used by chunked runs (``sync.chunks``): SQLite and Postgres."""

from __future__ import annotations

from store_samples import intent, onboarding

from onboard_sync.onboarding.state import OnboardingStatus
from onboard_sync.records import ObjectKind
from onboard_sync.store import Store


def test_deal_ids_after_pages_by_id_within_a_source_and_statuses(store: Store) -> None:
    store.save_onboardings(
        [onboarding(f"hs:{i}", deal_id=str(i)) for i in range(10, 17)]
        + [onboarding("hs:20", deal_id="20", status=OnboardingStatus.COMPLETED), onboarding("sf:1", deal_id="1")]
    )
    seen: list[tuple[str, str]] = []
    after = None
    while page := store.deal_ids_after("hs", after, 3, statuses=[OnboardingStatus.AT_RISK]):
        assert len(page) <= 3
        seen.extend(page)
        after = page[-1][0]
    assert seen == [(f"hs:{i}", str(i)) for i in range(10, 17)]
    assert store.deal_ids_after("hs", "hs:16", 10, statuses=list(OnboardingStatus)) == [("hs:20", "20")]


def test_owned_tasks_and_written_fields_of_some_onboardings(store: Store) -> None:
    store.record_task_intents(
        [
            intent("hs:1:a:0", oid="hs:1"),
            intent("hs:1:b:0", oid="hs:1"),
            intent("hs:2:a:0", oid="hs:2"),
            intent("sf:1:a:0", oid="sf:1", source="sf"),
        ]
    )
    assert set(store.owned_tasks_of(["hs:1", "sf:1", "hs:9"])) == {"hs:1:a:0", "hs:1:b:0", "sf:1:a:0"}
    assert store.owned_tasks_of([]) == {}
    assert store.owned_task_keys("hs", ["hs:1:a:0", "sf:1:a:0", "nope"]) == {"hs:1:a:0"}
    assert store.has_owned_tasks("sf")
    assert not store.has_owned_tasks("other")

    store.record_written_fields("hs:1", ObjectKind.DEAL, "1", {"onb_phase": "kickoff"})
    store.record_written_fields("hs:2", ObjectKind.ACCOUNT, "acc", {"onb_phase": "handoff"})
    assert store.written_fields_of(["hs:1", "hs:3"]) == {"hs:1": {(ObjectKind.DEAL, "1", "onb_phase"): "kickoff"}}
    assert store.written_fields_of(["hs:1", "hs:2"]) == store.written_fields_for("hs")


def test_alert_episodes_of_some_onboardings(store: Store) -> None:
    from datetime import UTC, datetime

    from onboard_sync.store import AlertEpisode

    opened = datetime(2026, 1, 5, tzinfo=UTC)
    store.put_alert_episodes(
        [
            AlertEpisode("hs:1", "blockers", 2, "hs", "hs:1:alert.blockers:2", opened),
            AlertEpisode("hs:1", "blockers", 1, "hs", "hs:1:alert.blockers:1", opened, cleared_at=opened),
            AlertEpisode("hs:2", "quiet", 1, "hs", "hs:2:alert.quiet:1", opened),
            AlertEpisode("sf:1", "blockers", 1, "sf", "sf:1:alert.blockers:1", opened),
        ]
    )
    found = store.alert_episodes_of(["hs:1", "sf:1", "hs:9"])
    assert [(e.onboarding_id, e.alert, e.episode) for e in found] == [
        ("hs:1", "blockers", 1),
        ("hs:1", "blockers", 2),
        ("sf:1", "blockers", 1),
    ]
    assert found[0].cleared_at == opened
    assert found[1].cleared_at is None
    assert store.alert_episodes_of([]) == []
    assert store.alert_episodes_of(["hs:1", "hs:2", "sf:1"]) == [
        *store.alert_episodes("hs"),
        *store.alert_episodes("sf"),
    ]


def test_deals_of_tasks_come_from_the_onboardings_not_from_the_keys(store: Store) -> None:
    """``find_tasks`` gets each key's deal as data: the onboarding's ``deal_id``, whatever the key looks like."""
    store.save_onboardings([onboarding("hs:1", deal_id="D-100"), onboarding("hs:2", deal_id="D:200")])
    store.record_task_intents([intent("x:a:0", oid="hs:1"), intent("y:b:0", oid="hs:2"), intent("z:c:0", oid="hs:9")])
    assert store.deals_of_tasks(["x:a:0", "y:b:0", "z:c:0", "unknown"]) == {"x:a:0": "D-100", "y:b:0": "D:200"}
    assert store.deals_of_tasks([]) == {}
