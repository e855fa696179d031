"""Size expressions for the quorum conditions: `--threshold "n_a - 2*t_a"`, `--min-set "k - t_c"`.

A user-supplied threshold (T) or minimum set size (m) is parsed safely, never `eval`ed: Python's
`ast` parses it and only a whitelist of nodes is accepted (integer constants, the size names,
`+ - * //`, unary minus, parentheses, `min(...)` and `max(...)`). The result is a small tree that
evaluates on integers and translates to a z3 integer term, with the same meaning in both:
`a // b` is Python's floor division, and `a // 0` is defined as 0 (so it never raises).
Names: `n_c, t_c, n_a, t_a` and `k`, the minimum cluster size `n_c // n_a` (PROTOCOL.md section 2).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # z3 is imported where a term is built, so parsing starts fast (issue 12)
    import z3

#: The names an expression may use (section 2); `k` = min_i k_i = n_c // n_a.
NAMES = ("n_c", "t_c", "n_a", "t_a", "k")
MAX_LENGTH = 200
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//"}

#: the protocol's default formulas for T and m (PROTOCOL.md section 2)
DEFAULT_THRESHOLD = "n_a - t_a"
DEFAULT_MIN_SET = "k - t_c"
#: the clusters' size assumption [ours], part of the system model: every cluster keeps a member
#: beyond the t_c clients that may crash (theory/quorum.py TH4: exactly what Q5 needs with DEFAULT_MIN_SET)
SIZE_ASSUMPTION = "n_c >= n_a * (t_c + 1)"


class ExprError(ValueError):
    """An expression that is not in the accepted grammar; `position` is 1-based."""

    def __init__(self, source: str, position: int, reason: str) -> None:
        super().__init__(f"{reason} at position {position} of {source!r}")
        self.source = source
        self.position = position
        self.reason = reason


@dataclass(frozen=True)
class Expr:
    """A parsed expression: `op` is "const", "name", "neg", "+", "-", "*", "//", "min" or "max"."""

    op: str
    args: tuple[Any, ...]
    source: str = ""

    def __str__(self) -> str:
        return self.source or _render(self)

    def evaluate(self, env: Mapping[str, int]) -> int:
        """The value on concrete sizes (`env` maps every name used to an int)."""
        return _eval(self, env)

    def to_z3(self, env: Mapping[str, z3.ArithRef]) -> z3.ArithRef:
        """The z3 integer term, over the z3 variables of `env`."""
        return _z3(self, env)

    def names(self) -> frozenset[str]:
        if self.op == "name":
            return frozenset(self.args)
        if self.op == "const":
            return frozenset()
        return frozenset().union(*(a.names() for a in self.args))


def _render(e: Expr) -> str:
    if e.op == "const" or e.op == "name":
        return str(e.args[0])
    if e.op == "neg":
        return f"-({_render(e.args[0])})"
    if e.op in ("min", "max"):
        return f"{e.op}({', '.join(_render(a) for a in e.args)})"
    return f"({_render(e.args[0])} {e.op} {_render(e.args[1])})"


def _floordiv(a: int, b: int) -> int:
    return 0 if b == 0 else a // b


def _eval(e: Expr, env: Mapping[str, int]) -> int:
    op, args = e.op, e.args
    if op == "const":
        return args[0]
    if op == "name":
        return env[args[0]]
    vals = [_eval(a, env) for a in args]
    if op == "neg":
        return -vals[0]
    if op == "+":
        return vals[0] + vals[1]
    if op == "-":
        return vals[0] - vals[1]
    if op == "*":
        return vals[0] * vals[1]
    if op == "//":
        return _floordiv(vals[0], vals[1])
    if op == "min":
        return min(vals)
    if op == "max":
        return max(vals)
    raise AssertionError(op)


def _z3(e: Expr, env: Mapping[str, z3.ArithRef]) -> z3.ArithRef:
    import z3

    op, args = e.op, e.args
    if op == "const":
        return z3.IntVal(args[0])
    if op == "name":
        return env[args[0]]
    vals = [_z3(a, env) for a in args]
    if op == "neg":
        return -vals[0]
    if op == "+":
        return vals[0] + vals[1]
    if op == "-":
        return vals[0] - vals[1]
    if op == "*":
        return vals[0] * vals[1]
    if op == "//":
        a, b = vals
        # z3's div is Euclidean: equal to floor division for b > 0, and a // b == (-a) // (-b)
        return z3.If(b > 0, a / b, z3.If(b < 0, (-a) / (-b), z3.IntVal(0)))
    if op in ("min", "max"):
        acc = vals[0]
        for v in vals[1:]:
            acc = z3.If(v < acc, v, acc) if op == "min" else z3.If(v > acc, v, acc)
        return acc
    raise AssertionError(op)


def parse(source: str, names: tuple[str, ...] = NAMES) -> Expr:
    """Parse a size expression, or raise `ExprError` naming the (1-based) position of the problem."""
    if not source.strip():
        raise ExprError(source, 1, "empty expression")
    if len(source) > MAX_LENGTH:
        raise ExprError(source, MAX_LENGTH + 1, f"expression longer than {MAX_LENGTH} characters")
    for index, ch in enumerate(source):
        if ch in "\n\r\t;" or not ch.isprintable():
            raise ExprError(source, index + 1, f"unexpected character {ch!r}")
    lead = len(source) - len(source.lstrip())
    text = source.strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        if not e.offset or e.offset > len(text):
            raise ExprError(source, lead + len(text) + 1, "unexpected end of expression") from None
        raise ExprError(source, lead + e.offset, f"syntax error ({e.msg})") from None
    e = _convert(tree.body, source, lead, names)
    return Expr(e.op, e.args, source.strip())


def _operator_offset(source: str, lead: int, node: ast.BinOp) -> int:
    """1-based position of a binary operator: the first symbol after the left operand."""
    index = lead + (node.left.end_col_offset or 0)
    while index < len(source) and source[index] in " )":
        index += 1
    return index + 1


def _convert(node: ast.AST, source: str, lead: int, names: tuple[str, ...]) -> Expr:
    pos = getattr(node, "col_offset", 0) + lead + 1

    def bad(reason: str) -> ExprError:
        return ExprError(source, pos, reason)

    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            raise bad(f"only integer constants are allowed, not {node.value!r}")
        return Expr("const", (node.value,))
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise bad(f"unknown name {node.id!r} (allowed: {', '.join(names)})")
        return Expr("name", (node.id,))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _convert(node.operand, source, lead, names)
        return inner if isinstance(node.op, ast.UAdd) else Expr("neg", (inner,))
    if isinstance(node, ast.BinOp):
        op = _BINOPS.get(type(node.op))
        if op is None:
            at = _operator_offset(source, lead, node)
            raise ExprError(source, at, f"operator {type(node.op).__name__} is not allowed (use + - * //)")
        left = _convert(node.left, source, lead, names)
        right = _convert(node.right, source, lead, names)
        return Expr(op, (left, right))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in ("min", "max"):
            raise bad("only min(...) and max(...) may be called")
        if node.keywords or len(node.args) < 2:
            raise bad(f"{node.func.id} takes two or more positional arguments")
        return Expr(node.func.id, tuple(_convert(a, source, lead, names) for a in node.args))
    raise bad(f"{type(node).__name__} is not allowed in a size expression")
