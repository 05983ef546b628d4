"""Text from the CRM or the store keeps its [brackets] on the console: `cli.plain_text.escape` is rich's
own escape (without importing rich), and a plan's field change holding a tag-like word is shown whole."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.markup import escape as rich_escape

from onboard_sync.cli.plain_text import escape

TAGGY = st.text(alphabet=st.sampled_from(list("[]/\\#@abred x")), max_size=30)


@given(TAGGY)
def test_escape_is_richs_escape(text: str) -> None:
    assert escape(text) == rich_escape(text)


@given(st.text(alphabet=st.sampled_from(list("[]/#@abred x")), max_size=30))
def test_escaped_text_prints_as_itself(text: str) -> None:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None, highlight=False).print(f"[red]x[/red] {escape(text)}", end="")
    assert out.getvalue() == f"x {text}"


def test_a_deal_name_with_brackets_survives_the_plan_table() -> None:
    from onboard_sync.cli.plan_view import plan_table
    from onboard_sync.connector import FieldWrite
    from onboard_sync.records import ObjectKind
    from onboard_sync.sync.plan import PlannedFields, WritePlan

    step = "Hand off Acme [EU] [red]rollout to Customer Success"
    write = FieldWrite("k", ObjectKind.DEAL, "1", {"onboarding_next_step": step})
    plan = WritePlan(fields=[PlannedFields("hubspot:1", write, {"onboarding_next_step": None})])
    table = plan_table("hubspot", plan, owners={}, labels={}, limit=5)
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(table)
    assert step in out.getvalue()
