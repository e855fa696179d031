"""The facts of a run, computed from its worlds: what the one property suite judges (judge/suite.py).

Every driver produces worlds; the suite never reads a driver. A run's facts come from two places:

  the world     (every driver: search, exhaustive explorer, simulator) what one state holds: the
                results correct aggregators certified (their `certified`), the contributions held
                by correct coordinators or seen by the coalition, and the coalition's knowledge of
                pads, read from its view, which the world keeps (`world.coalition_inbox`). From the
                knowledge: the sets whose pad sum the coalition can reconstruct (T points know it).
  the history   (a driver that follows one path: the search, judge/monitor.py) what the path did
                that no single state keeps: each contribution as it left its client, the share-sums
                correct aggregators sent, every MODEL a client accepted (with its proof), the peak
                release counts, and the adversary's view as symbolic forms (P3's exact rank check).

`run_facts` builds the facts of a run from its monitor and last world; `state_facts` builds them
from one state, for a driver whose states are merged across paths (BFS): there, a model a party
holds is judged by the honest models the certified results allow (no proof is kept in a state), the
unmaskable sets are what T endorsements or the coalition's knowledge give, and the release counts
are the state's own. Either way, thresholds are the protocol's (`Params`: t_a + 1 certificates,
n_a - t_a clusters, T, m, Q), never the rule table under test: a broken variant is judged by the
standard it breaks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations, product

from asfl.properties.domains.symbolic import Echelon, Form
from asfl.properties.judge.monitor import Monitor, Sent, values_in
from asfl.spec.domain import Label
from asfl.spec.messages import CertifiedResult, Cluster, Contrib, ShareSum, UnmaskReq
from asfl.spec.world import ResultKey, World

Slot = tuple[int, int]  # (round, cluster)


def holds_certificate(world: World, correct_signers: Iterable[int]) -> bool:
    """Whether a cluster result certified by `correct_signers` holds a certificate by the protocol's
    number (Q6: t_a + 1 CERTIFY signatures, `Params.certificate_size`), counting the coalition's
    signatures as given (it signs anything). Judged here, not by `spec.world.holds_certificate`
    (which the simulator reports by): the judge is the baseline's, and a changed world.py must not
    change which results the properties judge (issue 13: a stricter `>` survived as a weaker judge)."""
    signers = frozenset(correct_signers)
    return bool(signers) and len(signers) + len(world.byzantine) >= world.params.certificate_size


def state_certified_by(world: World) -> dict[ResultKey, frozenset[int]]:
    """Every cluster result some correct aggregator certified, read from their states (the
    explorer's facts), with the correct aggregators that did: judged here for the same reason."""
    out: dict[ResultKey, set[int]] = {}
    for a in world.aggregators:
        if a is not None:
            for key in a.certified:
                out.setdefault(key, set()).add(a.j)
    return {key: frozenset(signers) for key, signers in out.items()}


@dataclass(frozen=True)
class Accepted:
    """A model a correct party accepted: who (a client, or an aggregator in a state), at which step
    (-1 in a state), the round and w, and the proof it came with when the history kept it."""

    step: int
    party: str  # "client" or "aggregator"
    index: int
    r: int
    w: object
    proof: tuple[tuple[CertifiedResult, ...], ...] | None


@dataclass
class Facts:
    """What the properties read. `revealed` is the adversary's view as a basis of linear functions
    of client secrets (empty when the values are not symbolic or no history was kept)."""

    world: World
    certified_by: Mapping[ResultKey, set[int]]  # result -> the correct aggregators that certified it
    contributions: Mapping[tuple[int, int], Sent]  # (round, client) -> the contribution
    #: sets T endorsements (share-sums) or a certificate make unmaskable; `unmaskable` adds the
    #: sets the coalition's view alone reconstructs
    endorsed: Mapping[Slot, set[frozenset[int]]]
    accepted: Sequence[Accepted]
    max_released: Mapping[int, int]  # client -> the highest release count it reached
    revealed: Callable[[], list[dict]]
    #: (client, round) -> result -> correct aggregators whose CERTIFY of it reached the client while
    #: its contribution was outstanding (a history keeps it; empty for a state)
    certifies_to: Mapping[tuple[int, int], Mapping[ResultKey, set[int]]] = field(default_factory=dict)
    #: the view's rank, when a history kept it (the search aims at it)
    view_rank: int = 0
    #: the values are symbolic forms and a history kept the view: P3 can be judged exactly
    symbolic: bool = False
    _certified: dict[ResultKey, set[int]] | None = field(default=None, init=False, repr=False)
    _unmaskable: dict[Slot, set[frozenset[int]]] | None = field(default=None, init=False, repr=False)
    _reconstructible: dict[Slot, tuple[frozenset[int], ...]] | None = field(
        default=None, init=False, repr=False
    )

    @property
    def params(self):
        return self.world.params

    @property
    def certified(self) -> dict[ResultKey, set[int]]:
        """Results certified by the protocol's rule (Q6, `holds_certificate`): t_a + 1 CERTIFY
        signatures, the coalition's counted as given (it signs anything)."""
        if self._certified is None:
            world = self.world
            self._certified = {k: v for k, v in self.certified_by.items() if holds_certificate(world, v)}
        return self._certified

    @property
    def unmaskable(self) -> dict[Slot, set[frozenset[int]]]:
        """(round, cluster) -> every set the coalition can unmask, whether or not it publishes it:
        endorsed by T (or certified), or reconstructed from its view alone. Read only."""
        if self._unmaskable is None:
            out = {key: set(sets) for key, sets in self.endorsed.items()}
            for key, sets in self.reconstructible.items():
                out.setdefault(key, set()).update(sets)
            self._unmaskable = out
        return self._unmaskable

    @property
    def reconstructible(self) -> dict[Slot, tuple[frozenset[int], ...]]:
        """(round, cluster) -> the sets whose pad sum the coalition can reconstruct from its view."""
        if self._reconstructible is None:
            self._reconstructible = reconstructible_sets(self.world)
        return self._reconstructible

    def set_sum(self, r: int, members: Iterable[int]) -> object | None:
        """sum_{c in S} x_c for round r, or None when a member's contribution is unknown."""
        domain = self.world.domain
        total = domain.zero()
        for c in sorted(members):
            sent = self.contributions.get((r, c))
            if sent is None:
                return None
            total = domain.add(total, sent.x)
        return total

    def allowed(self, r: int, i: int, members: frozenset[int]) -> bool:
        """P2/P3: a set of round r, cluster i may be released iff it is a subset of S_i^r with >= m."""
        return members <= self.world.ctx.clusters(r)[i] and len(members) >= self.params.m


def _aggregator_models(world: World) -> list[Accepted]:
    """The model each correct aggregator computed, with its proof (P4 judges a correct party's
    model, whoever computed it): the same in a path's facts and in a state's (one judgement)."""
    return [
        Accepted(-1, "aggregator", a.j, a.model_round, a.model, a.proof)
        for a in world.aggregators
        if a is not None and a.model_round > 0
    ]


# -- facts of a path (the search) ----------------------------------------------------------------
def run_facts(world: World, monitor: Monitor) -> Facts:
    """The facts of a run the monitor followed to `world`: the history's, with what the world adds."""
    T = world.params.T
    nbyz = len(world.byzantine)
    facts = Facts(
        world=world,
        # the order results were certified in along the path: the first violation named is the
        # same in every process (a state's certified set iterates by hash)
        certified_by=monitor.certified_by,
        contributions=monitor.contributions,
        endorsed={},
        accepted=[Accepted(step, "client", c, msg.r, msg.w, msg.proof) for step, c, msg in monitor.accepted]
        + _aggregator_models(world),
        max_released=monitor.max_released,
        revealed=monitor.revealed,
        certifies_to=monitor.certifies_to,
        view_rank=len(monitor.view.rows),
        symbolic=isinstance(world.domain.zero(), Form),
    )
    # T share-sums (the coalition's own and the correct aggregators' endorsements), or a
    # certificate: unmaskable whether or not the set was ever published
    endorsed: dict[Slot, set[frozenset[int]]] = defaultdict(set)
    for (r, i, members), senders in monitor.share_sums.items():
        if len(senders) + nbyz >= T:
            endorsed[(r, i)].add(members)
    for r, i, members, _agg in facts.certified:
        endorsed[(r, i)].add(members)
    facts.endorsed = dict(endorsed)
    return facts


# -- facts of one state (the exhaustive explorer) ------------------------------------------------
def state_facts(world: World) -> Facts:
    """The facts one state holds (no history: the explorer merges states across paths)."""
    contributions = {
        key: Sent(c.r, c.c, c.r_model, secret_value(world, c), _carries_data(world, c))
        for key, c in held_contributions(world).items()
    }
    accepted = [
        Accepted(-1, "client", st.c, st.model_round, st.model, None)
        for st in world.clients
        if st.c not in world.crashed and st.model_round > 0
    ] + _aggregator_models(world)
    facts = Facts(
        world=world,
        certified_by=state_certified_by(world),
        contributions=contributions,
        endorsed={},
        accepted=accepted,
        max_released={st.c: st.released for st in world.clients},
        revealed=list,
    )
    if isinstance(world.domain.zero(), Form):
        view = coalition_view(world)
        facts.revealed, facts.view_rank, facts.symbolic = view.revealed, len(view.rows), True
    facts.endorsed = _endorsed_sets(world)
    return facts


def coalition_view(world: World) -> Echelon:
    """The adversary's view as the world keeps it (P3), in echelon form: every value readable in
    the messages delivered to the coalition (`world.coalition_inbox`, with only its own sealed
    shares), and the public outputs of the correct aggregators: the aggregates they certified, the
    results of their proofs and their models. The inbox only grows along a path, so its part is
    kept and extended (the views of the last few paths)."""
    inbox = world.coalition_inbox
    cached = next((c for c in _VIEWS if c[0] is world.ctx and _extends(inbox, c[1])), None)
    if cached is None:
        cached = (world.ctx, (), Echelon(world.params.q), set())
        _VIEWS.insert(0, cached)
        del _VIEWS[4:]
    _ctx, seen_inbox, base, forms = cached
    for env in inbox[len(seen_inbox) :]:
        for v in values_in(env.msg, world.byzantine):
            if isinstance(v, Form) and v.terms and v not in forms:
                forms.add(v)
                base.add(v)
    _VIEWS[_VIEWS.index(cached)] = (world.ctx, inbox, base, forms)
    public: set[Form] = set()
    for a in world.aggregators:
        if a is not None:
            public.update(digest for (_r, _i, _s, digest) in a.certified)
            public.update(res.agg for results in a.proof for res in results)
            if isinstance(a.model, tuple):
                public.update(total for total, _count in a.model)
    public = {v for v in public if isinstance(v, Form) and v.terms and v not in forms}
    # consecutive states of a path mostly share their inbox and public outputs: one view serves them
    key = (inbox, frozenset(public))
    if _LAST_VIEW and _LAST_VIEW[0][0] is inbox and _LAST_VIEW[0][1] == key[1]:
        return _LAST_VIEW[0][2]
    view = Echelon(world.params.q)
    view.rows = {p: dict(row) for p, row in base.rows.items()}
    for v in sorted(public):
        view.add(v)
    _LAST_VIEW[:] = [(inbox, key[1], view)]
    return view


_LAST_VIEW: list[tuple[tuple, frozenset, Echelon]] = []
_VIEWS: list[tuple[object, tuple, Echelon, set]] = []


def _extends(inbox: tuple, prefix: tuple) -> bool:
    """Whether `inbox` is `prefix` and more (envelopes compared by identity: a path's worlds share them)."""
    return len(inbox) >= len(prefix) and (not prefix or inbox[len(prefix) - 1] is prefix[-1])


def held_contributions(world: World) -> dict[tuple[int, int], Contrib]:
    """(round, client) -> its contribution, as held by correct coordinators or seen by the coalition."""
    out: dict[tuple[int, int], Contrib] = {}
    for a in world.aggregators:
        if a is not None:
            for held in a.held.values():
                for contrib in held.values():
                    out[(contrib.r, contrib.c)] = contrib
    for env in world.coalition_inbox:
        for contrib in _contribs_in(env.msg):
            out[(contrib.r, contrib.c)] = contrib
    return out


def _contribs_in(msg: object) -> tuple[Contrib, ...]:
    if isinstance(msg, Contrib):
        return (msg,)
    if isinstance(msg, UnmaskReq | Cluster):
        return msg.contribs
    return ()


def secret_value(world: World, contrib: Contrib) -> object:
    """x = y - rho: the value the client masked (section 4; rho is the draw ("pad", c, r))."""
    domain = world.domain
    return domain.sub(contrib.y, domain.draw(Label("pad", contrib.c, contrib.r)))


def _carries_data(world: World, contrib: Contrib) -> bool:
    """Whether a contribution carries data (I2): its x is not the client's noise alone."""
    noise = world.domain.noise(contrib.c, contrib.r_model, world.rules.noise_variance(world.params))
    return not world.domain.equal(secret_value(world, contrib), noise)


def _endorsed_sets(world: World) -> dict[Slot, set[frozenset[int]]]:
    """Sets T share-sums make unmaskable: the correct aggregators that released their share-sum of
    the set they endorsed (on REVEAL, or at once when the rule table reveals at once), with the
    coalition's own share-sums (as a path's facts count them, `run_facts`). A share-sum a correct
    aggregator sent is counted from its sending on, as the path does: it is in flight or in the
    coalition's inbox, even where a broken rule table let the sender endorse another set since."""
    T = world.params.T
    assert T is not None
    at_once = world.rules.reveal_quorum(world.params) == 0
    senders: dict[tuple[int, int, frozenset[int]], set[int]] = defaultdict(set)
    for j, a in enumerate(world.aggregators):
        if a is not None:
            for (r, i), members in a.endorsed.items():
                if at_once or (r, i) in a.revealed:
                    senders[(r, i, members)].add(j)
    for env in (*world.in_flight, *world.coalition_inbox):
        msg = env.msg
        if isinstance(msg, ShareSum) and env.src.role == "a" and env.src.index not in world.byzantine:
            senders[(msg.r, msg.i, msg.members)].add(msg.sender)
    out: dict[Slot, set[frozenset[int]]] = {}
    for (r, i, members), who in senders.items():
        if len(who) + len(world.byzantine) >= T:
            out.setdefault((r, i), set()).add(members)
    return out


# -- the coalition's knowledge of pads (P3, P6, P7), read from its view in the world -------------
_Q = 2**31 - 1


def _reduce(rows: list[list[int]]) -> int:
    """Gauss-Jordan elimination over F_q (q = 2^31 - 1) of small integer rows, in place, columns
    left to right; returns the rank, the first `rank` rows then being the reduced basis."""
    rank, cols = 0, len(rows[0]) if rows else 0
    for col in range(cols):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][col] % _Q), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        inv = pow(rows[rank][col], -1, _Q)
        rows[rank] = [v * inv % _Q for v in rows[rank]]
        for i in range(len(rows)):
            if i != rank and rows[i][col] % _Q:
                f = rows[i][col]
                rows[i] = [(a - f * b) % _Q for a, b in zip(rows[i], rows[rank], strict=True)]
        rank += 1
    return rank


def _rank(rows: list[tuple[int, ...]]) -> int:
    """Rank over F_q of small integer rows."""
    return _reduce([list(r) for r in rows])


def _in_span(rows: list[tuple[int, ...]], target: tuple[int, ...]) -> bool:
    return bool(rows) and _rank(rows) == _rank(rows + [target])


@lru_cache(maxsize=1 << 14)
def _reconstructible(
    members: tuple[int, ...], knowledge: frozenset[tuple[int, frozenset[int]]], threshold: int
) -> tuple[frozenset[int], ...]:
    """Non-empty subsets S of a cluster whose pad sum at least `threshold` points know."""
    points: dict[int, list[tuple[int, ...]]] = {}
    for point, subset in knowledge:
        points.setdefault(point, []).append(tuple(1 if c in subset else 0 for c in members))
    out = []
    for size in range(1, len(members) + 1):
        for subset in combinations(members, size):
            target = tuple(1 if c in subset else 0 for c in members)
            known = sum(1 for rows in points.values() if _in_span(rows, target))
            if known >= threshold:
                out.append(frozenset(subset))
    return tuple(out)


def coalition_knowledge(world: World) -> dict[Slot, set[tuple[int, frozenset[int]]]]:
    """(round, cluster) -> {(point j, S)}: the coalition knows j's share-sum of the pads of S: the
    shares sealed to its members in every contribution it saw, and the share-sums it received."""
    ctx = world.ctx
    out: dict[Slot, set[tuple[int, frozenset[int]]]] = {}
    for env in world.coalition_inbox:
        msg = env.msg
        for contrib in _contribs_in(msg):
            i = ctx.cluster_of(contrib.r, contrib.c)
            for b in world.byzantine:
                out.setdefault((contrib.r, i), set()).add((b, frozenset({contrib.c})))
        sums: tuple[ShareSum, ...] = ()
        if isinstance(msg, ShareSum):
            sums = (msg,)
        elif isinstance(msg, Cluster):
            sums = msg.sums
        for s in sums:
            out.setdefault((s.r, s.i), set()).add((s.sender, s.members))
    return out


def reconstructible_sets(world: World) -> dict[Slot, tuple[frozenset[int], ...]]:
    """(round, cluster) -> the sets whose pad sum the coalition can reconstruct (T points, Shamir
    of degree T-1)."""
    T = world.params.T
    assert T is not None
    out = {}
    for (r, i), knowledge in coalition_knowledge(world).items():
        if not 0 <= r < world.params.R or not 0 <= i < world.params.n_a:
            continue  # a message of no real (round, cluster): it names no cluster's pads
        members = tuple(sorted(world.ctx.clusters(r)[i]))
        sets = _reconstructible(members, frozenset(knowledge), T)
        if sets:
            out[(r, i)] = sets
    return out


@lru_cache(maxsize=1 << 14)
def _revealed_pads(
    members: tuple[int, ...], knowledge: frozenset[tuple[int, frozenset[int]]], threshold: int
) -> tuple[tuple[int, ...], ...]:
    """A basis (rows over `members`) of the combinations of the members' pads the coalition's
    knowledge determines. Each known (point j, S) is sum_{c in S} p_c(j + 1), a linear form in the
    unknowns of the members' sharing polynomials (pad and T - 1 coefficients each, Shamir of
    degree T - 1); the pads alone that the span of those forms pins down are the rows it reveals
    free of coefficients, found by elimination with the coefficients first."""
    degree = max(threshold, 1)
    n = len(members)
    index = {c: k for k, c in enumerate(members)}
    # columns: the coefficients of every member (eliminated first), then the pads
    coef_cols = n * (degree - 1)
    rows: list[list[int]] = []
    for point, subset in sorted(knowledge, key=lambda kv: (kv[0], sorted(kv[1]))):
        row = [0] * (coef_cols + n)
        for c in subset:
            if c not in index:
                continue  # a contribution of another cluster names no pad of this one
            k = index[c]
            row[coef_cols + k] = 1
            for e in range(1, degree):
                row[k * (degree - 1) + e - 1] = pow(point + 1, e, _Q)
        rows.append(row)
    # elimination, coefficient columns first: rows left with no coefficient reveal pads
    pivots = _reduce(rows)
    return tuple(tuple(row[coef_cols:]) for row in rows[:pivots] if not any(v % _Q for v in row[:coef_cols]))


def revealed_pads(world: World) -> dict[Slot, tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]]:
    """(round, cluster) -> (its members, a basis of the pad combinations the coalition's view
    determines): P3 on values that are not symbolic (the explorer's), where a pad combination
    learned is a combination of the members' x learned from their masked values."""
    T = world.params.T
    assert T is not None
    out = {}
    for (r, i), knowledge in coalition_knowledge(world).items():
        if not 0 <= r < world.params.R or not 0 <= i < world.params.n_a:
            continue
        members = tuple(sorted(world.ctx.clusters(r)[i]))
        basis = _revealed_pads(members, frozenset(knowledge), T)
        if basis:
            out[(r, i)] = (members, basis)
    return out


# -- honest models (P4, for a model held without its proof) ---------------------------------------
def honest_models(facts: Facts) -> dict[int, set[object]]:
    """Round -> every model an honest averager could compute from the certified results: for every
    round, the true sums of n_a - t_a distinct clusters' certified sets (PROTOCOL.md's number,
    whatever the rule table's averaging quorum)."""
    world = facts.world
    results = []
    for r, i, members, _ in facts.certified:
        total = facts.set_sum(r, members)
        if total is not None:
            results.append((r, i, total, len(members)))
    quorum = world.params.progress_quorum
    key = (id(world.domain), world.params.R, quorum, frozenset(results))
    cached = _HONEST.get(key)
    if cached is None:
        cached = _honest_models(world, results, quorum)
        if len(_HONEST) > 1 << 14:
            _HONEST.clear()
        _HONEST[key] = cached
    return cached


_HONEST: dict[tuple, dict[int, set[object]]] = {}


def _honest_models(
    world: World, results: list[tuple[int, int, object, int]], quorum: int
) -> dict[int, set[object]]:
    domain = world.domain
    per_round: dict[int, dict[int, list[tuple[object, int]]]] = {}
    for r, i, total, n in results:
        per_round.setdefault(r, {}).setdefault(i, []).append((total, n))
    models: dict[int, set[object]] = {0: {domain.genesis_model()}}
    for r in range(world.params.R):
        clusters = per_round.get(r, {})
        nxt: set[object] = set()
        for chosen in combinations(sorted(clusters), quorum):
            for picked in product(*(clusters[i] for i in chosen)):
                total = domain.zero()
                for agg, _ in picked:
                    total = domain.add(total, agg)
                count = sum(n for _, n in picked)
                nxt |= {domain.apply_update(w, total, count) for w in models[r]}
        if not nxt:
            break
        models[r + 1] = nxt
    return models
