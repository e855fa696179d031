"""A bounded, typed reader for ITF traces (`*.itf.json`, ARCHITECTURE.md "Traces"; issue #17).

Every trace a user hands `asfl replay` or `asfl show` passes here before anything runs on it:
  1. the file: a regular file of at most `MAX_BYTES`, UTF-8, JSON nested at most `MAX_DEPTH`
     deep (`reference/safe_read.py`);
  2. the document against the schema `traces/codec.py` and `traces.Trace.to_itf` write: each field of
     `#meta`, the parameters, every state and its action, with the JSON type each must have;
  3. the decoded actions: each an event of the spec (`Deliver`, `TrainDone`, `Crash`, `Inject`).
A trace failing any of these is a `TraceError` whose one line names the file and the field
(`states[3].action: ...`). The reader does not judge whether the run is possible: replaying it
does (`traces.replay`), and a step the spec refuses is reported there.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from asfl.properties.traces.codec import decode, params_from_json
from asfl.properties.traces.itf import FORMAT, Trace
from asfl.reference.safe_read import InputError, load_json_bounded
from asfl.spec import Params
from asfl.spec.errors import ParamsError
from asfl.spec.world import Crash, Deliver, Inject, TrainDone

#: the largest trace file read (the longest pinned trace is 1.3 MB)
MAX_BYTES = 64 * 2**20
#: the deepest JSON nesting read (our traces nest 18 deep)
MAX_DEPTH = 64
#: the most states a trace may hold (each is re-executed on replay)
MAX_STATES = 100_000
#: seeds and integers of the configuration are 64-bit
MAX_INT = 2**63

EVENTS = (Deliver, TrainDone, Crash, Inject)
_PARAM_FIELDS = {f.name: f for f in dataclasses.fields(Params)}
_INT_PARAMS = {"n_c", "t_c", "n_a", "t_a", "R", "s_max", "q", "scale", "d", "shuffle_rounds"}
_OPTIONAL_INT_PARAMS = {"T", "m", "Q"}
_FLOAT_PARAMS = {"clip", "z", "eta"}
#: #meta fields written by the checkers (runner.counterexample) and their JSON types
_EXTRA_TYPES: dict[str, tuple[type, ...]] = {
    "fair_from": (int,),
    "chaos_steps": (int,),
    "stuck": (bool,),
    "bound_hit": (bool,),
    "persistent_censor": (bool, str),
    "crashes": (bool,),
    "lagging_aggregator": (int,),
}


class TraceError(InputError):
    """A trace file refused: `FILE: FIELD: what is wrong`."""


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


class _Doc:
    """Field access that names the field on every refusal."""

    def __init__(self, path: Path | str) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> TraceError:
        return TraceError(f"{self.path}: malformed ITF trace: {where}: {problem}")

    def get(self, obj: dict, key: str, where: str, types: tuple[type, ...], required: bool = True) -> Any:
        if key not in obj:
            if required:
                raise self.fail(where or "document", f"missing field {key!r}")
            return None
        value = obj[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            want = " or ".join(_type_name(t()) if t is not int else "an integer" for t in types)
            raise self.fail(f"{where}.{key}" if where else key, f"must be {want}, not {_type_name(value)}")
        return value

    def integer(self, value: Any, where: str) -> int:
        """An ITF integer: a JSON integer, or {"#bigint": "digits"}."""
        if isinstance(value, dict) and set(value) == {"#bigint"} and isinstance(value["#bigint"], str):
            text = value["#bigint"]
            if not text.lstrip("-").isdigit() or len(text) > 40:
                raise self.fail(where, f"#bigint must be decimal digits, got {text[:40]!r}")
            value = int(text)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(where, f"must be an integer, not {_type_name(value)}")
        if not -MAX_INT <= value < MAX_INT:
            raise self.fail(where, f"{value} is out of the 64-bit range")
        return value


def _params(doc: _Doc, raw: Any) -> Params:
    if not isinstance(raw, dict):
        raise doc.fail("#meta.params", f"must be an object, not {_type_name(raw)}")
    unknown = sorted(set(raw) - set(_PARAM_FIELDS))
    if unknown:
        raise doc.fail("#meta.params", f"unknown parameters {unknown[:5]}")
    for key, value in raw.items():
        where = f"#meta.params.{key}"
        if key in _INT_PARAMS or (key in _OPTIONAL_INT_PARAMS and value != {"type": "None"}):
            doc.integer(value, where)
        elif key in _FLOAT_PARAMS:
            if not (
                isinstance(value, dict)
                and value.get("type") == "float"
                and isinstance(value.get("value"), str)
            ):
                raise doc.fail(where, 'must be {"type": "float", "value": "<decimal>"}')
            try:
                float(value["value"])
            except ValueError:
                raise doc.fail(where, f"not a decimal: {value['value'][:40]!r}") from None
        elif key == "genesis":
            ok = isinstance(value, dict) and value.get("type") == "bytes"
            if not ok or not isinstance(value.get("hex"), str) or len(value["hex"]) > 1024:
                raise doc.fail(where, 'must be {"type": "bytes", "hex": "<at most 512 bytes>"}')
            try:
                bytes.fromhex(value["hex"])
            except ValueError:
                raise doc.fail(where, "not hexadecimal") from None
        elif key == "allow_unsafe" and not isinstance(value, bool):
            raise doc.fail(where, f"must be a boolean, not {_type_name(value)}")
    for required in ("n_c", "t_c", "n_a", "t_a"):
        if required not in raw:
            raise doc.fail("#meta.params", f"missing field {required!r}")
    try:
        return params_from_json(raw)
    except ParamsError as e:
        raise doc.fail("#meta.params", f"refused by {e.condition}: {e.reason}") from None
    except (TypeError, ValueError, OverflowError) as e:
        raise doc.fail("#meta.params", str(e)) from None


def _event(doc: _Doc, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise doc.fail(where, f"must be an object, not {_type_name(raw)}")
    try:
        event = decode(raw)
    except RecursionError:
        raise doc.fail(where, "nested too deep") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as e:
        raise doc.fail(where, f"not an action of the spec ({type(e).__name__}: {str(e)[:120]})") from None
    if not isinstance(event, EVENTS):
        raise doc.fail(where, f"must be one of {', '.join(e.__name__ for e in EVENTS)}")
    return event


def trace_from_document(document: Any, path: Path | str = "<trace>") -> Trace:
    """Check `document` (parsed JSON) against the ITF schema of asfl traces; the `Trace`, or a
    `TraceError` naming the field."""
    doc = _Doc(path)
    if not isinstance(document, dict):
        raise doc.fail("document", f"must be an object, not {_type_name(document)}")
    meta = doc.get(document, "#meta", "", (dict,))
    if meta.get("format") != FORMAT or meta.get("source") != "asfl":
        raise doc.fail("#meta", "not an asfl ITF trace (#meta.format must be ITF, #meta.source asfl)")
    for key in ("protocol", "fingerprint", "domain", "status"):
        doc.get(meta, key, "#meta", (str,))
    for key in ("property", "description"):
        doc.get(meta, key, "#meta", (str,), required=False)
    for key, types in _EXTRA_TYPES.items():
        doc.get(meta, key, "#meta", types, required=False)
    seed = doc.integer(meta.get("seed"), "#meta.seed") if "seed" in meta else None
    if seed is None:
        raise doc.fail("#meta", "missing field 'seed'")
    byz = doc.get(meta, "byzantine", "#meta", (dict,))
    members = byz.get("#tup")
    if set(byz) != {"#tup"} or not isinstance(members, list):
        raise doc.fail("#meta.byzantine", 'must be {"#tup": [aggregator, ...]}')
    byzantine = tuple(doc.integer(b, f"#meta.byzantine[{i}]") for i, b in enumerate(members))
    params = _params(doc, meta.get("params"))
    if any(not 0 <= b < params.n_a for b in byzantine) or len(set(byzantine)) != len(byzantine):
        raise doc.fail("#meta.byzantine", f"must be distinct aggregators among 0..{params.n_a - 1}")
    if len(byzantine) > params.t_a:
        # the system model (section 1): at most t_a; said here, not left to the spec's world
        raise doc.fail("#meta.byzantine", f"names {len(byzantine)} aggregators, more than t_a={params.t_a}")
    states = doc.get(document, "states", "", (list,))
    if not states:
        raise doc.fail("states", "empty: a trace holds at least its initial state")
    if len(states) > MAX_STATES:
        raise doc.fail("states", f"{len(states)} states, more than the {MAX_STATES} a trace may have")
    events = []
    summaries = []
    for index, state in enumerate(states):
        where = f"states[{index}]"
        if not isinstance(state, dict):
            raise doc.fail(where, f"must be an object, not {_type_name(state)}")
        action = doc.get(state, "action", where, (dict,))
        if index == 0:
            if action.get("type") != "Init":
                raise doc.fail(f"{where}.action", 'the first state\'s action must be {"type": "Init"}')
        else:
            events.append(_event(doc, action, f"{where}.action"))
        summaries.append({k: v for k, v in state.items() if k not in ("#meta", "action")})
    loop = document.get("loop")
    valid_loop = isinstance(loop, int) and not isinstance(loop, bool) and 0 <= loop <= len(states)
    if loop is not None and not valid_loop:
        raise doc.fail("loop", f"must be a state index in 0..{len(states)}")
    raises = _event(doc, meta["raises"], "#meta.raises") if "raises" in meta else None
    known = {
        "format", "format-description", "source", "protocol", "fingerprint", "params", "seed",
        "domain", "byzantine", "status", "property", "description", "raises",
    }  # fmt: skip
    return Trace(
        params=params,
        seed=seed,
        events=events,
        byzantine=byzantine,
        domain=meta["domain"],
        rules=meta["protocol"],
        status=meta["status"],
        property=meta.get("property", ""),
        description=meta.get("description", ""),
        loop=loop,
        extra={k: v for k, v in meta.items() if k not in known},
        fingerprint=meta["fingerprint"],
        summaries=summaries,
        raises=raises,
    )


def read_trace(path: Path | str) -> Trace:
    """Read and check the ITF trace at `path` (bounded: `MAX_BYTES`, `MAX_DEPTH`, `MAX_STATES`)."""
    document = load_json_bounded(path, MAX_BYTES, MAX_DEPTH, "trace")
    return trace_from_document(document, path)
