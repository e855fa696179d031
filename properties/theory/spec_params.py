"""The spec's own parameters judged by the quorum theory: does `spec/params.py` refuse exactly what
Q1-Q6 forbid, and derive the defaults section 2 writes? (issue 13: the judge of `spec/params.py`)

`asfl quorum` proves Q1-Q6 on the theory's formulas (quorum.py). The spec states the same
conditions in code of its own (`quorum_conditions`, `Params.__post_init__`), and a change to that
code changes which deployments the spec accepts, which no run of `asfl check` can see: the check
runs one configuration, accepted before the first step. So the theory judges the spec's code on
every size of a small scope, exhaustively, as the explorer judges states:

* **refusal** (Q1-Q6, PROTOCOL.md section 2): for every size of the system model in the scope, and
  every T in 1..n_a and m in 0..k+1 (and the defaults), `Params` accepts exactly when the theory's
  Q1-Q6 all hold, and otherwise refuses naming the first condition the theory finds broken; with
  `allow_unsafe`, it accepts and its `violations()` are the theory's broken conditions.
* **defaults** (sections 2 and 3): T = n_a - t_a and m = min_i k_i - t_c (the theory's
  `DEFAULT_THRESHOLD` and `DEFAULT_MIN_SET`); the clusters slice n_c as section 3 says (k_i is
  n_c // n_a or one more, in order, summing to n_c); a certificate is t_a + 1 signatures (Q6), a
  correct party waits for n_a - t_a (P9), and sigma = z*C (P7); the default field modulus q is a
  prime whose square fits int64 (the concrete domain's products), wide enough that a clipped
  value's encoding C * scale fits the headroom (q - 1) // 2 // n_c at the check's size (section 4).
* **quota** (H1 and the default quota, docs/protocol.md design choice 7): Q defaults to
  max(1, (R-2)*m // max_i k_i), and H1 holds exactly when Q * max_i k_i <= (R-2)*m.
* **numbers** (the standard: parameters that break a condition are refused with its name and the
  numbers): every condition's numbers, `term=value` ("2*T=6, n_a+t_a=5", H1's "max_i k_i=3"),
  give each term's value, the term read with the theory's expression grammar.
* **calibration** (section 2): the rule table's noise, `Rules.noise_variance`, is sigma^2 / m for
  several sigma = z C, not only 1 (where every power of sigma agrees).
* **assignment** (section 3): the clusters of a round partition the clients in the slices k_i, at
  every size of the scope with n_a <= 4 (where n_a does not divide n_c too) and at large sizes
  the tool accepts (n_c = 100 and 1,000: a guard of the shuffle must not refuse them).
* **domain** (sections 1 and 2): values outside the system model or a parameter's range are
  refused with a `ParamsError`, and the range's own edges (R = 1, s_max = 0, z = 0 ...) accepted.

The judge is the theory's, never the spec's: the conditions are the z3 formulas of quorum.py,
evaluated on concrete numbers. A spec that raises anything but `ParamsError` is a disagreement too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import z3
from asfl.properties.theory.expressions import DEFAULT_MIN_SET, DEFAULT_THRESHOLD, Expr, ExprError, parse
from asfl.properties.theory.quorum import CONDITIONS, QuorumCondition

#: the scope: every n_a up to this (so t_a up to 2 within the resilience bound, and beyond it)
MAX_N_A = 6
#: n_c up to this many clusters' worth of clients per aggregator (clusters of 1..3 and more)
MAX_CLUSTER = 3
#: crashes up to this many (Q5's edge at clusters of up to MAX_CLUSTER)
MAX_T_C = 3
#: rounds judged by the quota clause (H1's slack of two rounds and past it)
ROUNDS = (1, 2, 3, 4, 6, 9)
#: the first disagreements of each clause that are kept (the rest are counted)
KEEP = 3


@dataclass(frozen=True)
class Disagreement:
    """One place where the spec's parameters differ from the theory."""

    clause: str  # "refusal", "numbers", "defaults", "quota", "domain", "calibration" or "assignment"
    params: str  # the values given to Params
    expected: str  # what the theory says
    got: str  # what the spec did

    def __str__(self) -> str:
        return f"{self.clause}: Params({self.params}): expected {self.expected}, the spec {self.got}"

    def to_json(self) -> dict:
        return {"clause": self.clause, "params": self.params, "expected": self.expected, "got": self.got}


@dataclass
class SpecVerdict:
    """The judgement: how many cases each clause judged, and its disagreements (the first KEEP of
    each clause, so that one clause's many never hide another's)."""

    cases: dict[str, int] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)
    total_disagreements: int = 0

    @property
    def agrees(self) -> bool:
        return self.total_disagreements == 0

    def add(self, d: Disagreement) -> None:
        self.total_disagreements += 1
        if sum(kept.clause == d.clause for kept in self.disagreements) < KEEP:
            self.disagreements.append(d)

    def to_json(self) -> dict:
        return {
            "agrees": self.agrees,
            "cases": self.cases,
            "disagreements": self.total_disagreements,
            "first": [d.to_json() for d in self.disagreements],
        }


def holds(cond: QuorumCondition, env: Mapping[str, int]) -> bool:
    """The theory's condition on concrete numbers (its z3 formula, evaluated)."""
    value = cond.formula(env)  # type: ignore[arg-type]  # the formulas are arithmetic: ints work
    if isinstance(value, bool):
        return value
    return z3.is_true(z3.simplify(value))


def broken(env: Mapping[str, int]) -> list[str]:
    """The theory's conditions that fail at `env` (sizes, k, T, m), in the order Q1..Q6."""
    return [c.name for c in CONDITIONS if not holds(c, env)]


#: the names a condition's numbers may use ("T=3, n_a-t_a=3", "min_i k_i=3", "max_i k_i=3")
NUMBER_NAMES = ("n_c", "t_c", "n_a", "t_a", "k", "k_max", "T", "m", "Q", "R")
_SPELLED = {"min_i k_i": "k", "max_i k_i": "k_max"}
_NUMBER_TERMS: dict[str, Expr | None] = {}


def numbers_problem(numbers: str, env: Mapping[str, int]) -> str | None:
    """What is wrong with a condition's numbers ("2*T=6, n_a+t_a=5"), or None: each `term=value`
    must give the term's value at `env` (the standard: a refusal names the condition and the
    numbers, so the numbers must be the ones that broke it). Terms are parsed with the theory's
    expression grammar, never evaluated as Python."""
    for part in numbers.split(", "):
        term, sep, value = part.partition("=")
        if term not in _NUMBER_TERMS:
            source = _SPELLED.get(term, term)
            try:
                _NUMBER_TERMS[term] = parse(source, names=NUMBER_NAMES)
            except ExprError:
                _NUMBER_TERMS[term] = None
        expr = _NUMBER_TERMS[term]
        if not sep or expr is None:
            return f"{part!r} is not term=value"
        want = expr.evaluate(env)
        if value != str(want):
            return f"{part} where {term} is {want}"
    return None


def model_sizes() -> Iterator[tuple[int, int, int, int]]:
    """(n_c, t_c, n_a, t_a) of the system model (section 1) in the scope, resilient or not."""
    for n_a in range(1, MAX_N_A + 1):
        for t_a in range(n_a):
            for n_c in range(n_a, MAX_CLUSTER * n_a + 2):
                for t_c in range(min(n_c, MAX_T_C + 1)):
                    yield n_c, t_c, n_a, t_a


#: the protocol's default formulas for T and m, parsed once (the judge evaluates them per size)
_THRESHOLD, _MIN_SET = parse(DEFAULT_THRESHOLD), parse(DEFAULT_MIN_SET)


def _defaults(n_c: int, t_c: int, n_a: int, t_a: int) -> dict[str, int]:
    env = {"n_c": n_c, "t_c": t_c, "n_a": n_a, "t_a": t_a, "k": n_c // n_a}
    env["T"] = _THRESHOLD.evaluate(env)
    env["m"] = _MIN_SET.evaluate(env)
    return env


def slices(n_c: int, n_a: int) -> tuple[int, ...]:
    """Section 3: cluster i holds the shuffled positions [n_c*i//n_a, n_c*(i+1)//n_a)."""
    return tuple(n_c * (i + 1) // n_a - n_c * i // n_a for i in range(n_a))


def is_prime(n: int) -> bool:
    """Miller-Rabin with the bases that decide every n below 3.3e24 (so every modulus the
    fixed-point encoding could use); written here since the standard library has no primality
    test and the project's dependencies none either."""
    if n < 2:
        return False
    bases = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
    if n in bases:
        return True
    if any(n % b == 0 for b in bases):
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for b in bases:
        x = pow(b, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _show(**values: object) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())


def _build(params_cls, values: dict):
    """Params(**values): the object, or the ParamsError it raised; any other exception is returned
    as its type and message (the spec raised: a disagreement wherever it happens)."""
    from asfl.spec.errors import ParamsError

    try:
        return params_cls(**values)
    except ParamsError as e:
        return e
    except Exception as e:  # noqa: BLE001 - the judged spec's own failure, reported as a disagreement
        return f"raised {type(e).__name__}: {e}"


def _outcome(built) -> str:
    from asfl.spec.errors import ParamsError

    if isinstance(built, ParamsError):
        return f"refused ({built.condition})"
    if isinstance(built, str):
        return built
    return "accepted"


def judge_refusal(verdict: SpecVerdict, params_cls) -> None:
    """Q1-Q6: accepted exactly when the theory's conditions hold, else refused naming the first."""
    n = 0
    for n_c, t_c, n_a, t_a in model_sizes():
        base = _defaults(n_c, t_c, n_a, t_a)
        for T in (None, *range(1, n_a + 1)):
            for m in (None, *range(0, base["k"] + 2)):
                env = {**base, "T": base["T"] if T is None else T, "m": base["m"] if m is None else m}
                fails = broken(env)
                values = {"n_c": n_c, "t_c": t_c, "n_a": n_a, "t_a": t_a, "T": T, "m": m}
                n += 1
                got = _outcome(_build(params_cls, values))
                want = f"refused ({fails[0]})" if fails else "accepted"
                if got != want:
                    verdict.add(Disagreement("refusal", _show(**values), want, got))
                unsafe = _build(params_cls, {**values, "allow_unsafe": True})
                if _outcome(unsafe) != "accepted":
                    verdict.add(
                        Disagreement(
                            "refusal", _show(**values, allow_unsafe=True), "accepted", _outcome(unsafe)
                        )
                    )
                    continue
                named = [c.name for c in unsafe.violations()]
                if named != fails:
                    verdict.add(
                        Disagreement(
                            "refusal",
                            _show(**values, allow_unsafe=True),
                            f"violations {fails}",
                            f"said {named}",
                        )
                    )
                for cond in unsafe.conditions():
                    wrong = numbers_problem(cond.numbers, env)
                    if wrong is not None:
                        where = _show(**values, allow_unsafe=True)
                        verdict.add(Disagreement("numbers", where, f"{cond.name}'s numbers", wrong))
    verdict.cases["refusal"] = n


def judge_defaults(verdict: SpecVerdict, params_cls) -> None:
    """T, m, k_i, the certificate's size, the progress quorum and sigma, as sections 2 and 3 say."""
    n = 0
    for n_c, t_c, n_a, t_a in model_sizes():
        values = {"n_c": n_c, "t_c": t_c, "n_a": n_a, "t_a": t_a, "z": 1.5, "clip": 0.5, "allow_unsafe": True}
        p = _build(params_cls, values)
        n += 1
        if _outcome(p) != "accepted":
            verdict.add(Disagreement("defaults", _show(**values), "accepted", _outcome(p)))
            continue
        env = _defaults(n_c, t_c, n_a, t_a)
        expected = {
            "T": env["T"],
            "m": env["m"],
            "k": slices(n_c, n_a),
            "certificate_size": t_a + 1,
            "progress_quorum": n_a - t_a,
            "sigma": 1.5 * 0.5,
        }
        for name, want in expected.items():
            got = getattr(p, name)
            if got != want:
                verdict.add(Disagreement("defaults", _show(**values), f"{name} = {want}", f"gave {got}"))
    # the field (section 2: F_q): the default modulus is a prime, and the product of two elements
    # fits the int64 the concrete domain computes in (q < 2^31.5, so q^2 < 2^63)
    # and it is wide enough for the fixed-point encoding (section 4): at the check's default size a
    # clipped value's encoding, C * scale, fits the headroom (q - 1) // 2 // n_c that keeps a sum of
    # n_c from wrapping (reference/field.py `headroom`)
    where = "n_c=12, t_c=1, n_a=4, t_a=1"
    p = _build(params_cls, {"n_c": 12, "t_c": 1, "n_a": 4, "t_a": 1})
    q = getattr(p, "q", None)
    if not (isinstance(q, int) and is_prime(q) and q * q < 2**63):
        verdict.add(Disagreement("defaults", where, "q a prime with q^2 < 2^63", f"gave q = {q!r}"))
    elif p.clip * p.scale > (q - 1) // 2 // p.n_c:
        wanted = f"C * scale = {p.clip * p.scale:g} within the headroom (q - 1) // 2 // n_c"
        verdict.add(
            Disagreement("defaults", where, wanted, f"gave q = {q}, headroom {(q - 1) // 2 // p.n_c}")
        )
    verdict.cases["defaults"] = n + 1


def judge_quota(verdict: SpecVerdict, params_cls) -> None:
    """The default quota max(1, (R-2)*m // max_i k_i), and H1 quota room Q * max_i k_i <= (R-2)*m."""
    n = 0
    for n_c, t_c, n_a, t_a in model_sizes():
        env = _defaults(n_c, t_c, n_a, t_a)
        if env["m"] < 1:
            continue  # Q5 broken: the quota speaks of the sizes where a set can be unmasked at all
        k_max = -(-n_c // n_a)
        for R in ROUNDS:
            room = (R - 2) * env["m"]  # the release slots before H1's two rounds of slack
            for Q in (None, 1, 2, 3):
                values = {
                    "n_c": n_c,
                    "t_c": t_c,
                    "n_a": n_a,
                    "t_a": t_a,
                    "R": R,
                    "Q": Q,
                    "allow_unsafe": True,
                }
                n += 1
                p = _build(params_cls, values)
                if _outcome(p) != "accepted":
                    verdict.add(Disagreement("quota", _show(**values), "accepted", _outcome(p)))
                    continue
                want_q = max(1, room // k_max) if Q is None else Q
                if p.Q != want_q:
                    verdict.add(Disagreement("quota", _show(**values), f"Q = {want_q}", f"gave Q = {p.Q}"))
                want_room = want_q * k_max <= room
                wrong = numbers_problem(p.quota_room.numbers, {**env, "Q": p.Q, "R": R, "k_max": k_max})
                if wrong is not None:
                    verdict.add(Disagreement("numbers", _show(**values), "H1's numbers", wrong))
                if p.quota_room.holds != want_room:
                    verdict.add(
                        Disagreement(
                            "quota", _show(**values), f"H1 holds = {want_room}", f"said {p.quota_room.holds}"
                        )
                    )
    verdict.cases["quota"] = n


#: (values, accepted): sizes outside the system model (section 1) and parameters outside their
#: ranges (section 2) are refused; each range's own edge is accepted
DOMAIN: tuple[tuple[dict, bool], ...] = (
    ({"n_a": 0, "t_a": 0, "n_c": 4, "t_c": 0}, False),
    ({"t_a": -1}, False),
    ({"t_a": -1, "T": 3}, False),  # a T given: Q1-Q6 alone would accept it
    ({"t_c": 13, "allow_unsafe": True}, False),  # t_c > n_c: Q5 alone would refuse it, unsafe not
    ({"t_a": 5, "T": 4, "allow_unsafe": True}, False),  # t_a > n_a: past the model, unsafe or not
    ({"t_a": 4, "T": 4, "allow_unsafe": True}, False),  # t_a = n_a: no correct aggregator left
    ({"t_c": -1}, False),
    ({"n_c": 3}, False),  # n_c < n_a: a cluster would be empty
    ({"n_c": 4, "t_c": 0}, True),  # n_c = n_a
    ({"t_c": 12}, False),  # t_c = n_c
    ({"t_c": 12, "allow_unsafe": True}, False),  # t_c = n_c: Q5 alone would refuse it, unsafe not
    ({"t_a": 4, "allow_unsafe": True}, False),  # t_a = n_a
    ({"R": 0}, False),
    ({"R": 1}, True),
    ({"s_max": -1}, False),
    ({"s_max": 0}, True),
    ({"d": 0}, False),
    ({"d": 1}, True),
    ({"shuffle_rounds": 0}, False),
    ({"shuffle_rounds": 1}, True),
    ({"clip": 0.0}, False),
    ({"clip": -1.0}, False),
    ({"clip": 1e-9}, True),
    ({"z": -0.5}, False),
    ({"z": 0.0}, True),
    ({"scale": 0}, False),
    ({"scale": 1}, True),
    ({"T": 0, "allow_unsafe": True}, False),
    ({"T": 5, "allow_unsafe": True}, False),  # T > n_a
    ({"T": 4, "allow_unsafe": True}, True),  # T = n_a: unsafe (Q3) but well formed
    ({"Q": 0}, False),
    ({"Q": 1}, True),
    ({"n_c": 12.0}, False),
    ({"n_c": True}, False),
    ({"R": 4.0}, False),
    ({"q": 2**31 - 1.0}, False),
)


def judge_domain(verdict: SpecVerdict, params_cls) -> None:
    """Out-of-model sizes and out-of-range parameters refused with a ParamsError, the edges accepted."""
    for change, accepted in DOMAIN:
        values = {"n_c": 12, "t_c": 1, "n_a": 4, "t_a": 1, **change}
        got = _outcome(_build(params_cls, values))
        ok = got == "accepted" if accepted else got.startswith("refused")
        if not ok:
            verdict.add(Disagreement("domain", _show(**values), "accepted" if accepted else "refused", got))
    verdict.cases["domain"] = len(DOMAIN)


#: noise multipliers and clip norms the calibration clause judges (sigma = z * C != 1 included: at
#: sigma = 1 every power of sigma is 1, so sigma^2 / m and sigma / m agree)
CALIBRATION = ((0.5, 1.0), (1.0, 1.0), (2.0, 0.5), (1.5, 3.0))


def judge_calibration(verdict: SpecVerdict, params_cls) -> None:
    """Section 2: each client adds noise of variance sigma^2 / m (`Rules.noise_variance`, the rule
    table's calibration), for several sigma and every m of the scope."""
    from asfl.spec.rules import STANDARD

    n = 0
    for n_c, t_c, n_a, t_a in model_sizes():
        for z, clip in CALIBRATION:
            values = {"n_c": n_c, "t_c": t_c, "n_a": n_a, "t_a": t_a, "z": z, "clip": clip}
            p = _build(params_cls, values)
            if _outcome(p) != "accepted":
                continue  # the refusal clause judges which are accepted
            n += 1
            want = (z * clip) ** 2 / p.m
            try:
                got = STANDARD.noise_variance(p)
            except Exception as e:  # noqa: BLE001 - the judged spec's own failure
                got = f"raised {type(e).__name__}"
            if not isinstance(got, float | int) or abs(got - want) > 1e-12 * max(1.0, want):
                verdict.add(
                    Disagreement("calibration", _show(**values), f"sigma^2/m = {want:g}", f"gave {got}")
                )
    verdict.cases["calibration"] = n


#: sizes the assignment clause judges: every one of the scope with n_a <= 4, and large ones (a
#: guard of the shuffle's index_count must not refuse a size the tool accepts, asfl/limits.py)
ASSIGNMENT_ROUNDS = (0, 1)
LARGE_SIZES = ((100, 1, 4, 1), (1000, 1, 10, 3))


def judge_assignment(verdict: SpecVerdict, params_cls) -> None:
    """Section 3: the clusters of a round partition the clients, cluster i holding k_i of them (the
    slices [n_c*i//n_a, n_c*(i+1)//n_a) of the shuffled positions), at every size the tool accepts,
    not only where n_a divides n_c."""
    from asfl.spec.assignment import clusters

    sizes = [s for s in model_sizes() if s[2] <= 4] + list(LARGE_SIZES)
    n = 0
    for n_c, t_c, n_a, t_a in sizes:
        values = {"n_c": n_c, "t_c": t_c, "n_a": n_a, "t_a": t_a, "allow_unsafe": True}
        p = _build(params_cls, values)
        if _outcome(p) != "accepted":
            continue  # the domain and refusal clauses judge which are accepted
        want = slices(n_c, n_a)
        for r in ASSIGNMENT_ROUNDS:
            n += 1
            try:
                got = clusters(p, r)
            except Exception as e:  # noqa: BLE001 - the judged spec's own failure
                verdict.add(
                    Disagreement(
                        "assignment", _show(**values, r=r), "a partition", f"raised {type(e).__name__}: {e}"
                    )
                )
                continue
            members = sorted(c for s in got for c in s)
            sizes_got = tuple(len(s) for s in got)
            if members != list(range(n_c)) or sizes_got != want:
                where = _show(**values, r=r)
                verdict.add(
                    Disagreement(
                        "assignment", where, f"a partition of sizes {want}", f"gave sizes {sizes_got}"
                    )
                )
    verdict.cases["assignment"] = n


def judge_spec_params() -> SpecVerdict:
    """Every clause on the spec this process imports (`asfl --spec DIR quorum` judges DIR's)."""
    from asfl.spec.params import Params

    verdict = SpecVerdict()
    for clause in (
        judge_refusal,
        judge_defaults,
        judge_quota,
        judge_domain,
        judge_calibration,
        judge_assignment,
    ):
        clause(verdict, Params)
    verdict.cases["numbers"] = 6 * verdict.cases["refusal"] + verdict.cases["quota"]
    return verdict
