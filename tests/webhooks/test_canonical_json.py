"""``inbound.canonical_json`` (orjson on the receiver's hot path) writes exactly what the standard
library's ``json.dumps(sort_keys=True, separators=(",", ":"))`` writes for webhook bodies' values, so
dedup keys are the ones earlier versions computed: text (beyond ASCII too), integers of any size,
booleans, null, nested objects and arrays."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from onboard_sync.inbound import InboundEvent, canonical_json, content_key

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def _standard(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


@given(JSON_VALUES)
def test_the_same_bytes_as_the_standard_library(value: Any) -> None:
    assert canonical_json(value) == _standard(value)


def test_text_beyond_ascii_and_huge_integers_are_written_as_before() -> None:
    event = {"propertyValue": "Société Générale — 東京", "objectId": 2**70, "eventId": 1}
    assert canonical_json(event) == _standard(event)
    assert b"\\u00e9" in canonical_json(event)  # escaped, as json.dumps does
    key = content_key("hubspot:1:1", event)
    digest = hashlib.sha256(_standard(event)).hexdigest()[:40]
    assert key == f"hubspot:1:1:{digest}"


def test_a_payload_reads_back_as_the_event() -> None:
    event = InboundEvent("k", "deal", "42", "deal.propertyChange", 1700000000000, {"propertyValue": "Zürich"})
    assert InboundEvent.from_payload("k", event.to_payload()) == event
