"""One path, judged as each driver judges it: the check that the drivers share one judgement.

The search judges a run on the facts of its path (a monitor followed it); the exhaustive explorer
judges each state on the facts that state holds, because BFS merges states across paths. Both
call the one suite (judge/suite.py). On any path the two must agree on the safety properties one
state can show (`STATE_PROPERTIES`): a property fails on a prefix of the path judged as a path
exactly when it fails on some state of that prefix judged as a state. `path_verdicts` and
`state_verdicts` give, per property, the first step where each driver sees it fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from asfl.properties.judge.monitor import Monitor
from asfl.properties.judge.suite import PROPERTIES, STATE_PROPERTIES, Run, judge_state
from asfl.spec.world import World


def path_verdicts(worlds: Sequence[World], props: Iterable[str] = STATE_PROPERTIES) -> dict[str, int]:
    """Property -> the first step k at which the path worlds[0..k], judged on its facts (the
    search's driver, no fair phase), violates it; properties that hold on the whole path are absent."""
    props = tuple(props)
    mon = Monitor(worlds[0])
    first: dict[str, int] = {}
    for k, world in enumerate(worlds):
        if k:
            mon.observe(worlds[k - 1], world)
        run = Run(world, mon)
        for prop in props:
            if prop not in first and PROPERTIES[prop](run) is not None:
                first[prop] = k
    return first


def state_verdicts(worlds: Sequence[World], props: Iterable[str] = STATE_PROPERTIES) -> dict[str, int]:
    """Property -> the first state k of the path that, judged on what it holds alone (the
    explorer's driver), violates it; properties that hold on every state are absent."""
    props = tuple(props)
    first: dict[str, int] = {}
    for k, world in enumerate(worlds):
        for prop in judge_state(world, [p for p in props if p not in first]):
            first[prop] = k
    return first
