"""Task and alert texts render with a value for every placeholder: a missing or blank name falls
back to words a person reads (never ``{account.name}``, ``None`` or a gap)."""

from __future__ import annotations

import pytest

from onboard_sync.rules.model import TextTemplate

TITLE = TextTemplate.parse("Hand off {account.name} to Customer Success")
FULL = {
    "account.name": "Acme",
    "account.domain": "acme.test",
    "deal.name": "Acme - Growth plan",
    "deal.stage": "closedwon",
    "segment": "smb",
    "segment_label": "SMB",
}


def test_values_fill_their_placeholders() -> None:
    assert TITLE.render(FULL) == "Hand off Acme to Customer Success"
    assert TextTemplate.parse("{segment_label} customer {account.domain}").render(FULL) == "SMB customer acme.test"


@pytest.mark.parametrize("missing", [None, "", "   ", "None"])
def test_a_missing_account_name_falls_back_to_the_deal_name(missing: str | None) -> None:
    assert TITLE.render({**FULL, "account.name": missing}) == "Hand off Acme - Growth plan to Customer Success"


def test_without_any_name_the_text_says_the_customer() -> None:
    values = {**FULL, "account.name": "", "deal.name": None}
    assert TITLE.render(values) == "Hand off the customer to Customer Success"
    assert TextTemplate.parse("Close {deal.name}").render(values) == "Close the deal"
    assert TextTemplate.parse("Close {deal.name}").render({}) == "Close the deal"


def test_a_blank_label_falls_back_to_the_segment_key() -> None:
    assert TextTemplate.parse("{segment_label} plan").render({"segment": "smb", "segment_label": " "}) == "smb plan"


def test_names_lists_the_placeholders_used() -> None:
    assert TextTemplate.parse("{account.name} week {episode}").names == {"account.name", "episode"}
    assert TextTemplate.parse("no placeholders").names == frozenset()
