"""Persistent coordinator strategies: a Byzantine coordinator that keeps acting after the chaos stops.

Crashes and delivery chaos can stop; a Byzantine aggregator stays Byzantine. The fair phase of a
run whose plan draws `censor` keeps one coordinator strategy of the coalition going, named by the
plan (`PERSISTENT`); in traces, `extra["persistent_censor"]` records it (`true`, as traces recorded
before the late censor say, is `censoring`).

`censoring`, the persistent censor: the behaviour the inclusion mechanism is built to absorb. As
coordinator it fixes, as soon as it can, every contribution it holds except those of its target
(I4 broken on purpose), and otherwise follows the protocol (it endorses, reveals and certifies).
The target of Byzantine aggregator b is the lowest-numbered client of its round-0 cluster. A
censored contribution is certified out of its set, so its release is taken back (I2) and it is
carried over to the client's next round (I3), where the reshuffled clusters (section 3) give it
another coordinator; P6's balance clause then asks that the target still reaches Q. Without the
reshuffle the target meets the same censor every round.

`late_censor` (`adversaries.late_censor`): in each round r it censors the client it also
coordinates in round r + 1, only once it holds that client's round-(r + 1) contribution, so the
carry-over the certificate triggers meets a round the client already contributed to (I1). Its
victims are exempt from P6's balance too: the round-(r + 1) contribution went out while the
round-r release still counted (I2's count is pessimistic), so at Q it carried noise only, and the
take-back comes after it; the client releases again in a later round only if the run has one left
and it wins that round's race, which no bounded run can promise (the exploration found, with R = 4,
aggregator 1 censoring client 6 in round 1, and client 6 ending with count 0).

`split_equivocation` (`adversaries.split_equivocation`): a coordinator that keeps equivocating
gets some set of its (round, cluster) certified, not always one with every member it holds. Its
victims are the members it left out (`left_out`): their releases are taken back (I2) as the
censor's are, and P6's balance judges them as it judges the censor's targets (finding F7).
"""

from __future__ import annotations

from collections.abc import Callable

from asfl.properties.adversaries.library import (
    _coordinate,
    held_contribs,
    late_censor,
    late_victims,
    malformed_models,
    malformed_requests,
    outside_set,
    serial_equivocation,
    signed_otherwise,
    split_equivocation,
)
from asfl.spec.messages import Contrib
from asfl.spec.world import Inject, World, certified_results

#: a plan's or a trace's persistent strategy: its name, True for `censoring` (older traces), or off
Censor = bool | str | None


def targets(world: World, censor: Censor = True) -> frozenset[int]:
    """The clients the persistent strategy `censor` censors, whom P6's balance exempts: for
    `censoring`, the lowest member of each Byzantine coordinator's round-0 cluster; for
    `late_censor`, the prey it censored or holds back (`adversaries.late_victims`); for
    `split_equivocation`, the members its coordinators left out of a certified set (`left_out`)."""
    name = persistent_name(censor)
    if name == "late_censor":
        return late_victims(world)
    if name in LEAVE_OUT:
        return left_out(world)
    if name != "censoring":
        return frozenset()
    clusters = world.ctx.clusters(0)
    return frozenset(min(clusters[b]) for b in world.byzantine if clusters[b])


def left_out(world: World) -> frozenset[int]:
    """The correct clients a Byzantine coordinator left out of a certified set of its cluster: their
    CONTRIB of round r reached coordinator b, and a result of (r, b) holds a certificate (Q6)
    without them, so their release is taken back (I2) as a censored one is."""
    certified = certified_results(world)
    out: set[int] = set()
    for b in world.byzantine:
        for r, held in held_contribs(world, b).items():
            for kr, i, members, _agg in certified:
                if (kr, i) == (r, b):
                    out |= set(held) - members
    return frozenset(c for c in out if c not in world.crashed)


def persistent_censor(world: World) -> list[Inject]:
    """Offers of the censoring coordinators, in the adversaries' priority order."""
    censored = targets(world)

    def all_but_targets(w: World, held: dict[int, Contrib]) -> list[frozenset[int]]:
        kept = frozenset(held) - censored
        return [kept] if len(kept) >= w.params.m else []

    return _coordinate(world, all_but_targets)


def persistent_malformed(world: World) -> list[Inject]:
    """`malformed` in the fair phase: its messages signed over other content, sent the step the
    coalition holds what they answer, so that they race the correct ENDORSEs and CERTIFYs
    (`signed_otherwise`); the UNMASK_REQs the endorse rule must refuse, asked of its own clusters'
    members as they contribute round after round (`malformed_requests`: a contribution of another
    round needs two rounds, which the chaos phase seldom reaches); then its forged MODELs
    (`malformed_models`)."""
    return signed_otherwise(world) + malformed_requests(world) + malformed_models(world)


#: the persistent coordinators whose victims are the members they left out of a certified set
LEAVE_OUT = frozenset({"split_equivocation", "serial_equivocation", "outside_set"})


#: the coordinator strategies a plan keeps through the fair phase, by name
PERSISTENT: dict[str, Callable[[World], list[Inject]]] = {
    "censoring": persistent_censor,
    "late_censor": late_censor,
    # an equivocating coordinator keeps equivocating: the groups it split finish what the chaos began
    "split_equivocation": split_equivocation,
    # so does the serial equivocator (F1: an attack of 20-40 steps, which a short chaos phase cuts
    # off), and the coordinator that asks for sets the endorse rule must refuse (issue 13)
    "serial_equivocation": serial_equivocation,
    "outside_set": outside_set,
    # a coalition that sends malformed messages keeps sending its forged MODELs: they need
    # certified results, which the chaos phase at the default size seldom reaches (issue 13)
    "malformed": persistent_malformed,
}


def persistent_name(censor: Censor) -> str | None:
    """The name of the persistent strategy `censor` stands for, or None when there is none."""
    if censor is True:
        return "censoring"
    if not censor:
        return None
    if censor not in PERSISTENT:
        raise ValueError(f"no persistent strategy {censor!r} (known: {', '.join(PERSISTENT)})")
    return str(censor)


def persistent_offers(world: World, censor: Censor) -> list[Inject]:
    """The offers of the persistent strategy `censor` in `world` (none when it is off)."""
    name = persistent_name(censor)
    return PERSISTENT[name](world) if name is not None else []
