"""The CEL fast path gives cel-python's answers: random expressions and data, both evaluated."""

from __future__ import annotations

from typing import Any

import celpy
import pytest
from celpy import celtypes as t
from hypothesis import given, settings
from hypothesis import strategies as st

from onboard_sync.rules.fastcel import Undecided, compile_fast

ENV = celpy.Environment()


def literal(text: str) -> Any:
    return ENV.program(ENV.compile(text)).evaluate({})


def slow(source: str, activation: dict[str, Any]) -> bool | None:
    try:
        result = ENV.program(ENV.compile(source)).evaluate(activation)
    except Exception:
        return None
    return bool(result) if isinstance(result, t.BoolType | bool) else None


def fast_or_slow(source: str, activation: dict[str, Any]) -> bool | None:
    fn = compile_fast(ENV.compile(source), literal)
    assert fn is not None, f"{source!r} should be in the fast subset"
    try:
        return bool(fn(activation))
    except Undecided:
        return slow(source, activation)


VALUES = st.one_of(
    st.integers(-3, 3).map(t.IntType),
    st.sampled_from([-1.5, 0.0, 2.0, 3.0]).map(t.DoubleType),
    st.sampled_from(["", "a", "smb", "b"]).map(t.StringType),
    st.booleans().map(t.BoolType),
)
FIELDS = ("n", "x", "s", "flag")
ACTIVATIONS = st.fixed_dictionaries(
    {"deal": st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=4)},
    optional={"segment": VALUES},
).map(
    lambda d: {
        k: t.MapType({t.StringType(f): v for f, v in v.items()}) if isinstance(v, dict) else v for k, v in d.items()
    }
)

OPERANDS = st.one_of(
    st.sampled_from([f"deal.{f}" for f in (*FIELDS, "missing")] + ["segment"]),
    st.sampled_from(["1", "2", "0", "1.0", "2.0", '"a"', '"smb"', "true", "false"]),
)
COMPARISON = st.builds(
    lambda a, op, b: f"{a} {op} {b}", OPERANDS, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), OPERANDS
)
ATOM = st.one_of(COMPARISON, st.sampled_from([f"has(deal.{f})" for f in (*FIELDS, "missing")]), st.just("deal.flag"))
EXPR = st.recursive(
    ATOM,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a}) && ({b})", inner, inner),
        st.builds(lambda a, b: f"({a}) || ({b})", inner, inner),
        st.builds(lambda a: f"!({a})", inner),
    ),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None)
@given(source=EXPR, activation=ACTIVATIONS)
def test_fast_path_agrees_with_cel_python(source: str, activation: dict[str, Any]) -> None:
    assert fast_or_slow(source, activation) == slow(source, activation)


@pytest.mark.parametrize("source", ["deal.n + 1 > 2", "deal.s.startsWith('a')", "size(deal.s) > 0", "x ? true : false"])
def test_constructs_outside_the_subset_are_left_to_cel_python(source: str) -> None:
    assert compile_fast(ENV.compile(source), literal) is None


def test_the_default_segment_rules_take_the_fast_path() -> None:
    from onboard_sync.rules import default_playbook_path, load_playbook

    playbook = load_playbook(default_playbook_path())
    fast = [s for s in playbook.segments if getattr(s, "when", None) is not None and s.when.programs()[1] is not None]
    assert fast, "segment rules such as deal.amount >= 100000.0 are compiled to closures"
