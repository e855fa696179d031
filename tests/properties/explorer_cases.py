"""The configurations of explorer_manifest.json, and how to run one (shared by the tests)."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
from asfl.properties.domains.tiny import TinyDomain
from asfl.properties.exhaustive.explorer import Exploration, canonical_key, explore
from asfl.spec import STANDARD, Params
from asfl.spec.world import World, initial_world, step

MANIFEST = Path(__file__).with_name("explorer_manifest.json")


def run_case(case: dict, reduce: bool = True) -> Exploration:
    params = Params(**case["params"], d=1, allow_unsafe=case.get("allow_unsafe", False))
    return explore(
        params,
        byzantine=case.get("byzantine", ()),
        menu=case.get("menu", "silent"),
        focus=case.get("focus"),
        max_states=case.get("max_states"),
        stop_at=case.get("stop_at", ()),
        reduce=reduce,
    )


def paths_to_states(result: Exploration, limit: int) -> list[list[World]]:
    """For `limit` of the explored states at most (evenly spread, all of a smaller case), a path of
    worlds from the initial state: the events of a BFS tree of the state graph, replayed."""
    parent = dict(nx.bfs_predecessors(result.graph, 0))
    every = max(1, len(result.worlds) // limit)
    paths = []
    for node in range(0, len(result.worlds), every):
        chain = [node]
        while chain[-1] != 0:
            chain.append(parent[chain[-1]])
        chain.reverse()
        world = initial_world(result.params, TinyDomain(result.params, 0), result.byzantine, STANDARD)
        worlds = [world]
        for a, b in zip(chain, chain[1:], strict=False):
            for event in result.graph[a][b]["events"]:
                world = step(world, event)
                worlds.append(world)
        assert canonical_key(world, frozenset()) == canonical_key(result.worlds[node], frozenset())
        paths.append(worlds)
    return paths


def observed(result: Exploration) -> dict:
    return {
        "states": result.states,
        "transitions": result.transitions,
        "depth": result.depth,
        "complete": result.complete,
        "verdicts": {name: ("holds" if v.holds else "violated") for name, v in result.verdicts.items()},
    }


def load() -> list[dict]:
    return json.loads(MANIFEST.read_text())["cases"]


def regenerate(slow: bool = False) -> None:
    """Rewrite the expected figures from a run (review the diff before committing it); slow
    cases keep their figures unless `slow`."""
    doc = json.loads(MANIFEST.read_text())
    for case in doc["cases"]:
        if slow or not case.get("slow"):
            case["expect"] = observed(run_case(case))
    MANIFEST.write_text(json.dumps(doc, indent=2) + "\n")


def check_slow() -> int:
    """Run the slow cases and compare them with the manifest; the exit code says whether they match."""
    bad = 0
    for case in load():
        if case.get("slow"):
            got = observed(run_case(case))
            ok = got == case["expect"]
            bad += not ok
            print(f"{case['name']}: {'matches' if ok else f'DIFFERS: {got}'}")
    return 1 if bad else 0


if __name__ == "__main__":
    import sys

    if "--check-slow" in sys.argv:
        sys.exit(check_slow())
    regenerate(slow="--slow" in sys.argv)
