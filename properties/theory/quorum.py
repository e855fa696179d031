"""The quorum conditions Q1-Q6 of PROTOCOL.md section 2, proved or refuted by z3 for all sizes.

Sizes are unbounded integer unknowns `n_c, t_c, n_a, t_a` constrained by the system model
(section 1): `n_a >= 1`, `0 <= t_a < n_a`, `n_c >= n_a`, `0 <= t_c < n_c`, and, unless dropped, the
resilience assumption `n_a >= 3*t_a + 1` [paper]. `k = n_c // n_a` is the minimum cluster size
(`min_i k_i`, section 3). The threshold `T` and the minimum set size `m` are size expressions
(`theory/expressions.py`), by default `n_a - t_a` and `k - t_c`.

The size assumption of the clusters [ours], `n_c >= n_a * (t_c + 1)`, is part of the system model
too (docs/protocol.md section 1): every cluster has a member beyond the `t_c` clients that may crash.
Without it Q5 is refuted at `n_c=2, t_c=1, n_a=2` (clusters of one, `m = k - t_c = 0`), and that
refutation is why it is assumed; TH4 proves it is exactly what Q5 needs with the default `m`.
`Setting.assume_cluster_size=False` (`asfl quorum --no-size-assumption`) drops it.

For each condition the answer is either *proved* (no sizes satisfy the model and break it: z3
reports the negation unsatisfiable) or *refuted* with the smallest counterexample z3 finds
(lexicographically smallest `n_a + t_a`, then `n_c + t_c`, by iterative tightening, which works
for the non-linear `k = n_c // n_a` too). Two theorems are proved outright, for all `n_a, t_a >= 0`:

* TH1: with `T = n_a - t_a`, Q1-Q4 hold  iff  `n_a >= 3*t_a + 1`;
* TH2: some `T` satisfies Q1-Q3  iff  `n_a >= 3*t_a + 1` (a quantified statement, given to z3 as is).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import z3
from asfl.properties.theory.expressions import (
    DEFAULT_MIN_SET,
    DEFAULT_THRESHOLD,
    SIZE_ASSUMPTION,
    Expr,
    parse,
)

__all__ = ["DEFAULT_MIN_SET", "DEFAULT_THRESHOLD", "SIZE_ASSUMPTION"]
SIZES = ("n_c", "t_c", "n_a", "t_a")
#: how long z3 may think about one query (milliseconds); past it the answer is "unknown"
TIMEOUT_MS = 20_000

Z3Cond = Callable[[Mapping[str, z3.ArithRef]], z3.BoolRef]


@dataclass(frozen=True)
class QuorumCondition:
    """One condition of section 2, as a z3 formula over sizes, `T`, `m` and `k`."""

    name: str
    statement: str
    formula: Z3Cond
    breaks: str  # the property of section 7 that breaks when the condition does


CONDITIONS: tuple[QuorumCondition, ...] = (
    QuorumCondition("Q1 mask privacy", "T > t_a", lambda v: v["T"] > v["t_a"], "P3"),
    QuorumCondition(
        "Q2 set uniqueness", "2*T > n_a + t_a", lambda v: 2 * v["T"] > v["n_a"] + v["t_a"], "P2/P3"
    ),
    QuorumCondition("Q3 unmask liveness", "T <= n_a - t_a", lambda v: v["T"] <= v["n_a"] - v["t_a"], "P5"),
    QuorumCondition("Q4 overlap", "n_a - 3*t_a >= 1", lambda v: v["n_a"] - 3 * v["t_a"] >= 1, "P8"),
    QuorumCondition(
        "Q5 cluster fill",
        "1 <= m <= min_i k_i - t_c",
        lambda v: z3.And(1 <= v["m"], v["m"] <= v["k"] - v["t_c"]),
        "P5",
    ),
    QuorumCondition(
        "Q6 certification", "t_a + 1 <= n_a - t_a", lambda v: v["t_a"] + 1 <= v["n_a"] - v["t_a"], "P4/P5"
    ),
)


def condition(name_prefix: str) -> QuorumCondition:
    """The condition whose name starts with `name_prefix` ("Q2" ...)."""
    for cond in CONDITIONS:
        if cond.name.split()[0] == name_prefix:
            return cond
    raise KeyError(name_prefix)


@dataclass
class Verdict:
    """The answer for one condition or theorem."""

    name: str
    statement: str
    status: str  # "proved", "refuted" or "unknown"
    counterexample: dict[str, int] | None = None
    seconds: float = 0.0
    breaks: str = ""  # the property (section 7) that breaks with the condition

    @property
    def holds(self) -> bool:
        return self.status == "proved"

    def to_json(self) -> dict:
        out: dict = {"name": self.name, "statement": self.statement, "status": self.status}
        if self.breaks:
            out["breaks"] = self.breaks
        if self.counterexample is not None:
            out["counterexample"] = self.counterexample
        out["seconds"] = round(self.seconds, 4)
        return out


@dataclass
class Setting:
    """What is quantified over: sizes fixed by the user, the threshold and set-size expressions."""

    threshold: Expr = field(default_factory=lambda: parse(DEFAULT_THRESHOLD))
    min_set: Expr = field(default_factory=lambda: parse(DEFAULT_MIN_SET))
    fixed: dict[str, int] = field(default_factory=dict)
    assume_resilience: bool = True
    assume_cluster_size: bool = True

    @property
    def concrete(self) -> bool:
        return all(s in self.fixed for s in SIZES)


def _variables() -> dict[str, z3.ArithRef]:
    return {name: z3.Int(name) for name in SIZES + ("k",)}


def system_model(
    v: Mapping[str, z3.ArithRef], resilience: bool, cluster_size: bool = False
) -> list[z3.BoolRef]:
    """Section 1: the sizes a deployment may have; `k = n_c // n_a` as two linear-in-k bounds;
    with `cluster_size`, the clusters' size assumption `n_c >= n_a * (t_c + 1)` (SIZE_ASSUMPTION)."""
    model = [
        v["n_a"] >= 1,
        v["t_a"] >= 0,
        v["t_a"] < v["n_a"],
        v["n_c"] >= v["n_a"],
        v["t_c"] >= 0,
        v["t_c"] < v["n_c"],
        v["n_a"] * v["k"] <= v["n_c"],
        v["n_c"] < v["n_a"] * (v["k"] + 1),
        v["k"] >= 1,
    ]
    if resilience:
        model.append(v["n_a"] >= 3 * v["t_a"] + 1)
    if cluster_size:
        model.append(v["n_c"] >= v["n_a"] * (v["t_c"] + 1))
    return model


def _env(setting: Setting, v: Mapping[str, z3.ArithRef]) -> dict[str, z3.ArithRef]:
    env = dict(v)
    env["T"] = setting.threshold.to_z3(v)
    env["m"] = setting.min_set.to_z3(v)
    return env


def _assumptions(setting: Setting, v: Mapping[str, z3.ArithRef]) -> list[z3.BoolRef]:
    # concrete sizes are checked as given: an assumption would make a check vacuous
    resilience = setting.assume_resilience and not setting.concrete
    cluster_size = setting.assume_cluster_size and not setting.concrete
    return system_model(v, resilience, cluster_size) + [v[s] == value for s, value in setting.fixed.items()]


def _solver() -> z3.Solver:
    s = z3.Solver()
    s.set("timeout", TIMEOUT_MS)
    return s


def smallest_model(
    constraints: list[z3.BoolRef], objectives: list[z3.ArithRef], report: Mapping[str, z3.ArithRef]
) -> dict[str, int] | None:
    """A model of `constraints` lexicographically smallest in `objectives`, found by tightening a
    bound until z3 says unsat (works for non-linear constraints too); the values of `report`, or
    None if unsatisfiable. If z3 gives up mid-way ("unknown"), the smallest model so far is kept."""
    s = _solver()
    s.add(*constraints)
    if s.check() != z3.sat:
        return None
    best = s.model()
    for objective in objectives:
        while True:
            bound = best.eval(objective, model_completion=True)
            s.push()
            s.add(objective < bound)
            result = s.check()
            if result == z3.sat:
                best = s.model()
                s.pop()
                s.add(objective <= best.eval(objective, model_completion=True))
                continue
            s.pop()
            s.add(objective == bound)
            break
    return {name: best.eval(var, model_completion=True).as_long() for name, var in report.items()}


def smallest_sizes(constraints: list[z3.BoolRef], v: Mapping[str, z3.ArithRef]) -> dict[str, int] | None:
    """The smallest `n_a + t_a`, then `n_c + t_c`, satisfying `constraints`."""
    objectives = [v["n_a"] + v["t_a"], v["n_c"] + v["t_c"]]
    return smallest_model(constraints, objectives, {name: v[name] for name in SIZES})


def sizes_consistent(setting: Setting) -> bool:
    """Whether some sizes satisfy the assumptions (a proof under empty assumptions is vacuous)."""
    v = _variables()
    s = _solver()
    s.add(*_assumptions(setting, v))
    return s.check() == z3.sat


def check_condition(cond: QuorumCondition, setting: Setting) -> Verdict:
    """Prove `cond` for every size the setting allows, or refute it with the smallest counterexample."""
    start = time.perf_counter()
    v = _variables()
    env = _env(setting, v)
    negation = _assumptions(setting, v) + [z3.Not(cond.formula(env))]
    s = _solver()
    s.add(*negation)
    result = s.check()
    if result == z3.unsat:
        status, cex = "proved", None
    elif result == z3.sat:
        status, cex = "refuted", smallest_sizes(negation, v)
        assert cex is not None
        cex = _with_derived(cex, setting)
    else:
        status, cex = "unknown", None
    return Verdict(cond.name, cond.statement, status, cex, time.perf_counter() - start, cond.breaks)


def _with_derived(sizes: dict[str, int], setting: Setting) -> dict[str, int]:
    env = dict(sizes)
    env["k"] = sizes["n_c"] // sizes["n_a"]
    return {**sizes, "k": env["k"], "T": setting.threshold.evaluate(env), "m": setting.min_set.evaluate(env)}


def check_all(setting: Setting) -> list[Verdict]:
    """Q1-Q6 under `setting`."""
    return [check_condition(cond, setting) for cond in CONDITIONS]


# -- the theorems ------------------------------------------------------------------------------
def _prove(name: str, statement: str, n_a: z3.ArithRef, t_a: z3.ArithRef, claim: z3.BoolRef) -> Verdict:
    """Prove `claim` for all integers `n_a, t_a >= 0` (free variables: the negation must be
    unsatisfiable), or refute it with the smallest `n_a + t_a` breaking it."""
    start = time.perf_counter()
    negation = [n_a >= 0, t_a >= 0, z3.Not(claim)]
    s = _solver()
    s.add(*negation)
    result = s.check()
    cex = None
    if result == z3.sat:
        cex = smallest_model(negation, [n_a + t_a, t_a], {"n_a": n_a, "t_a": t_a})
    status = "proved" if result == z3.unsat else "refuted" if result == z3.sat else "unknown"
    return Verdict(name, statement, status, cex, time.perf_counter() - start)


def _q(v: Mapping[str, z3.ArithRef], prefix: str) -> z3.BoolRef:
    return condition(prefix).formula(v)


def theorem_default_threshold(threshold: Expr | None = None) -> Verdict:
    """TH1: for all n_a, t_a >= 0, with T = threshold (default n_a - t_a): Q1-Q4 iff n_a >= 3 t_a + 1."""
    threshold = threshold or parse(DEFAULT_THRESHOLD)
    if not threshold.names() <= {"n_a", "t_a"}:
        raise ValueError(f"TH1 quantifies over n_a and t_a only; T = {threshold} uses other sizes")
    n_a, t_a = z3.Ints("n_a t_a")
    v: dict[str, z3.ArithRef] = {"n_a": n_a, "t_a": t_a}
    v["T"] = threshold.to_z3(v)
    q1_q4 = z3.And(*(_q(v, p) for p in ("Q1", "Q2", "Q3", "Q4")))
    return _prove(
        "TH1 threshold",
        f"for all n_a, t_a >= 0, with T = {threshold}: Q1-Q4 hold iff n_a >= 3*t_a + 1",
        n_a,
        t_a,
        q1_q4 == (n_a >= 3 * t_a + 1),
    )


def theorem_some_threshold() -> Verdict:
    """TH2: for all n_a, t_a >= 0: (exists T. Q1 and Q2 and Q3) iff n_a >= 3 t_a + 1. The inner
    quantifier is given to z3 as is (linear integer arithmetic: decided by quantifier elimination)."""
    n_a, t_a, T = z3.Ints("n_a t_a T")
    v = {"n_a": n_a, "t_a": t_a, "T": T}
    some_t = z3.Exists([T], z3.And(_q(v, "Q1"), _q(v, "Q2"), _q(v, "Q3")))
    return _prove(
        "TH2 some threshold",
        "for all n_a, t_a >= 0: some T satisfies Q1-Q3 iff n_a >= 3*t_a + 1",
        n_a,
        t_a,
        some_t == (n_a >= 3 * t_a + 1),
    )


def theorem_q4_gives_q6() -> Verdict:
    """TH3: Q4 implies Q6 (the resilience bound leaves t_a + 1 correct certifiers)."""
    n_a, t_a = z3.Ints("n_a t_a")
    v = {"n_a": n_a, "t_a": t_a}
    return _prove(
        "TH3 Q4 gives Q6",
        "for all n_a, t_a >= 0: Q4 implies Q6",
        n_a,
        t_a,
        z3.Implies(_q(v, "Q4"), _q(v, "Q6")),
    )


def theorem_cluster_fill() -> Verdict:
    """TH4: with the default m = k - t_c, Q5 holds iff the clusters' size assumption does, for every
    n_c >= n_a >= 1 and t_c >= 0 (k = n_c // n_a): the assumption is exactly what Q5 needs."""
    start = time.perf_counter()
    v = _variables()
    env = {**v, "m": parse(DEFAULT_MIN_SET).to_z3(v)}
    claim = _q(env, "Q5") == (v["n_c"] >= v["n_a"] * (v["t_c"] + 1))
    negation = [
        v["n_a"] >= 1,
        v["n_c"] >= v["n_a"],
        v["t_c"] >= 0,
        v["n_a"] * v["k"] <= v["n_c"],
        v["n_c"] < v["n_a"] * (v["k"] + 1),
        z3.Not(claim),
    ]
    s = _solver()
    s.add(*negation)
    result = s.check()
    cex = smallest_model(negation, [v["n_a"] + v["t_c"], v["n_c"]], v) if result == z3.sat else None
    status = "proved" if result == z3.unsat else "refuted" if result == z3.sat else "unknown"
    return Verdict(
        "TH4 cluster fill",
        f"for all n_c >= n_a >= 1, t_c >= 0, with m = {DEFAULT_MIN_SET}: Q5 holds iff {SIZE_ASSUMPTION}",
        status,
        cex,
        time.perf_counter() - start,
    )


def theorems(threshold: Expr | None = None) -> list[Verdict]:
    """TH1 (with the given threshold, if it only uses n_a and t_a), TH2, TH3 and TH4."""
    out = []
    if threshold is None or threshold.names() <= {"n_a", "t_a"}:
        out.append(theorem_default_threshold(threshold))
    return out + [theorem_some_threshold(), theorem_q4_gives_q6(), theorem_cluster_fill()]
