"""A networked run as one schedule of the spec's world, recorded and replayed (`--record`, `asfl replay`).

Every party logged the inputs it applied, in order (`store.py`). Merging the logs gives one
sequence of `spec.world` events that the run realised: a party's next input is applied once it is
enabled in the world (its message is in flight, or its training is running), so the merge follows
causality, and it never stalls on a real run because each log is a real execution. A message from a
Byzantine aggregator is an `Inject` first (the world's ideal signatures check it could build it:
`forgery`), then a delivery. Clients killed for good crash at the end.

The record has the shape of `recording.py`'s simulator records (format `asfl-runtime-run/1`):
parameters, seed, rules, the Byzantine strategies, `events` (`deliver` msg id | `train` c |
`crash` c | `inject` {sender, dst, body}), and what the world reached (`certified`, `models`,
`fingerprint`), plus what the processes themselves reported (`runtime`). Replaying re-applies the
events with `step` on a fresh world and compares; the merge and the replay both check that the
world's parties refuse nothing the processes accepted. The same schedule can also be written in the
verification's ITF format (`asfl cluster up --record FILE.itf.json`, `asfl/commands/runtime_itf.py`),
on which `asfl replay` re-judges P2 and `asfl show` draws the swimlane.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict, deque
from dataclasses import replace
from pathlib import Path
from typing import Any

from asfl.spec.messages import Cluster, Contrib, Message, Party, UnmaskReq
from asfl.spec.params import Params
from asfl.spec.world import Crash, Deliver, Event, Inject, TrainDone, World, forgery, initial_world, step

from ..atomic import write_atomic
from ..recording import certified_sets, models, state_digest
from .codec import Codec, PublicKeys, message_key
from .config import RULES, ClusterConfig, RuntimeDomain
from .store import Input, read_inputs

FORMAT = "asfl-runtime-run/1"


class TraceError(ValueError):
    """The logs or the record do not make one run of the spec (a divergence, or a bad file)."""


class _Replayer:
    """A world plus what is needed to name its messages as the processes did."""

    def __init__(self, params: Params, seed: int, byzantine: frozenset[int]) -> None:
        self.world = initial_world(params, RuntimeDomain(params, seed), sorted(byzantine), RULES)
        self.codec = Codec(params, Party("c", -1), PublicKeys({}, {}), trusting=True)
        self.in_flight: dict[tuple[Party, Party, bytes], deque[int]] = defaultdict(deque)
        self.contribs: dict[bytes, Contrib] = {}  # message_key -> the world's contribution
        self.events: list[dict[str, Any]] = []
        self.world_events: list[Event] = []  # the same, as spec events (an ITF trace's actions)

    def apply(self, event: Event, record: dict[str, Any]) -> None:
        self.world = step(self.world, event)
        self.events.append(record)
        self.world_events.append(event)
        last = self.world.last
        assert last is not None
        if last.refused is not None and not (isinstance(event, Deliver) and last.refused.rule == "crash"):
            raise TraceError(f"the spec refuses event {len(self.events)} ({record}): {last.refused}")
        if last.sent:
            for env in self.world.in_flight[len(self.world.in_flight) - len(last.sent) :]:
                key = message_key(env.msg)
                self.in_flight[(env.src, env.dst, key)].append(env.id)
                if isinstance(env.msg, Contrib):
                    self.contribs[key] = env.msg

    def to_world(self, msg: Message) -> Message | None:
        """The message with each signed contribution replaced by the world's own copy (the wire's
        copy holds sealed boxes), or None if some contribution was never sent in this world."""

        def find(c: Contrib) -> Contrib | None:
            return self.contribs.get(message_key(c))

        if isinstance(msg, Contrib):
            return find(msg)
        if isinstance(msg, UnmaskReq | Cluster):
            found = tuple(find(c) for c in msg.contribs)
            if any(c is None for c in found):
                return None
            return replace(msg, contribs=found)
        return msg

    def deliver(self, src: Party, dst: Party, key: bytes) -> bool:
        ids = self.in_flight.get((src, dst, key))
        if not ids:
            return False
        msg_id = ids.popleft()
        self.apply(Deliver(msg_id), {"deliver": msg_id})
        return True

    def inject(self, sender: int, dst: Party, body: bytes) -> bool:
        msg = self.to_world(self.codec.decode(body))
        if msg is None or forgery(self.world, sender, msg) is not None:
            return False
        record = {
            "inject": {
                "sender": sender,
                "dst": [dst.role, dst.index],
                "body": base64.b64encode(body).decode(),
            }
        }
        self.apply(Inject(sender, dst, msg), record)
        return True


def merge(cfg: ClusterConfig, crashed: list[int]) -> _Replayer:
    """One world schedule from every party's log (see the module docstring)."""
    params = cfg.params
    rp = _Replayer(params, cfg.seed, cfg.byzantine)
    logs: dict[Party, list[Input]] = {}
    for party in cfg.parties:
        path = cfg.store_path(party)
        logs[party] = read_inputs(path) if path.exists() else []
    pos = dict.fromkeys(logs, 0)

    def try_apply(party: Party, inp: Input) -> bool:
        if inp.kind == "train":
            if rp.world.clients[party.index].training is None:
                return False
            rp.apply(TrainDone(party.index), {"train": party.index})
            return True
        assert inp.src_role is not None and inp.src_index is not None and inp.key is not None
        src = Party(inp.src_role, inp.src_index)
        if rp.deliver(src, party, inp.key):
            return True
        if src.role == "a" and src.index in cfg.byzantine and inp.body is not None:
            return rp.inject(src.index, party, inp.body) and rp.deliver(src, party, inp.key)
        return False

    progressed = True
    while progressed:
        progressed = False
        for party, inputs in logs.items():
            while pos[party] < len(inputs) and try_apply(party, inputs[pos[party]]):
                pos[party] += 1
                progressed = True
    for party, inputs in logs.items():
        if pos[party] < len(inputs):
            raise TraceError(f"{party}'s input {inputs[pos[party]].seq} never became enabled in the world")
    for c in sorted(crashed):
        rp.apply(Crash(c), {"crash": c})
    return rp


def params_json(p: Params) -> dict[str, int]:
    return {"n_c": p.n_c, "t_c": p.t_c, "n_a": p.n_a, "t_a": p.t_a, "T": p.T, "m": p.m, "R": p.R, "Q": p.Q,
            "s_max": p.s_max, "d": p.d}  # fmt: skip


def record(
    cfg: ClusterConfig,
    statuses: dict[str, dict[str, Any]],
    faulty: list[str],
    merged: _Replayer | None = None,
) -> dict[str, Any]:
    """The record of a finished cluster run (its stores and the processes' final status)."""
    crashed = [int(p[1:]) for p in faulty if p[0] == "c"]
    rp = merged if merged is not None else merge(cfg, crashed)
    world = rp.world
    runtime = {
        name: {k: s[k] for k in ("model_round", "model_digest", "released", "certified") if k in s}
        for name, s in statuses.items()
        if name not in faulty
    }
    return {
        "format": FORMAT,
        "params": params_json(cfg.params),
        "seed": cfg.seed,
        "rules": RULES.name,
        "byzantine": {str(p.index): pc.strategy for p, pc in cfg.parties.items() if pc.strategy},
        "crashed": crashed,
        "faulty": faulty,
        "events": rp.events,
        "certified": certified_sets(world),
        "models": models(world),
        "fingerprint": state_digest(world),
        "runtime": runtime,
    }


def write_record(path: Path, rec: dict[str, Any]) -> Path:
    return write_atomic(path, json.dumps(rec, indent=1))


def read_record(path: Path | str) -> dict[str, Any]:
    try:
        rec = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise TraceError(f"{path}: not a readable record ({e})") from e
    if not isinstance(rec, dict) or rec.get("format") != FORMAT:
        raise TraceError(f"{path}: not an {FORMAT} record")
    return rec


def replay(rec: dict[str, Any]) -> World:
    """Re-apply the recorded events with `step` on a fresh world."""
    try:
        params = Params(**rec["params"])
        rp = _Replayer(params, int(rec["seed"]), frozenset(int(j) for j in rec["byzantine"]))
        for ev in rec["events"]:
            if "deliver" in ev:
                rp.apply(Deliver(int(ev["deliver"])), ev)
            elif "train" in ev:
                rp.apply(TrainDone(int(ev["train"])), ev)
            elif "crash" in ev:
                rp.apply(Crash(int(ev["crash"])), ev)
            elif "inject" in ev:
                inj = ev["inject"]
                dst = Party(str(inj["dst"][0]), int(inj["dst"][1]))
                if not rp.inject(int(inj["sender"]), dst, base64.b64decode(inj["body"])):
                    raise TraceError(f"injection {ev} cannot be built from what the coalition saw")
            else:
                raise TraceError(f"unknown event {ev!r}")
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, TraceError):
            raise
        raise TraceError(f"the record does not replay ({type(e).__name__}: {e})") from e
    return rp.world


def check(rec: dict[str, Any]) -> tuple[World, list[str]]:
    """Replay; list every difference from the record and from what the processes reported."""
    world = replay(rec)
    problems = []
    if certified_sets(world) != rec["certified"]:
        problems.append("certified sets differ from the record")
    if models(world) != rec["models"]:
        problems.append("models differ from the record")
    if state_digest(world) != rec["fingerprint"]:
        problems.append("fingerprint differs from the record")
    wm = models(world)
    for name, s in rec.get("runtime", {}).items():
        mine = [s.get("model_round"), s.get("model_digest")] + ([s["released"]] if "released" in s else [])
        if name in wm and mine != wm[name][: len(mine)]:
            problems.append(f"{name}: the process held {mine}, the replay {wm[name]}")
        if "certified" in s:
            replayed = world.aggregators[int(name[1:])]
            keys = (
                sorted([r, i, sorted(m), str(d)] for r, i, m, d in replayed.certified) if replayed else None
            )
            if keys != s["certified"]:
                problems.append(f"{name}: the process certified other results than the replay")
    return world, problems


def set_uniqueness_problems(world: World) -> list[str]:
    """P2 on a replayed world, checked strongly: among the results any correct aggregator certified
    (a certificate of t_a + 1 signatures holds at least one), at most one set per (round, cluster),
    each a subset of S_i^r with at least m members."""
    params = world.params
    sets: dict[tuple[int, int], set[tuple[int, ...]]] = defaultdict(set)
    for r, i, members, _ in certified_sets(world):
        sets[(r, i)].add(tuple(members))
    problems = []
    for (r, i), found in sorted(sets.items()):
        if len(found) > 1:
            problems.append(f"({r}, {i}) has {len(found)} certified sets: {sorted(found)}")
        for s in found:
            if not set(s) <= world.ctx.clusters(r)[i] or len(s) < (params.m or 0):
                problems.append(
                    f"({r}, {i}) certified {list(s)}: not a subset of S_{i}^{r} with >= m members"
                )
    return problems
