"""Traces: recorded runs and counterexamples as ITF JSON (`*.itf.json`, ARCHITECTURE.md "Traces").

A trace is the configuration (params, rule table, domain, seed, Byzantine aggregators) and the
sequence of events applied to the initial world. `#meta` holds the format, the protocol
fingerprint, params, seed and status; each state records the action taken and a summary of the
world after it; a liveness counterexample carries `loop` (the index its lasso returns to).
A trace replays by re-applying its actions and comparing the summaries; a trace recorded under
another protocol (other spec source or rule table) is reported by its fingerprint.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import ModuleType
from typing import Any

from asfl.properties.traces.codec import decode, encode, params_from_json, params_to_json
from asfl.reference.atomic import write_atomic
from asfl.reference.field_domain import FieldDomain
from asfl.spec import (
    PACED,
    STANDARD,
    Params,
    Rules,
    World,
    initial_world,
    step,
)
from asfl.spec.world import Event

FORMAT = "ITF"
FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"

#: value domains a trace may name, each built by (params, seed); an explicit table, imported on use
DOMAIN_NAMES = ("field", "symbolic", "tiny", "runtime")


def make_domain(name: str, params: Params, seed: int) -> Any:
    """The value domain a trace names: the reference's field, the symbolic, the tiny domain, or the
    networked runtime's (`asfl cluster up --record FILE.itf.json`)."""
    if name == "field":
        return FieldDomain(params, seed)
    if name == "symbolic":
        from asfl.properties.domains.symbolic import SymbolicDomain

        return SymbolicDomain(params, seed)
    if name == "tiny":
        from asfl.properties.domains.tiny import TinyDomain

        return TinyDomain(params, seed)
    if name == "runtime":  # the networked runtime's: the field domain with MAC-tagged shares
        from asfl.reference.runtime.config import RuntimeDomain

        return RuntimeDomain(params, seed)
    raise ValueError(f"unknown domain {name!r}; known: {', '.join(DOMAIN_NAMES)}")


#: rule tables a trace may name besides the shipped ones (`rule_table`): a variant file's or a
#: mutant's, registered explicitly by whoever loads it (the audit)
RULESETS: dict[str, Rules] = {STANDARD.name: STANDARD, PACED.name: PACED}


def register_rules(table: Rules) -> None:
    RULESETS[table.name] = table


def rule_tables() -> dict[str, Rules]:
    """Every rule table a trace may name: the protocol's (STANDARD, PACED), the broken variants and
    the superseded tables of `audit/broken_variants.py`, and those registered with `register_rules`.
    An explicit table, not one filled by importing modules (issue 12)."""
    from asfl.properties.audit.broken_variants import SUPERSEDED, VARIANTS

    return {**{name: v.rules for name, v in VARIANTS.items()}, **SUPERSEDED, **RULESETS}


def rule_table(name: str) -> Rules:
    tables = rule_tables()
    if name not in tables:
        raise ValueError(f"unknown rule table {name!r}; known: {', '.join(sorted(tables))}")
    return tables[name]


def spec_modules() -> list[ModuleType]:
    """Every module of the spec package, by name: the fingerprint covers them all, so a module
    added to spec/ (or one forgotten in a list, as fmap and errors were) cannot change the protocol
    unseen."""
    import asfl.spec as spec_package

    names = sorted(info.name for info in pkgutil.iter_modules(spec_package.__path__))
    return [importlib.import_module(f"asfl.spec.{name}") for name in names]


def protocol_fingerprint(table: Rules = STANDARD) -> str:
    """SHA-256 of the spec's source and of every rule the table replaces: the protocol's identity."""
    h = hashlib.sha256()
    for module in spec_modules():
        h.update(module.__name__.encode())
        h.update(inspect.getsource(module).encode())
    for f in fields(table):
        if f.name == "name":
            continue
        fn = getattr(table, f.name)
        if fn is not getattr(STANDARD, f.name):
            h.update(f"{f.name}={fn.__module__}.{fn.__qualname__}".encode())
            try:
                h.update(inspect.getsource(fn).encode())
            except (OSError, TypeError):
                pass
    return h.hexdigest()[:16]


#: the verification engine's packages whose code decides which runs a search draws and how they are
#: judged: a change to any of them (an adversary's offers, the scheduler, a property) changes verdicts
ENGINE_PACKAGES = ("adversaries", "domains", "judge", "search")


def engine_fingerprint() -> str:
    """SHA-256 of the engine's source (ENGINE_PACKAGES): with `protocol_fingerprint`, what a pinned
    verdict was judged by, so a resumed campaign (`asfl sweep --resume`) never mixes the verdicts of
    two engines (a new adversary draws other runs while the protocol is the same)."""
    import asfl.properties as engine

    h = hashlib.sha256()
    for package in ENGINE_PACKAGES:
        root = Path(engine.__path__[0]) / package
        for path in sorted(root.glob("*.py")):
            h.update(f"{package}/{path.name}".encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def summarize(world: World) -> dict:
    """The ITF state: what each party's progress is, after the action taken."""
    aggs = {}
    for j, a in enumerate(world.aggregators):
        if a is None:
            aggs[j] = {"byzantine": True}
        else:
            aggs[j] = {"round": a.model_round, "fixed": encode(a.fixed), "endorsed": encode(a.endorsed)}
    clients = {
        c.c: {
            "round": c.model_round,
            "released": c.released,
            "contributed": encode(c.contributed),
            "crashed": c.c in world.crashed,
        }
        for c in world.clients
    }
    last = world.last
    return {
        "refused": (last.refused_rule or "") if last else "",
        "in_flight": len(world.in_flight),
        "aggregators": {"#map": [[j, v] for j, v in aggs.items()]},
        "clients": {"#map": [[c, v] for c, v in clients.items()]},
    }


@dataclass
class Trace:
    """A run: the configuration and the events applied to its initial world."""

    params: Params
    seed: int
    events: list[Event]
    byzantine: tuple[int, ...] = ()
    domain: str = "field"
    rules: str = STANDARD.name
    status: str = "ok"  # "ok", or "violation"
    property: str = ""  # the property violated, e.g. "P2"
    description: str = ""
    loop: int | None = None
    extra: dict = field(default_factory=dict)  # more #meta (adversary, example counts ...)
    fingerprint: str = ""
    summaries: list[dict] = field(default_factory=list)  # recorded states (from a file)
    raises: Event | None = None  # the action under which the spec raised, after the last state (RAISED)

    def initial_world(self) -> World:
        table = rule_table(self.rules)
        dom = make_domain(self.domain, self.params, self.seed)
        return initial_world(self.params, dom, self.byzantine, table)

    def worlds(self) -> list[World]:
        """Every world of the run, the initial one first."""
        w = self.initial_world()
        out = [w]
        for event in self.events:
            w = step(w, event)
            out.append(w)
        return out

    def to_itf(self) -> dict:
        table = rule_tables().get(self.rules, STANDARD)
        meta = {
            "format": FORMAT,
            "format-description": FORMAT_DESCRIPTION,
            "source": "asfl",
            "protocol": self.rules,
            "fingerprint": protocol_fingerprint(table),
            "params": params_to_json(self.params),
            "seed": self.seed,
            "domain": self.domain,
            "byzantine": {"#tup": list(self.byzantine)},
            "status": self.status,
            "property": self.property,
            "description": self.description,
            **self.extra,
        }
        if self.raises is not None:  # it has no state after it: the spec raised instead (issue 13)
            meta["raises"] = encode(self.raises)
        states = []
        for index, w in enumerate(self.worlds()):
            action = encode(self.events[index - 1]) if index else {"type": "Init"}
            states.append({"#meta": {"index": index}, "action": action, **summarize(w)})
        out: dict = {
            "#meta": meta,
            "vars": ["action", "refused", "in_flight", "aggregators", "clients"],
            "states": states,
        }
        if self.loop is not None:
            out["loop"] = self.loop
        return out

    @classmethod
    def from_itf(cls, doc: dict) -> Trace:
        meta = doc["#meta"]
        if meta.get("format") != FORMAT or meta.get("source") != "asfl":
            raise ValueError("not an asfl ITF trace (#meta.format must be ITF, #meta.source asfl)")
        known = {
            "format",
            "format-description",
            "source",
            "protocol",
            "fingerprint",
            "params",
            "seed",
            "domain",
            "byzantine",
            "status",
            "property",
            "description",
        }
        events = [decode(s["action"]) for s in doc["states"][1:]]
        return cls(
            params=params_from_json(meta["params"]),
            seed=meta["seed"],
            events=events,
            byzantine=tuple(decode(meta["byzantine"])),
            domain=meta["domain"],
            rules=meta["protocol"],
            status=meta["status"],
            property=meta.get("property", ""),
            description=meta.get("description", ""),
            loop=doc.get("loop"),
            extra={k: v for k, v in meta.items() if k not in known},
            fingerprint=meta["fingerprint"],
            summaries=[{k: v for k, v in s.items() if k not in ("#meta", "action")} for s in doc["states"]],
        )


def write_itf(path: Path | str, trace: Trace) -> Path:
    """Write `trace` as ITF JSON, atomically (temporary file, then rename)."""
    return write_atomic(path, json.dumps(trace.to_itf()))


def read_itf(path: Path | str) -> Trace:
    """Read a trace through the bounded, typed reader (`traces/reader.py`): every refusal is a
    one-line `ValueError` naming the file and the field."""
    from asfl.properties.traces.reader import read_trace

    return read_trace(path)


@dataclass
class Replay:
    """The outcome of re-applying a trace's actions."""

    worlds: list[World]
    protocol_changed: bool  # the fingerprint differs from the current protocol's
    first_mismatch: int | None  # first state whose summary differs from the recorded one


def replay(trace: Trace) -> Replay:
    """Re-execute `trace` and compare every state with the recorded one."""
    current = protocol_fingerprint(rule_tables().get(trace.rules, STANDARD))
    worlds = trace.worlds()
    mismatch = None
    if trace.summaries:
        for index, w in enumerate(worlds):
            recorded = trace.summaries[index] if index < len(trace.summaries) else None
            if recorded != json.loads(json.dumps(summarize(w))):
                mismatch = index
                break
    return Replay(worlds, bool(trace.fingerprint) and trace.fingerprint != current, mismatch)


def events_of(worlds: Sequence[World]) -> list[Event]:
    return [w.last.event for w in worlds[1:] if w.last is not None]
