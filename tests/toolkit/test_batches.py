"""By-id reads, per-record results, per-record writes, bounded job polling and marker task keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onboard_sync.calls.gate import ApiGate
from onboard_sync.connector import FieldWrite, TaskWrite, WriteResult
from onboard_sync.errors import ApiError, RateLimitExhausted, UnknownPropertiesError
from onboard_sync.records import ObjectKind, Task, TaskStatus
from onboard_sync.sync import fieldwrites
from onboard_sync.toolkit import (
    create_unless_found,
    find_marked,
    mark,
    marked_key,
    poll,
    read_by_ids,
    results_by_id,
    results_in_order,
    write_each,
)

DUE = datetime(2026, 1, 5, 9, tzinfo=UTC)


def test_read_by_ids_slices_dedupes_keeps_order_and_skips_missing() -> None:
    asked: list[list[str]] = []

    def read(ids: list[str]) -> list[dict[str, str]]:
        asked.append(ids)
        return [{"id": i} for i in reversed(ids) if i != "4"]

    found = read_by_ids(["5", "1", "", "4", "5", "2", "3"], 2, read, lambda r: r["id"])
    assert [r["id"] for r in found] == ["5", "1", "2", "3"]
    assert asked == [["5", "1"], ["4", "2"], ["3"]]


def test_results_in_order_and_by_id() -> None:
    answers = [{"id": 7}, {"error": "bad owner"}]
    assert results_in_order(["a", "b", "c"], answers) == [
        WriteResult("a", ok=True, remote_id="7"),
        WriteResult("b", ok=False, error="bad owner"),
        WriteResult("c", ok=False, error="the vendor returned no result for this record"),
    ]
    job = [{"id": 6, "success": False, "error": "RecordNotFound"}, {"id": 5, "success": True}]
    by_id = results_by_id([("k5", "5"), ("k6", "6"), ("k9", "9")], job, lambda a: a["success"], lambda a: a["error"])
    assert [(r.key, r.ok, r.error) for r in by_id] == [
        ("k5", True, None),
        ("k6", False, "RecordNotFound"),
        ("k9", False, "the vendor returned no result"),
    ]


def test_write_each_fails_a_refused_record_alone_and_stops_on_an_outage() -> None:
    def send(item: str) -> str:
        if item == "bad":
            raise ApiError("owner does not exist", status=422)
        if item == "down":
            raise ApiError("service unavailable", status=503, retryable=True)
        return f"id-{item}"

    results = write_each(["a", "bad", "b", "down", "c"], lambda i: i, send)
    assert [(r.key, r.ok) for r in results] == [("a", True), ("bad", False), ("b", True), ("down", False), ("c", False)]
    assert results[0].remote_id == "id-a"
    assert "owner does not exist" in (results[1].error or "")
    assert (results[4].error or "").startswith("not sent: an earlier record failed")

    def quota(item: str) -> str:
        raise RateLimitExhausted("daily limit", status=429)

    with pytest.raises(RateLimitExhausted):
        write_each(["a"], lambda i: i, quota)


def test_properties_a_refused_write_names_as_unknown_reach_the_core_which_writes_the_rest() -> None:
    """Mapping safety: a property deleted mid-run is carried in ``unknown_properties`` by every helper,
    and ``sync.fieldwrites`` sends the record again without it."""
    refused = {"error": "unknown property 'gone'", "unknown": ["gone"]}
    (in_order,) = results_in_order(["a"], [refused], unknown=lambda a: a["unknown"])
    assert (in_order.ok, in_order.unknown_properties) == (False, ("gone",))
    (fine,) = results_in_order(["a"], [{"id": 1, "unknown": ["ignored"]}], unknown=lambda a: a["unknown"])
    assert fine.unknown_properties == (), "a record written has nothing unknown"
    job = [{"id": 5, "success": False, "error": "unknown field", "unknown": ["gone"]}]
    (by_id,) = results_by_id([("k5", "5")], job, lambda a: a["success"], lambda a: a["error"], lambda a: a["unknown"])
    assert by_id.unknown_properties == ("gone",)

    sent: list[dict[str, str | None]] = []

    class PerRecordSink:
        def write_fields(self, kind: ObjectKind, batch: list[FieldWrite]) -> list[WriteResult]:
            def send(write: FieldWrite) -> str:
                sent.append(dict(write.values))
                if "gone" in write.values:
                    raise UnknownPropertiesError(("gone",), crm="ToyCRM", endpoint="deals.update")
                return write.remote_id

            return write_each(batch, lambda w: w.key, send)

    (outcome,) = fieldwrites.write_fields(
        PerRecordSink(), ObjectKind.DEAL, [FieldWrite("k1", ObjectKind.DEAL, "d1", {"phase": "Kickoff", "gone": "x"})]
    )
    assert sent == [{"phase": "Kickoff", "gone": "x"}, {"phase": "Kickoff"}]
    assert (outcome.result.ok, dict(outcome.written), outcome.dropped) == (True, {"phase": "Kickoff"}, ("gone",))


def test_poll_waits_on_the_gates_clock_and_gives_up_at_its_timeout() -> None:
    now = [0.0]
    gate = ApiGate(sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    states = iter(["running", "running", "completed"])
    read = lambda: gate("job.show", lambda: next(states))  # noqa: E731
    job = poll(gate, read, lambda s: s == "completed", first="queued", what="job")
    assert job == "completed"
    assert gate.calls["job.show"] == 3
    assert now[0] == pytest.approx(0.2 + 0.4 + 0.8)
    with pytest.raises(ApiError, match="job j1 did not finish within 5 s") as info:
        poll(gate, lambda: "running", lambda s: s == "completed", first="queued", what="job j1", timeout=5)
    assert info.value.retryable


def test_poll_is_bounded_even_when_the_clock_stands_still() -> None:
    gate = ApiGate(sleep=lambda s: None, clock=lambda: 0.0)
    reads: list[int] = []
    with pytest.raises(ApiError):
        poll(gate, lambda: reads.append(1) or "running", lambda s: s == "done", first="x", what="job", timeout=2)
    assert len(reads) == 10


def task(key: str | None, deal: str, tid: str) -> Task:
    return Task("crm", tid, DUE, "Kickoff", TaskStatus.OPEN, key=key, deal_id=deal)


def test_marker_keys_ride_in_the_text_and_are_found_through_their_deal() -> None:
    body = mark("Call the customer", "crm:7:kickoff:1")
    assert body == "Call the customer\n\n[onboard-sync key: crm:7:kickoff:1]"
    assert marked_key(body) == "crm:7:kickoff:1"
    assert marked_key(mark("", "k") + "\n" + mark("", "later")) == "later"
    assert marked_key("no marker") is None
    assert marked_key(None) is None
    read: list[str] = []
    activities = {"7": [task("a", "7", "1"), task(None, "7", "2")], "8": [task("b", "8", "3"), task("c", "8", "4")]}

    def of_deal(deal_id: str) -> list[Task]:
        read.append(deal_id)
        return activities[deal_id]

    found = find_marked(["b", "a", "x"], {"a": "7", "b": "8", "x": "8"}, of_deal)
    assert [t.key for t in found] == ["b", "a"]
    assert read == ["8", "7"], "each deal is read once"
    with pytest.raises(ValueError, match="no deal id for task key 'a'"):
        find_marked(["a"], {}, of_deal)


def test_create_unless_found_names_the_existing_task_and_creates_the_rest() -> None:
    writes = [TaskWrite(k, "s", "b", DUE, None, deal_id="7") for k in ("a", "b", "c")]
    created: list[list[str]] = []

    def create(batch: list[TaskWrite]) -> list[WriteResult]:
        created.append([w.key for w in batch])
        return [WriteResult(w.key, ok=True, remote_id=f"new-{w.key}") for w in batch]

    def find(keys: object, deals: dict[str, str]) -> list[Task]:
        assert deals == {"a": "7", "b": "7", "c": "7"}
        return [task("b", "7", "old-b")]

    results = create_unless_found(writes, find, create)
    assert [(r.key, r.remote_id) for r in results] == [("a", "new-a"), ("b", "old-b"), ("c", "new-c")]
    assert created == [["a", "c"]]


def test_ensure_properties_describes_each_kind_once_and_creates_only_what_is_missing() -> None:
    from onboard_sync.connector import PropertySchema, PropertySpec
    from onboard_sync.records import ObjectKind
    from onboard_sync.toolkit import ensure_properties

    described: list[ObjectKind] = []
    created: list[str] = []
    schema = {ObjectKind.DEAL: {"phase": PropertySchema("phase", "Phase", "string")}, ObjectKind.TASK: {}}

    def describe(kind: ObjectKind) -> dict[str, PropertySchema]:
        described.append(kind)
        return schema[kind]

    specs = [
        PropertySpec(ObjectKind.DEAL, "phase", "Phase", "string"),
        PropertySpec(ObjectKind.DEAL, "health", "Health", "number"),
        PropertySpec(ObjectKind.TASK, "key", "Key", "string", unique=True),
    ]
    looked = ensure_properties(specs, describe, lambda s: created.append(s.name), apply=False)
    assert [(a.description, a.done, a.changed, a.pending) for a in looked] == [
        ("deal property phase exists", True, False, False),
        ("would create deal property health", False, False, True),
        ("would create task property key", False, False, True),
    ]
    assert created == [], "apply=False only looks"
    assert described == [ObjectKind.DEAL, ObjectKind.TASK]
    made = ensure_properties(
        specs,
        describe,
        lambda s: created.append(s.name) or (f"{s.name} (number)" if s.type == "number" else None),
        apply=True,
    )
    assert [(a.description, a.changed) for a in made] == [
        ("deal property phase exists", False),
        ("created health (number)", True),
        ("created task property key", True),
    ]
    assert created == ["health", "key"]
    named = ensure_properties(specs[:1], describe, lambda s: None, apply=True, what=lambda s: f"field {s.name}")
    assert named[0].description == "field phase exists"
