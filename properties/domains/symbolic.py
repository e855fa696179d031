"""The symbolic value domain: every value is a linear form over named secrets in F_q.

Symbols (tuples, so they sort and encode): ("data", c, r_model), ("noise", c, r_model, variance),
("pad", c, r), ("coef", c, r, k), and ("adv", n) for values the adversary chooses. A client's
x = data + noise, its pad rho and the coefficients a_k of its sharing polynomial are independent
symbols, so "the pads cancel" (P1) and "the adversary learns no linear function of the data outside
the allowed sums" (P3) become exact linear algebra (`Echelon`), not sampling.

Scalar forms (d = 1) suffice: every operation of the protocol acts coordinate by coordinate with
the same public coefficients, so the view of each coordinate is an independent copy of the same
linear system; a linear function of the data leaks in d dimensions iff it leaks in one.

A noise symbol carries its variance, so P7 (noise floor) is an exact sum over the noise symbols of
an aggregate. Models are the tuple of (aggregate, count) steps that built them from genesis, so
"the honest average of certified results" (P4) is an equality of forms.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence

from asfl.spec.domain import Label
from asfl.spec.params import Params

Sym = tuple  # a symbol name, see the module docstring

#: kinds of symbol the adversary does not know and cannot learn directly: the one-time randomness
RANDOM_KINDS = frozenset({"pad", "coef"})
#: kinds the adversary knows (its own choices): eliminated with the randomness in the view
KNOWN_KINDS = frozenset({"adv"})
#: kinds that make up a client's secret x
SECRET_KINDS = frozenset({"data", "noise"})


class Form:
    """An immutable linear form sum_k coef_k * sym_k over F_q (no constant term: the protocol has
    none; an adversary's constant is an ("adv", n) symbol)."""

    __slots__ = ("terms", "_hash")

    def __init__(self, terms: Iterable[tuple[Sym, int]] = ()) -> None:
        self.terms: tuple[tuple[Sym, int], ...] = tuple(sorted((s, c) for s, c in terms if c))
        self._hash: int | None = None

    @classmethod
    def of(cls, mapping: Mapping[Sym, int]) -> Form:
        return cls(mapping.items())

    @classmethod
    def symbol(cls, sym: Sym) -> Form:
        return cls(((sym, 1),))

    def as_dict(self) -> dict[Sym, int]:
        return dict(self.terms)

    def symbols(self) -> Iterator[Sym]:
        return (s for s, _ in self.terms)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Form) and self.terms == other.terms

    def __lt__(self, other: Form) -> bool:
        return self.terms < other.terms

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.terms)
        return self._hash

    def __reduce__(self) -> tuple:
        """Pickled without its cached hash, which is only valid in the process that computed it
        (string hashes are randomised per process: a form from a Ray worker would not be found in a
        set of the driver's)."""
        return (Form, (self.terms,))

    def __repr__(self) -> str:
        if not self.terms:
            return "0"
        return " + ".join(
            f"{c}*{'.'.join(map(str, s))}" if c != 1 else ".".join(map(str, s)) for s, c in self.terms
        )


def combine(q: int, parts: Iterable[tuple[Form, int]]) -> Form:
    """sum_k scale_k * form_k in F_q."""
    acc: dict[Sym, int] = {}
    for form, k in parts:
        for s, c in form.terms:
            acc[s] = (acc.get(s, 0) + c * k) % q
    return Form(acc.items())


class SymbolicDomain:
    """The spec's `Domain` interface over linear forms (scalar: see the module docstring)."""

    name = "symbolic"

    def __init__(self, params: Params, seed: int = 0) -> None:
        self.params = params
        self.q = params.q
        self.seed = seed

    def zero(self) -> Form:
        return Form()

    def add(self, a: Form, b: Form) -> Form:
        return combine(self.q, ((a, 1), (b, 1)))

    def sub(self, a: Form, b: Form) -> Form:
        return combine(self.q, ((a, 1), (b, -1)))

    def scale(self, a: Form, k: int) -> Form:
        return combine(self.q, ((a, k),))

    def linear_combination(self, parts: Sequence[tuple[Form, int]]) -> Form:
        return combine(self.q, parts)

    def draw(self, label: Label) -> Form:
        if label.kind == "coef":
            return Form.symbol(("coef", label.party, label.round, label.index))
        return Form.symbol((label.kind, label.party, label.round))

    def data(self, c: int, r_model: int, model: object) -> Form:
        return Form.symbol(("data", c, r_model))

    def noise(self, c: int, r_model: int, variance: float) -> Form:
        return Form.symbol(("noise", c, r_model, float(variance)))

    def equal(self, a: Form, b: Form) -> bool:
        return a == b

    def digest(self, a: Form) -> Hashable:
        # the form itself: hash(agg) names exactly one aggregate
        return a

    def genesis_model(self) -> tuple:
        return ()

    def apply_update(self, w: tuple, total: Form, count: int) -> tuple:
        return w + ((total, count),)

    def model_digest(self, w: tuple) -> Hashable:
        return w


def noise_variance(form: Form) -> float:
    """The noise variance a sum of contributions carries: the sum of its noise symbols' variances
    (each contribution enters a sum with coefficient 1)."""
    return sum(float(s[3]) for s, _ in form.terms if s[0] == "noise")


def secret_part(form: Form) -> Form:
    """The part of a form over client secrets (data and noise)."""
    return Form((s, c) for s, c in form.terms if s[0] in SECRET_KINDS)


class Echelon:
    """A basis of a subspace of linear forms, fully reduced, grown one form at a time.

    Pivots are chosen among the "eliminable" symbols (randomness and the adversary's own values)
    before any secret symbol. So the rows whose pivot is a secret symbol contain no eliminable
    symbol, and they span exactly the subspace of pure functions of the secrets in the view:
    what the view reveals (P3).
    """

    def __init__(self, q: int, eliminable: frozenset[str] = RANDOM_KINDS | KNOWN_KINDS) -> None:
        self.q = q
        self.eliminable = eliminable
        self.rows: dict[Sym, dict[Sym, int]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def reduce(self, form: Form | Mapping[Sym, int]) -> dict[Sym, int]:
        """The remainder of `form` modulo the basis (empty iff it lies in the span)."""
        q = self.q
        v = dict(form.terms) if isinstance(form, Form) else dict(form)
        for p in [s for s in v if s in self.rows]:
            k = v.get(p, 0)
            if not k:
                continue
            for s, c in self.rows[p].items():
                nv = (v.get(s, 0) - k * c) % q
                if nv:
                    v[s] = nv
                else:
                    v.pop(s, None)
        return v

    def add(self, form: Form) -> bool:
        """Insert `form`; True iff it was independent of the basis."""
        v = self.reduce(form)
        if not v:
            return False
        q = self.q
        random_syms = [s for s in v if s[0] in self.eliminable]
        pivot = min(random_syms) if random_syms else min(v)
        inv = pow(v[pivot], -1, q)
        row = {s: c * inv % q for s, c in v.items()}
        for other in self.rows.values():
            k = other.get(pivot)
            if k:
                for s, c in row.items():
                    nv = (other.get(s, 0) - k * c) % q
                    if nv:
                        other[s] = nv
                    else:
                        other.pop(s, None)
        self.rows[pivot] = row
        return True

    def contains(self, form: Form) -> bool:
        return not self.reduce(form)

    def revealed(self) -> list[dict[Sym, int]]:
        """Rows that are pure functions of the secrets: a basis of what the view reveals."""
        return [row for p, row in self.rows.items() if p[0] not in self.eliminable]
