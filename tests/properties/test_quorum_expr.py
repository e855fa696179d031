"""Size expressions (properties/theory/expressions.py): parsed safely, same meaning in Python and z3."""

from __future__ import annotations

import pytest
import z3
from asfl.properties.theory.expressions import NAMES, ExprError, parse
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize(
    "source, expected",
    [
        ("n_a - t_a", 5),
        ("n_a - 2*t_a", 3),
        ("(n_a + t_a) // 2 + 1", 5),
        ("k - t_c", 0),
        ("min(n_a, 3, k) * -2", -2),
        ("max(1, k - t_c)", 1),
        ("-n_a // 2", -4),  # Python floor division
        ("n_c // 0", 0),  # defined as 0, never raises
    ],
)
def test_evaluates_like_python(source: str, expected: int) -> None:
    env = {"n_c": 9, "t_c": 1, "n_a": 7, "t_a": 2, "k": 1}
    assert parse(source).evaluate(env) == expected


@pytest.mark.parametrize(
    "source, position, reason",
    [
        ("n_a -* 2", 6, "syntax error"),
        ("n_a - ", 6, "unexpected end"),
        ("n_a ** 2", 5, "operator Pow"),
        ("(n_a) % 2", 7, "operator Mod"),
        ("foo + 1", 1, "unknown name 'foo'"),
        ("n_a + __import__('os')", 7, "only min(...) and max(...)"),
        ("1.5 * n_a", 1, "only integer constants"),
        ("n_a if t_a else 1", 1, "IfExp is not allowed"),
        ("max(n_a)", 1, "two or more"),
        ("n_a.real", 1, "Attribute is not allowed"),
        ("", 1, "empty"),
        ("n_a;1", 4, "unexpected character"),
    ],
)
def test_refuses_with_position(source: str, position: int, reason: str) -> None:
    with pytest.raises(ExprError) as info:
        parse(source)
    assert info.value.position == position
    assert reason in info.value.reason


def _exprs() -> st.SearchStrategy[str]:
    leaves = st.one_of(st.sampled_from(NAMES), st.integers(-5, 9).map(str))

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binop = st.tuples(inner, st.sampled_from(["+", "-", "*", "//"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        )
        call = st.tuples(st.sampled_from(["min", "max"]), st.lists(inner, min_size=2, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        )
        return st.one_of(binop, call, inner.map(lambda s: f"-{s}"))

    return st.recursive(leaves, extend, max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(_exprs(), st.lists(st.integers(-6, 12), min_size=5, max_size=5))
def test_z3_term_agrees_with_evaluation(source: str, values: list[int]) -> None:
    """The z3 translation means exactly what the evaluator computes (floor division included)."""
    e = parse(source)
    env = dict(zip(NAMES, values, strict=True))
    term = e.to_z3({name: z3.IntVal(v) for name, v in env.items()})
    assert z3.simplify(term).as_long() == e.evaluate(env)
