"""Safety checks the explorer runs on every reachable state (PROTOCOL.md section 7).

Each check is `check(world) -> str | None`: None when the property holds in `world`, else one
line saying why not. `SAFETY` maps property names to checks, so shared property functions can
replace these later without touching the explorer.

What the checks read:
  certified  a result (r, i, S, agg) is certified when its correct certifiers plus the Byzantine
             aggregators (who sign anything) reach t_a + 1 signatures (Q6)
  contribs   the contribution of (round, client) held by a correct coordinator or seen by the
             coalition; x = y - rho recovers the client's secret value (the pad rho is the
             domain's draw for ("pad", c, r)), so P1 compares against values the transitions never
             interpolated
  coalition  what reached a Byzantine aggregator: the shares sealed for Byzantine aggregators in
             every contribution it saw, and the share-sums (SHARE_SUM, CLUSTER) it received. For a
             (round, cluster), aggregator point j "knows" a combination of pads when it lies in
             the span of what j's share (or share-sums) give the coalition; a set S is
             reconstructible when at least T points know the sum of S's pads (Shamir, degree T-1)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import combinations, product

from asfl.spec.domain import Label
from asfl.spec.messages import Cluster, Contrib, ShareSum, UnmaskReq
from asfl.spec.world import World

Check = Callable[[World], str | None]
ResultKey = tuple[int, int, frozenset[int], object]


# -- what the state holds ------------------------------------------------------------------------
def _per_world(fn: Callable[[World], object]) -> Callable[[World], object]:
    """Memoise a derived fact for the last world seen: the checks of one state share it."""
    memo: list[object] = [None, None]

    def wrapper(world: World):  # type: ignore[no-untyped-def]
        if memo[0] is not world:
            memo[0], memo[1] = world, fn(world)
        return memo[1]

    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = fn.__name__
    return wrapper


@_per_world
def certified_results(world: World) -> dict[ResultKey, set[int]]:
    """Every result a correct aggregator certified, with its correct certifiers."""
    out: dict[ResultKey, set[int]] = {}
    for a in world.aggregators:
        if a is not None:
            for key in a.certified:
                out.setdefault(key, set()).add(a.j)
    return out


@_per_world
def certified(world: World) -> list[ResultKey]:
    """Results with t_a + 1 signatures available: correct certifiers plus the Byzantine ones (Q6).
    The size comes from PROTOCOL.md, not the rule table, so a variant cannot redefine the property."""
    need = world.params.certificate_size
    byz = len(world.byzantine)
    return [key for key, signers in certified_results(world).items() if len(signers) + byz >= need]


def _seen_messages(world: World) -> Iterable[object]:
    return (env.msg for env in world.coalition_inbox)


@_per_world
def contributions(world: World) -> dict[tuple[int, int], Contrib]:
    """(round, client) -> its contribution, as held by correct coordinators or seen by the coalition."""
    out: dict[tuple[int, int], Contrib] = {}
    for a in world.aggregators:
        if a is not None:
            for held in a.held.values():
                for contrib in held.values():
                    out[(contrib.r, contrib.c)] = contrib
    for msg in _seen_messages(world):
        for contrib in _contribs_in(msg):
            out[(contrib.r, contrib.c)] = contrib
    return out


def _contribs_in(msg: object) -> tuple[Contrib, ...]:
    if isinstance(msg, Contrib):
        return (msg,)
    if isinstance(msg, UnmaskReq | Cluster):
        return msg.contribs
    return ()


def secret_value(world: World, contrib: Contrib) -> object:
    """x = y - rho: the value the client masked (section 4)."""
    domain = world.domain
    return domain.sub(contrib.y, domain.draw(Label("pad", contrib.c, contrib.r)))


def true_sum(world: World, r: int, members: frozenset[int]) -> object | None:
    """sum of x over S, or None when some member's contribution is nowhere in the state."""
    contribs = contributions(world)
    total = world.domain.zero()
    for c in sorted(members):
        contrib = contribs.get((r, c))
        if contrib is None:
            return None
        total = world.domain.add(total, secret_value(world, contrib))
    return total


# -- the coalition's knowledge of pads (P3, P6, P7) --------------------------------------------------
_Q = 2**31 - 1


def _rank(rows: list[tuple[int, ...]]) -> int:
    """Rank over F_q (q = 2^31 - 1) of small integer rows, by Gaussian elimination."""
    m = [list(r) for r in rows]
    rank, cols = 0, len(m[0]) if m else 0
    for col in range(cols):
        pivot = next((i for i in range(rank, len(m)) if m[i][col] % _Q), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        inv = pow(m[rank][col], -1, _Q)
        m[rank] = [v * inv % _Q for v in m[rank]]
        for i in range(len(m)):
            if i != rank and m[i][col] % _Q:
                f = m[i][col]
                m[i] = [(a - f * b) % _Q for a, b in zip(m[i], m[rank], strict=True)]
        rank += 1
    return rank


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


@_per_world
def coalition_knowledge(world: World) -> dict[tuple[int, int], set[tuple[int, frozenset[int]]]]:
    """(round, cluster) -> {(point j, S)}: the coalition knows j's share-sum of the pads of S."""
    ctx = world.ctx
    out: dict[tuple[int, int], set[tuple[int, frozenset[int]]]] = {}
    for msg in _seen_messages(world):
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


@_per_world
def reconstructible_sets(world: World) -> dict[tuple[int, int], tuple[frozenset[int], ...]]:
    """(round, cluster) -> the sets whose pad sum the coalition can reconstruct (T points)."""
    T = world.params.T
    assert T is not None
    out = {}
    for (r, i), knowledge in coalition_knowledge(world).items():
        members = tuple(sorted(world.ctx.clusters(r)[i]))
        sets = _reconstructible(members, frozenset(knowledge), T)
        if sets:
            out[(r, i)] = sets
    return out


@_per_world
def unmaskable_sets(world: World) -> dict[tuple[int, int], set[frozenset[int]]]:
    """Sets that T aggregators endorsed or can endorse (correct write-once endorsements, plus the
    Byzantine aggregators for sets whose contributions they saw), and every reconstructible set."""
    T = world.params.T
    assert T is not None
    seen = {(c.r, c.c) for msg in _seen_messages(world) for c in _contribs_in(msg)}
    counts: dict[tuple[int, int, frozenset[int]], int] = {}
    for a in world.aggregators:
        if a is not None:
            for (r, i), members in a.endorsed.items():
                counts[(r, i, members)] = counts.get((r, i, members), 0) + 1
    out: dict[tuple[int, int], set[frozenset[int]]] = {}
    for (r, i, members), n in counts.items():
        byz = len(world.byzantine) if all((r, c) in seen for c in members) else 0
        if n + byz >= T:
            out.setdefault((r, i), set()).add(members)
    for key, sets in reconstructible_sets(world).items():
        out.setdefault(key, set()).update(sets)
    return out


# -- the properties ------------------------------------------------------------------------------
def p1_mask_correctness(world: World) -> str | None:
    """P1: every certified agg equals sum_{c in S} x_c exactly (all pads cancel)."""
    for r, i, members, digest in certified_results(world):
        total = true_sum(world, r, members)
        if total is not None and world.domain.digest(total) != digest:
            return f"P1: certified agg of ({r}, {i}, {sorted(members)}) is not the sum of its members' x"
    return None


def p2_set_uniqueness(world: World) -> str | None:
    """P2: at most one certified set per (round, cluster), a subset of the cluster with >= m members."""
    m = world.params.m
    assert m is not None
    sets: dict[tuple[int, int], set[frozenset[int]]] = {}
    for r, i, members, _ in certified(world):
        if not members <= world.ctx.clusters(r)[i]:
            return f"P2: certified set {sorted(members)} of ({r}, {i}) is not a subset of the cluster"
        if len(members) < m:
            return f"P2: certified set {sorted(members)} of ({r}, {i}) has fewer than m={m} members"
        sets.setdefault((r, i), set()).add(members)
    for (r, i), found in sorted(sets.items()):
        if len(found) > 1:
            return f"P2: two certified sets for ({r}, {i}): " + ", ".join(str(sorted(s)) for s in found)
    return None


def p3_coalition_reconstruction(world: World) -> str | None:
    """P3 (structural): the coalition never reconstructs the pads of two different sets of one
    (round, cluster), nor of a set smaller than m (e.g. one client's individual pad)."""
    m = world.params.m
    assert m is not None
    for (r, i), sets in sorted(reconstructible_sets(world).items()):
        small = [s for s in sets if len(s) < m]
        if small:
            return f"P3: the coalition holds T shares of the pads of {sorted(small[0])} in ({r}, {i}) (m={m})"
        if len(sets) > 1:
            shown = ", ".join(str(sorted(s)) for s in sets)
            return f"P3: the coalition can reconstruct the pads of two sets of ({r}, {i}): {shown}"
    return None


def p4_integrity(world: World) -> str | None:
    """P4: every model a correct client (or aggregator) holds is an honest average of certified
    results: for every round, the results of `averaging_quorum` distinct clusters."""
    if all(st.model_round == 0 for st in world.clients) and all(
        a is None or a.model_round == 0 for a in world.aggregators
    ):
        return None
    honest = honest_models(world)
    for st in world.clients:
        if (
            st.c not in world.crashed
            and st.model_round > 0
            and st.model not in honest.get(st.model_round, ())
        ):
            return f"P4: client {st.c} accepted a model of round {st.model_round} that is no honest average"
    for a in world.aggregators:
        if a is not None and a.model_round > 0 and a.model not in honest.get(a.model_round, ()):
            return f"P4: aggregator {a.j} holds a model of round {a.model_round} that is no honest average"
    return None


def honest_models(world: World) -> dict[int, set[object]]:
    """Round -> every model an honest averager could compute from the certified results."""
    results = []
    for r, i, members, _ in certified(world):
        total = true_sum(world, r, members)
        if total is not None:
            results.append((r, i, total, len(members)))
    # n_a - t_a clusters, as PROTOCOL.md says, whatever the rule table's averaging quorum
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


def p6_budget(world: World) -> str | None:
    """P6 (safety part): 0 <= count <= Q; no client in two unmaskable sets of one round; what the
    adversary can unmask of a client (rounds where its data contribution is in an unmaskable set)
    never exceeds the client's own count."""
    Q = world.params.Q
    assert Q is not None
    for st in world.clients:
        if not 0 <= st.released <= Q:
            return f"P6: client {st.c} release count {st.released} is outside 0..Q={Q}"
    exposed: dict[int, set[int]] = {}
    contribs = contributions(world)
    for (r, i), sets in sorted(unmaskable_sets(world).items()):
        for c in sorted(world.ctx.clusters(r)[i]):
            holding = [s for s in sets if c in s]
            if len(holding) > 1:
                return f"P6: client {c} is in {len(holding)} unmaskable sets of round {r}"
            contrib = contribs.get((r, c))
            if holding and contrib is not None and _carries_data(world, contrib):
                exposed.setdefault(c, set()).add(r)
    for c, rounds in sorted(exposed.items()):
        if len(rounds) > world.clients[c].released:
            return (
                f"P6: the adversary can unmask client {c}'s data in rounds {sorted(rounds)}, "
                f"but its count is {world.clients[c].released}"
            )
    return None


def _carries_data(world: World, contrib: Contrib) -> bool:
    """Whether a contribution carries data (I2): its x is not the client's noise alone."""
    noise = world.domain.noise(contrib.c, contrib.r_model, world.rules.noise_variance(world.params))
    return not world.domain.equal(secret_value(world, contrib), noise)


def p7_noise_floor(world: World) -> str | None:
    """P7: every released aggregate (certified or reconstructible) sums at least m clients."""
    m = world.params.m
    assert m is not None
    for r, i, members, _ in certified(world):
        if len(members) < m:
            return f"P7: certified aggregate of ({r}, {i}) sums {len(members)} < m={m} clients"
    for (r, i), sets in sorted(unmaskable_sets(world).items()):
        for s in sets:
            if len(s) < m:
                return f"P7: an unmaskable aggregate of ({r}, {i}) sums {len(s)} < m={m} clients"
    return None


SAFETY: dict[str, Check] = {
    "P1": p1_mask_correctness,
    "P2": p2_set_uniqueness,
    "P3": p3_coalition_reconstruction,
    "P4": p4_integrity,
    "P6": p6_budget,
    "P7": p7_noise_floor,
}


def check_all(world: World, checks: dict[str, Check] = SAFETY) -> dict[str, str]:
    """Property -> violation message, for every check that fails in `world`."""
    out = {}
    for name, check in checks.items():
        problem = check(world)
        if problem:
            out[name] = problem
    return out
