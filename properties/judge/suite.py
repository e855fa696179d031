"""The properties P1-P9 of PROTOCOL.md section 7, each a named function over a run: the only place a
property is decided, for every driver.

A `Run` is the last world of a run, the monitor that followed its path (the search; None for one
state of the exhaustive explorer, judged on what it holds alone), and where the fair phase began
(liveness is judged only after faults stop and delivery is fair: P5, P6, P9). The properties read
the run's facts (judge/facts.py), computed once per run from its worlds. Each property returns
None when it holds and a `Violation` (a one-line reason) when it does not.
Thresholds are the protocol's own (t_a + 1 certificates, n_a - t_a clusters, m, T, Q, sigma^2),
taken from the parameters, never from the rule table under test: a broken variant is judged by
the standard it breaks.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from asfl.properties.domains.symbolic import Echelon, Form, noise_variance, secret_part
from asfl.properties.judge.facts import Facts, honest_models, revealed_pads, run_facts, state_facts
from asfl.properties.judge.monitor import Monitor
from asfl.spec.assignment import clusters
from asfl.spec.params import QUOTA_SLACK
from asfl.spec.world import World, finished

#: relative tolerance on variances (floats of sigma^2/m summed m times)
_EPS = 1e-9
#: at most this many choices of one set per (round, cluster) are tried for P3
MAX_CHOICES = 4096


@dataclass(frozen=True)
class Violation:
    prop: str
    reason: str

    def __str__(self) -> str:
        return f"{self.prop}: {self.reason}"


@dataclass
class Run:
    """One run, or one state, to judge: its last world, the monitor that followed its path (None
    for a state of the exhaustive explorer, judged on what it holds alone), and its liveness phase.

    `fair_from` is the step at which faults stopped and delivery became fair (FIFO), or None when
    the run has no complete fair phase (a safety trace cut at its violation); `stuck` says the
    fair phase ended with nothing left to do, `bound_hit` that it ran out of steps."""

    world: World
    monitor: Monitor | None = None
    fair_from: int | None = None
    stuck: bool = False
    bound_hit: bool = False
    #: the lowest round a correct aggregator had completed when the fair phase began
    fair_start_round: int = 0
    #: the victims of a persistent coordinator (adversaries/persistent.py `targets`: the censor's
    #: targets, the late censor's prey, the members an equivocator left out), judged by `censor_exempt`
    censored: frozenset[int] = frozenset()
    #: the coalition sent nothing in the whole run (t_a silent aggregators): P9 is judged on it
    silent: bool = False
    #: the facts, once computed (a run's world and monitor do not change once it is judged)
    _facts: Facts | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def params(self):
        return self.world.params

    @property
    def facts(self) -> Facts:
        """What the properties read (judge/facts.py): from the path when a monitor followed it, else
        from the state alone."""
        if self._facts is None:
            self._facts = (
                state_facts(self.world) if self.monitor is None else run_facts(self.world, self.monitor)
            )
        return self._facts

    @property
    def fair_complete(self) -> bool:
        return self.fair_from is not None and (self.stuck or self.bound_hit or finished(self.world))


# -- shared derivations -------------------------------------------------------------------------
def certified_results(run: Run) -> dict[tuple, set[int]]:
    """Results certified by the protocol's rule: t_a + 1 CERTIFY signatures (`Facts.certified`)."""
    return run.facts.certified


def unmaskable_sets(run: Run) -> Mapping[tuple[int, int], set[frozenset[int]]]:
    """Per (round, cluster), every set the coalition can unmask, whether or not it ever publishes
    it (`Facts.unmaskable`): read only."""
    return run.facts.unmaskable


# -- the properties -----------------------------------------------------------------------------
def p1_mask_correctness(run: Run) -> Violation | None:
    """P1 mask correctness: every certified agg equals sum_{c in S} x_c exactly in F_q (the pads
    cancel). Checked on every aggregate a correct aggregator recomputed and CERTIFIED (a sum whose
    members' contributions the facts do not hold is not judged: a state may have dropped them)."""
    facts = run.facts
    digest = run.world.domain.digest
    for r, i, members, agg in facts.certified_by:
        expected = facts.set_sum(r, members)
        if expected is not None and digest(expected) != agg:
            return Violation(
                "P1", f"certified agg of ({r}, {i}) S={sorted(members)} is {agg}, not sum x = {expected}"
            )
    return None


def p2_set_uniqueness(run: Run) -> Violation | None:
    """P2 set uniqueness: at most one certified set per (round, cluster); each is a subset of the
    cluster with at least m members."""
    facts = run.facts
    sets: dict[tuple[int, int], set[frozenset[int]]] = defaultdict(set)
    for r, i, members, _agg in facts.certified:
        if not facts.allowed(r, i, members):
            return Violation("P2", f"certified set {sorted(members)} of ({r}, {i}) is not allowed")
        sets[(r, i)].add(members)
    for (r, i), found in sorted(sets.items()):
        if len(found) > 1:
            return Violation(
                "P2", f"({r}, {i}) has {len(found)} certified sets: {sorted(map(sorted, found))}"
            )
    return None


def p3_confidentiality(run: Run) -> Violation | None:
    """P3 confidentiality: the adversary learns nothing of client data outside the sums of ONE set
    per (round, cluster), of at least m members, whichever it chose, published or not. Judged on
    the best evidence the facts hold of the coalition's view:
      exact       (symbolic values, a path's view) the view's rows free of pads, coefficients and
                  the adversary's own values must lie in the span of one allowed set's sum per
                  (round, cluster), for some choice of those sets;
      structural  (values that are numbers, as in the explorer's tiny domain: no row to reduce) the
                  coalition never holds T points' knowledge of the pads of two sets of one (round,
                  cluster), nor of a set smaller than m. An over-approximation: two sets of one
                  slot may reveal only allowed sums (a member's value carried over and released in
                  its next round), which the exact check accepts."""
    return _p3_exact(run) if run.facts.symbolic else _p3_structural(run)


def _p3_exact(run: Run) -> Violation | None:
    facts = run.facts
    revealed = facts.revealed()
    if not revealed:
        return None
    q = run.params.q
    groups = []
    for (r, i), found in sorted(facts.unmaskable.items()):
        options = []
        for members in sorted(found, key=sorted):
            s = facts.set_sum(r, members) if facts.allowed(r, i, members) else None
            if s is not None:
                options.append(secret_part(s))
        if options:
            groups.append(options)
    base = Echelon(q, frozenset())
    multi = []
    for options in groups:
        if len(options) == 1:
            base.add(options[0])
        else:
            multi.append(options)
    tried = 0
    for choice in itertools.product(*multi):
        tried += 1
        if tried > MAX_CHOICES:
            break
        basis = Echelon(q, frozenset())
        basis.rows = {p: dict(row) for p, row in base.rows.items()}
        for form in choice:
            basis.add(form)
        if all(basis.contains(Form(row.items())) for row in revealed):
            return None
    leak = next(
        (Form(row.items()) for row in revealed if not base.contains(Form(row.items()))),
        Form(revealed[0].items()),
    )
    return Violation("P3", f"the adversary learns {leak}, outside the span of one allowed set per cluster")


def _p3_structural(run: Run) -> Violation | None:
    """P3 on values that are numbers: per (round, cluster), the pad combinations the coalition's
    knowledge determines (`facts.revealed_pads`) must span at most one allowed set's sum: one row,
    proportional to the indicator of a set of at least m members."""
    m = run.params.m
    for (r, i), (members, basis) in sorted(revealed_pads(run.world).items()):
        if len(basis) > 1:
            return Violation(
                "P3",
                f"the coalition can reconstruct the pads of two sets or more of ({r}, {i}) "
                f"({len(basis)} independent pad sums over members {list(members)})",
            )
        row = basis[0]
        lead = next(v for v in row if v)
        support = [c for c, v in zip(members, row, strict=True) if v]
        if any(v != lead for v in row if v) or len(support) < m:
            return Violation(
                "P3",
                f"the coalition can reconstruct a pad combination of ({r}, {i}) over {support} "
                f"that is no allowed set's sum (m={m})",
            )
    return None


def p4_integrity(run: Run) -> Violation | None:
    """P4 integrity: every model a correct party accepted (a client) or computed (an aggregator, its
    last model with its proof) is the honest average of certified cluster results. With its
    proof (a history keeps the MODEL): each round averages n_a - t_a
    distinct clusters, each result certified by t_a + 1 signatures of which the correct aggregators
    really recomputed that agg, and w is their average from genesis. Without it (a state keeps w
    only): w is one of the models an honest averager could build from the certified results' true
    sums."""
    facts = run.facts
    for acc in facts.accepted:
        if acc.proof is None:
            v = _p4_honest(facts, acc)
        else:
            v = _p4_proof(facts, acc)
        if v is not None:
            return v
    return _p4_rollback(facts)


def _p4_rollback(facts: Facts) -> Violation | None:
    """P4 also judges which honest model a correct client holds: step 1 accepts a MODEL only when
    its round "is newer than its own", so a correct client's accepted models have strictly rising
    rounds. A model of the client's round or older, honest as it may be, replayed or late from a
    lagging aggregator, must not replace the newer one it holds (a rollback; the client would then
    train on, and contribute to, a round it has left). Judged along a path (the monitor's accepted
    MODELs in step order); a state keeps one model per client, so there it holds trivially."""
    last: dict[int, tuple[int, int]] = {}
    for acc in facts.accepted:
        if acc.party != "client" or acc.step < 0:
            continue
        before = last.get(acc.index)
        if before is not None and acc.r <= before[0]:
            return Violation(
                "P4",
                f"client {acc.index} accepted a model of round {acc.r} (step {acc.step}) after "
                f"one of round {before[0]} (step {before[1]}): not newer (step 1)",
            )
        last[acc.index] = (acc.r, acc.step)
    return None


def _p4_proof(facts: Facts, acc) -> Violation | None:
    params, domain = facts.params, facts.world.domain
    certified = facts.certified
    who = f"{acc.party} {acc.index} {'accepted' if acc.party == 'client' else 'computed'}"
    if acc.party == "client" and len(acc.proof) != acc.r:
        # step 1: the model of round r is the average of rounds 0..r-1, so its proof has r rounds; a
        # longer or shorter one would make the client train for round r on another round's model
        return Violation(
            "P4", f"{who} model {acc.r} (step {acc.step}) with a proof of {len(acc.proof)} rounds"
        )
    w = domain.genesis_model()
    for r, results in enumerate(acc.proof):
        ids = [res.i for res in results]
        if len(set(ids)) != len(ids) or len(ids) < params.progress_quorum:
            return Violation("P4", f"{who} model {acc.r} averaging clusters {ids} in round {r}")
        total = domain.zero()
        for res in results:
            if (r, res.i, res.members, res.agg) not in certified:
                return Violation(
                    "P4",
                    f"{who} model {acc.r} (step {acc.step}) with an uncertified result "
                    f"of cluster {res.i} in round {r}",
                )
            total = domain.add(total, res.agg)
        w = domain.apply_update(w, total, sum(len(res.members) for res in results))
    if acc.w != w:
        return Violation("P4", f"{who} model {acc.r} that is not the average of its proof")
    return None


def _p4_honest(facts: Facts, acc) -> Violation | None:
    if acc.w in honest_models(facts).get(acc.r, ()):
        return None
    held = "accepted" if acc.party == "client" else "holds"
    return Violation(
        "P4", f"{acc.party} {acc.index} {held} a model of round {acc.r} that is no honest average"
    )


def not_at_round_r(world: World) -> tuple[list[int], list[int]]:
    """The correct aggregators and the uncrashed clients not at round R: P5's goal, judged here
    party by party rather than by the spec's `world.finished`, which the search only uses to stop.
    The judge is the baseline's, so a change to the spec's notion of done can neither end P5's
    judgement early nor skip P6's balance (issue 13: `finished` with `or`, or with `> R`, survived).
    `!= R`: a party past R is no more done than one short of it."""
    R = world.params.R
    aggregators = [a.j for a in world.aggregators if a is not None and a.model_round != R]
    clients = [c.c for c in world.clients if c.c not in world.crashed and c.model_round != R]
    return aggregators, clients


def at_round_r(world: World) -> bool:
    """Every correct party at round R (`not_at_round_r` is empty)."""
    aggregators, clients = not_at_round_r(world)
    return not aggregators and not clients


def p5_liveness(run: Run) -> Violation | None:
    """P5 liveness: once faults stop and delivery is fair, every correct aggregator completes every
    round up to R and every correct client accepts model R (judged at the end of the fair phase,
    by the judge's own goal, `not_at_round_r`)."""
    if not run.fair_complete:
        return None
    lagging, clients = not_at_round_r(run.world)
    if not lagging and not clients:
        return None
    how = "nothing left to deliver" if run.stuck else "step bound reached"
    rounds = {a.j: a.model_round for a in run.world.aggregators if a is not None}
    return Violation(
        "P5", f"{how}: aggregators {lagging} (rounds {rounds}) and clients {clients} did not reach round R"
    )


def p6_budget(run: Run) -> Violation | None:
    """P6 budget cap and balance: what the adversary can unmask of a client never exceeds the
    client's own count; the count stays within 0..Q; no client is in two unmaskable sets of one
    round; and once faults stop and delivery is fair, a run that goes on to the end brings every
    correct client's count to exactly Q. Under a persistent censor (adversaries/persistent.py) its
    targets are exempt: the public shuffle may send a target to its censor in most rounds, which no
    bounded run can absorb; every other client must still reach Q. The victims of the other
    persistent coordinators (the late censor's prey, the members an equivocating coordinator left
    out) are judged the same way (`censor_exempt`, finding F7)."""
    params, facts = run.params, run.facts
    v = _p6_unresolved(run)
    if v is not None:
        return v
    for c, most in sorted(facts.max_released.items()):
        if most > params.Q:
            return Violation("P6", f"client {c} counted {most} releases > Q={params.Q}")
    for st in run.world.clients:
        if st.released < 0:
            return Violation("P6", f"client {st.c} counted {st.released} releases < 0")
    per_round: dict[tuple[int, int], int] = defaultdict(int)
    released_rounds: dict[int, set[int]] = defaultdict(set)
    for (r, _i), found in facts.unmaskable.items():
        for members in found:
            for c in members:
                per_round[(r, c)] += 1
                sent = facts.contributions.get((r, c))
                if sent is not None and sent.with_data:
                    released_rounds[c].add(r)
    for (r, c), n in sorted(per_round.items()):
        if n > 1:
            return Violation("P6", f"client {c} is in {n} unmaskable sets of round {r}")
    for c, rounds in sorted(released_rounds.items()):
        count = run.world.clients[c].released
        if len(rounds) > count:
            return Violation(
                "P6", f"the adversary can unmask client {c}'s data {len(rounds)} times, its count is {count}"
            )
    # The balance clause asks for a run "that goes on long enough": with R bounded, only a fair
    # phase that starts before any correct aggregator completed a round has every round to
    # balance the counts in (finding F2); a run whose chaos phase used up rounds is not judged.
    if run.fair_complete and at_round_r(run.world) and run.fair_start_round == 0:
        exempt = censor_exempt(run)
        short = [
            (st.c, st.released)
            for st in run.world.clients
            if st.c not in run.world.crashed and st.c not in exempt and st.released != params.Q
        ]
        if short:
            return Violation("P6", f"fair run ended with counts (client, count) {short}, not Q={params.Q}")
    return None


def correct_slots_cover(params) -> bool:
    """Whether the correct coordinators alone offer every client its Q releases before the slack
    rounds: Q * n_c <= (R - QUOTA_SLACK) * (n_a - t_a) * m. A round closes once n_a - t_a clusters
    are certified (the averaging quorum), each releasing m members, and under a persistent
    Byzantine coordinator the t_a other clusters may release nobody. Where this fails, a client the
    coordinator left out may find every slot of the correct coordinators' rounds taken before the
    fair round robin of trainings comes back to it (finding F7: n_c = 15, R = 6, 15 > 12). Like H1
    it is measured against the checker's fair scheduler, not proved against every one."""
    return params.Q * params.n_c <= correct_slots(params)


def correct_slots(params) -> int:
    """The release slots the correct coordinators offer before the slack rounds, at the fewest
    certified clusters a round closes with: (R - QUOTA_SLACK) * (n_a - t_a) * m."""
    return max(params.R - QUOTA_SLACK, 0) * (params.n_a - params.t_a) * params.m


def censor_exempt(run: Run) -> frozenset[int]:
    """The persistent coordinator's victims P6's balance cannot ask Q of (`persistent.targets`: the
    censor's targets, the late censor's prey, the clients an equivocating coordinator left out).

    A victim must still reach Q when the protocol's public shuffle (section 3,
    `assignment.clusters`: the protocol's, never the run's rule table, so a change to the clusters
    is judged by the shuffle it replaced) gives it at least Q + QUOTA_SLACK rounds with a correct
    coordinator, and the correct coordinators' slots cover every client's quota
    (`correct_slots_cover`). Exempting every target, as first written, hid a protocol without the
    reshuffle: its censor keeps the target every round (finding F5). A victim of the equivocating
    coordinator at n_c = 15, R = 6 had four correct rounds and still ended at 0, the correct slots
    being too few for the fair rotation to reach it in time (finding F7)."""
    params, byzantine = run.params, set(run.world.byzantine)
    if not correct_slots_cover(params):
        return run.censored

    def correct_rounds(c: int) -> int:
        return sum(
            not any(c in members and i in byzantine for i, members in enumerate(clusters(params, r)))
            for r in range(params.R)
        )

    return frozenset(c for c in run.censored if correct_rounds(c) < params.Q + QUOTA_SLACK)


def completed_round(world: World) -> int:
    """The lowest round any correct aggregator has completed (0 before the first model)."""
    return min((a.model_round for a in world.aggregators if a is not None), default=0)


def p7_noise_floor(run: Run) -> Violation | None:
    """P7 noise floor: every released aggregate (certified, or unmaskable by the coalition) sums at
    least m clients and carries noise variance at least sigma^2 (judged on symbolic values). And no
    more than its clients' calibrated noise, |S| * sigma^2 / m (section 2: each client adds
    sigma^2/m): noise past it buys no privacy and costs the model's accuracy (issue 13: a rule
    that adds sigma^2 per client, or sigma^2 ** m, held the floor and survived)."""
    params, facts = run.params, run.facts
    floor = params.sigma**2 * (1 - _EPS)
    per_client = params.sigma**2 / max(params.m, 1)

    def ceiling(members) -> float:
        return len(members) * per_client * (1 + _EPS)

    for (r, i), found in sorted(facts.unmaskable.items()):
        for members in found:
            if len(members) < params.m:
                return Violation("P7", f"set {sorted(members)} of ({r}, {i}) has fewer than m={params.m}")
            total = facts.set_sum(r, members)
            if isinstance(total, Form) and noise_variance(total) < floor:
                return Violation(
                    "P7",
                    f"set {sorted(members)} of ({r}, {i}) carries noise variance {noise_variance(total):.4g} "
                    f"< sigma^2={params.sigma**2:.4g}",
                )
            if isinstance(total, Form) and noise_variance(total) > ceiling(members):
                return Violation(
                    "P7",
                    f"set {sorted(members)} of ({r}, {i}) carries noise variance {noise_variance(total):.4g} "
                    f"> |S| sigma^2/m={ceiling(members):.4g}",
                )
    for r, i, members, agg in facts.certified:
        if len(members) < params.m:
            return Violation(
                "P7", f"certified set {sorted(members)} of ({r}, {i}) has fewer than m={params.m}"
            )
        if isinstance(agg, Form) and noise_variance(agg) < floor:
            return Violation("P7", f"certified agg of ({r}, {i}) carries noise {noise_variance(agg):.4g}")
        if isinstance(agg, Form) and noise_variance(agg) > ceiling(members):
            return Violation(
                "P7", f"certified agg of ({r}, {i}) carries noise {noise_variance(agg):.4g} > |S| sigma^2/m"
            )
    return None


def p8_approximate_agreement(run: Run) -> Violation | None:
    """P8 approximate agreement: two correct aggregators' round-r models are built from cluster sets
    that share a cluster with a correct coordinator."""
    correct = [a for a in run.world.aggregators if a is not None]
    byz = run.world.byzantine
    for a, b in itertools.combinations(correct, 2):
        for r, (pa, pb) in enumerate(zip(a.proof, b.proof, strict=False)):
            shared = {res.i for res in pa} & {res.i for res in pb}
            if not shared - byz:
                return Violation(
                    "P8",
                    f"aggregators {a.j} and {b.j} averaged round {r} over clusters "
                    f"{sorted(res.i for res in pa)} and {sorted(res.i for res in pb)}: "
                    "no shared correct coordinator",
                )
    return None


def _p6_unresolved(run: Run) -> Violation | None:
    """P6's count is I2's, so it must follow the certificates: a correct client that received
    CERTIFYs of one result of its (round, cluster) from t_a + 1 correct aggregators while its
    contribution there was outstanding has resolved it (the release stands, or is taken back and
    carried over, I3). Judged only on what reached the client while outstanding: a certificate
    that came before a carry-over into its round cannot resolve it, and the protocol does not
    promise that it will (docs/audit.md, 2026-12-06)."""
    world, need = run.world, run.params.certificate_size
    for (c, r), results in sorted(run.facts.certifies_to.items()):
        st = world.clients[c]
        pending = st.outstanding.get(r)
        if c in world.crashed or pending is None:
            continue
        for (kr, i, members, _agg), signers in results.items():
            if i == pending.cluster and len(signers) >= need:
                return Violation(
                    "P6",
                    f"client {c} got the certificate of ({kr}, {i}) S={sorted(members)} from aggregators "
                    f"{sorted(signers)} and never resolved its contribution to round {r} (I2)",
                )
    return None


def p9_no_agreement(run: Run) -> Violation | None:
    """P9 no agreement: no correct party needs more than n_a - t_a aggregators to progress; with
    t_a silent aggregators (judged on the runs whose coalition sent nothing) and fair delivery,
    every correct party still completes round R."""
    if not run.silent:
        return None
    v = p5_liveness(run)
    return Violation("P9", v.reason + " with the coalition silent") if v else None


Check = Callable[[Run], Violation | None]


# -- which runs exercise a property -------------------------------------------------------------
def exercised(prop: str, run: Run) -> bool:
    """Whether `run` reached the state `prop` speaks about, so that its holding there says something:
    a certified result (P1, P2), something the coalition's view reveals (P3), an accepted model
    (P4), a complete fair phase (P5; P9 on a silent coalition), a release the adversary can unmask
    or a judged balance (P6), an unmaskable set (P7), two correct models of one round (P8)."""
    facts = run.facts
    if prop == "P1":
        return bool(facts.certified_by)
    if prop == "P2":
        return bool(certified_results(run))
    if prop == "P3":
        return bool(facts.view_rank) and bool(facts.revealed())
    if prop == "P4":
        return bool(facts.accepted)
    if prop == "P5":
        return run.fair_complete
    if prop == "P9":
        return run.silent and run.fair_complete
    if prop == "P6":
        balance = run.fair_complete and at_round_r(run.world) and run.fair_start_round == 0
        return (
            balance or any(s.with_data for s in facts.contributions.values()) and bool(unmaskable_sets(run))
        )
    if prop == "P7":
        return bool(unmaskable_sets(run))
    if prop == "P8":
        models = [len(a.proof) for a in run.world.aggregators if a is not None]
        return sum(1 for n in models if n > 0) >= 2
    raise KeyError(prop)


PROPERTIES: dict[str, Check] = {
    "P1": p1_mask_correctness,
    "P2": p2_set_uniqueness,
    "P3": p3_confidentiality,
    "P4": p4_integrity,
    "P5": p5_liveness,
    "P6": p6_budget,
    "P7": p7_noise_floor,
    "P8": p8_approximate_agreement,
    "P9": p9_no_agreement,
}

#: the safety properties one state can show, judged on every state the exhaustive explorer reaches
#: (on the facts that state holds); P5 and P9 speak of a fair phase, P8 of two models of one round
STATE_PROPERTIES = ("P1", "P2", "P3", "P4", "P6", "P7")


def judge_state(world: World, props: Iterable[str] = STATE_PROPERTIES) -> dict[str, Violation]:
    """Property -> its violation, for each of `props` that one state violates (no history: the
    facts `world` holds alone, judge/facts.py `state_facts`)."""
    run = Run(world)
    out = {}
    for prop in props:
        v = PROPERTIES[prop](run)
        if v is not None:
            out[prop] = v
    return out


TITLES = {
    "P1": "mask correctness",
    "P2": "set uniqueness",
    "P3": "confidentiality",
    "P4": "integrity",
    "P5": "liveness",
    "P6": "budget cap and balance",
    "P7": "noise floor",
    "P8": "approximate agreement",
    "P9": "no agreement",
}
