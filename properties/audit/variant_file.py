"""Variants: a changed protocol, defined in a Python file of the user's (issue: audit).

A variant file is ordinary Python that defines, at module level:

    NAME = "endorse-twice"                     # required: a short identifier
    DESCRIPTION = "endorsers answer a second set of one (round, cluster)"   # required, one line
    RULES = {"endorse_problem": my_endorse}    # optional: rules of spec/rules.py it replaces
    THRESHOLD = "t_a + 1"                      # optional: T as a size expression
    MIN_SET = "k - t_c"                        # optional: m as a size expression
    PARAMS = {"s_max": 0}                      # optional: other parameter values

Rules are looked up in the one table of `spec/rules.py`, so a variant is a new table
(`dataclasses.replace(STANDARD, ...)`), never a monkey-patch: each replaced rule must accept the
parameters `RULE_SIGNATURES` names. Size expressions are parsed safely (`quorum_expr`, no eval)
over `n_c, t_c, n_a, t_a, k`. Anything wrong in the file is a `VariantError` whose one-line
message names the file, the line and the problem.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import inspect
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from asfl.properties.theory.expressions import Expr, ExprError, parse
from asfl.reference.safe_read import InputError, read_text_bounded
from asfl.spec import RULE_SIGNATURES, STANDARD, Params, Rules

#: a variant file is a page of Python, not a data set
MAX_VARIANT_BYTES = 1 * 2**20
_SIZE_PARAMS = {"n_c", "t_c", "n_a", "t_a", "T", "m"}
_OTHER_PARAMS = {f.name for f in dataclasses.fields(Params)} - _SIZE_PARAMS - {"allow_unsafe"}


class VariantError(ValueError):
    """A variant file that cannot be used: `FILE:LINE: problem`."""


@dataclass(frozen=True)
class Variant:
    """A changed protocol: a rule table and parameter formulas."""

    name: str
    description: str
    rules: Rules
    threshold: Expr | None = None
    min_set: Expr | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def apply(self, base: Params) -> Params:
        """The variant's parameters on the sizes of `base`. Unsafe values are kept on purpose:
        the audit's job is to show what they break."""
        env = {"n_c": base.n_c, "t_c": base.t_c, "n_a": base.n_a, "t_a": base.t_a, "k": base.n_c // base.n_a}
        changes: dict[str, Any] = dict(self.params)
        if self.threshold is not None:
            changes["T"] = self.threshold.evaluate(env)
        if self.min_set is not None:
            changes["m"] = self.min_set.evaluate(env)
        if "m" in changes and "Q" not in changes:
            changes["Q"] = None  # re-derive the default quota from the new m
        fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
        fields.update(changes)
        fields["allow_unsafe"] = True
        return Params(**fields)

    @property
    def changes(self) -> list[str]:
        """What the variant changes, in words."""
        out = [f"rule {n}" for n in self.rules.replaced()]
        if self.threshold is not None:
            out.append(f"T = {self.threshold}")
        if self.min_set is not None:
            out.append(f"m = {self.min_set}")
        out += [f"{k} = {v!r}" for k, v in self.params.items()]
        return out


def make_variant(
    name: str,
    description: str,
    rules: Mapping[str, Callable[..., Any]] | None = None,
    threshold: str | None = None,
    min_set: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> Variant:
    """A variant built in Python (the catalogue and the tests use this; files go through `load`)."""
    table = dataclasses.replace(STANDARD, name=name, **dict(rules or {}))
    return Variant(
        name=name,
        description=description,
        rules=table,
        threshold=parse(threshold) if threshold else None,
        min_set=parse(min_set) if min_set else None,
        params=dict(params or {}),
    )


def _assignment_lines(tree: ast.Module) -> dict[str, int]:
    lines: dict[str, int] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for t in targets:
            if isinstance(t, ast.Name):
                lines[t.id] = node.lineno
    return lines


def _rule_key_lines(tree: ast.Module) -> dict[str, int]:
    """The line of each key of the RULES dict literal, for precise errors."""
    for node in tree.body:
        names = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
        if isinstance(node, ast.Assign) and "RULES" in names and isinstance(node.value, ast.Dict):
            return {
                k.value: k.lineno
                for k in node.value.keys
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            }
    return {}


def _execute(path: Path, source: str) -> ModuleType:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    module = ModuleType(f"asfl_variant_{digest}")  # any file name: no import spec needed
    module.__file__ = str(path)
    try:
        exec(compile(source, str(path), "exec"), module.__dict__)  # the user's own file
    except Exception as e:  # noqa: BLE001 - any error in the user's file becomes one line
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == str(path)]
        line = frames[-1].lineno if frames else 1
        raise VariantError(f"{path}:{line}: {type(e).__name__}: {e}") from None
    return module


def _check_signature(path: Path, name: str, fn: Any, line: int) -> None:
    expected = RULE_SIGNATURES[name]
    if not callable(fn):
        raise VariantError(f"{path}:{line}: rule {name!r} must be a function, got {type(fn).__name__}")
    code = getattr(fn, "__code__", None)
    where = code.co_firstlineno if code is not None and code.co_filename == str(path) else line
    try:
        sig = inspect.signature(fn)
        sig.bind(*expected)
    except (TypeError, ValueError):
        got = ", ".join(inspect.signature(fn).parameters) if code is not None else "?"
        raise VariantError(
            f"{path}:{where}: rule {name!r} is called with ({', '.join(expected)}); "
            f"{getattr(fn, '__name__', 'it')} takes ({got})"
        ) from None


def load(path: Path | str) -> Variant:
    """Load and check a variant file; every problem is a one-line `VariantError`."""
    path = Path(path)
    try:  # bounded: never a FIFO, device or binary file (issue #17)
        source = read_text_bounded(path, MAX_VARIANT_BYTES, "variant file")
    except InputError as e:
        raise VariantError(str(e)) from None
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as e:
        raise VariantError(f"{path}:{e.lineno or 1}: syntax error: {e.msg}") from None
    except (ValueError, RecursionError, MemoryError) as e:  # null bytes; nesting too deep to parse
        raise VariantError(f"{path}: cannot parse the variant file ({type(e).__name__})") from None
    lines = _assignment_lines(tree)
    module = _execute(path, source)
    ns = module.__dict__
    for required in ("NAME", "DESCRIPTION"):
        value = ns.get(required)
        if not isinstance(value, str) or not value.strip() or "\n" in value.strip():
            raise VariantError(
                f"{path}:{lines.get(required, 1)}: {required} must be a one-line string "
                "(a variant defines NAME, DESCRIPTION and any of RULES, THRESHOLD, MIN_SET, PARAMS)"
            )
    rules = ns.get("RULES", {})
    if not isinstance(rules, Mapping):
        raise VariantError(f"{path}:{lines.get('RULES', 1)}: RULES must be a dict of rule name -> function")
    key_lines = _rule_key_lines(tree)
    for name, fn in rules.items():
        line = key_lines.get(name, lines.get("RULES", 1))
        if name not in RULE_SIGNATURES:
            known = ", ".join(Rules.names())
            raise VariantError(f"{path}:{line}: unknown rule {name!r}; the rules are: {known}")
        _check_signature(path, name, fn, line)
    exprs: dict[str, Expr | None] = {}
    for key in ("THRESHOLD", "MIN_SET"):
        text = ns.get(key)
        if text is None:
            exprs[key] = None
            continue
        if not isinstance(text, str):
            raise VariantError(f"{path}:{lines.get(key, 1)}: {key} must be a size expression string")
        try:
            exprs[key] = parse(text)
        except ExprError as e:
            raise VariantError(f"{path}:{lines.get(key, 1)}: {key}: {e}") from None
    params = ns.get("PARAMS", {})
    if not isinstance(params, Mapping):
        raise VariantError(f"{path}:{lines.get('PARAMS', 1)}: PARAMS must be a dict")
    unknown = sorted(set(params) - _OTHER_PARAMS)
    if unknown:
        raise VariantError(
            f"{path}:{lines.get('PARAMS', 1)}: PARAMS cannot set {', '.join(unknown)} "
            f"(sizes come from the audit's configuration; use THRESHOLD and MIN_SET for T and m)"
        )
    name = ns["NAME"].strip()
    return Variant(
        name=name,
        description=ns["DESCRIPTION"].strip(),
        rules=dataclasses.replace(STANDARD, name=name, **dict(rules)),
        threshold=exprs["THRESHOLD"],
        min_set=exprs["MIN_SET"],
        params=dict(params),
        path=path,
    )
