"""JSON codec for spec objects, in the ITF value conventions (the Apalache trace format).

ITF values: integers beyond 2^53 as {"#bigint": "..."}, tuples as {"#tup": [...]}, sets as
{"#set": [...]}, maps as {"#map": [[k, v], ...]}, records as plain JSON objects. Our records carry
their class in "type". ITF has no floats: a float is {"type": "float", "value": "<repr>"}.
Dataclasses and NamedTuples of the spec are encoded field by field; other classes (domain values)
register an encoder and a decoder with `register`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import numpy as np
from asfl.properties.domains.symbolic import Form
from asfl.reference.field_domain import Vec
from asfl.spec import messages, world
from asfl.spec.fmap import FMap
from asfl.spec.params import Params

_SAFE = 2**53
_TYPES: dict[str, type] = {}
_ENCODERS: dict[type, Callable[[Any], dict]] = {}
_DECODERS: dict[str, Callable[[dict], Any]] = {}


def register(
    cls: type, encode: Callable[[Any], dict] | None = None, decode: Callable[[dict], Any] | None = None
) -> None:
    """Make `cls` encodable: dataclasses and NamedTuples need no functions, other classes do."""
    _TYPES[cls.__name__] = cls
    if encode is not None and decode is not None:
        _ENCODERS[cls] = encode
        _DECODERS[cls.__name__] = decode


for _cls in (
    messages.Party,
    messages.Sig,
    messages.Sealed,
    messages.Contrib,
    messages.UnmaskReq,
    messages.Endorsement,
    messages.Reveal,
    messages.ShareSum,
    messages.Cluster,
    messages.Certify,
    messages.CertifiedResult,
    messages.ModelMsg,
    world.Deliver,
    world.TrainDone,
    world.Crash,
    world.Inject,
    world.Envelope,
):
    register(_cls)


def _vec_encode(v: Vec) -> dict:
    kind = "float" if v.a.dtype.kind == "f" else "int"
    values = [repr(float(x)) for x in v.a] if kind == "float" else [encode(int(x)) for x in v.a]
    return {"dtype": kind, "values": {"#tup": values}}


def _vec_decode(d: dict) -> Vec:
    values = d["values"]["#tup"]
    if d["dtype"] == "float":
        return Vec(np.array([float(x) for x in values], dtype=np.float64))
    return Vec(np.array([decode(x) for x in values], dtype=np.int64))


register(Vec, _vec_encode, _vec_decode)


def _form_encode(f: Form) -> dict:
    return {"terms": encode(f.terms)}


def _form_decode(d: dict) -> Form:
    return Form(decode(d["terms"]))


# the symbolic domain's values: linear forms over named secrets (traces of `asfl check`)
register(Form, _form_encode, _form_decode)


def encode(obj: Any) -> Any:
    """A JSON-ready ITF value for `obj`."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj if obj is not None else {"type": "None"}
    if isinstance(obj, int | np.integer):
        i = int(obj)
        return i if -_SAFE < i < _SAFE else {"#bigint": str(i)}
    if isinstance(obj, float):
        return {"type": "float", "value": repr(obj)}
    if isinstance(obj, bytes):
        return {"type": "bytes", "hex": obj.hex()}
    enc = _ENCODERS.get(type(obj))
    if enc is not None:
        return {"type": type(obj).__name__, **enc(obj)}
    if dataclasses.is_dataclass(obj) and type(obj).__name__ in _TYPES:
        return {
            "type": type(obj).__name__,
            **{f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init},
        }
    if isinstance(obj, tuple) and hasattr(obj, "_fields") and type(obj).__name__ in _TYPES:
        return {"type": type(obj).__name__, **{k: encode(v) for k, v in zip(obj._fields, obj, strict=True)}}
    if isinstance(obj, tuple | list):
        return {"#tup": [encode(x) for x in obj]}
    if isinstance(obj, frozenset | set):
        items = [encode(x) for x in obj]
        return {"#set": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    if isinstance(obj, FMap | dict):
        return {"#map": [[encode(k), encode(v)] for k, v in obj.items()]}
    raise TypeError(f"cannot encode {type(obj).__name__} as ITF")


def decode(value: Any) -> Any:
    """The inverse of `encode` (tuples come back as tuples, sets as frozensets, maps as FMap)."""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, list):
        return [decode(x) for x in value]
    if "#bigint" in value:
        return int(value["#bigint"])
    if "#tup" in value:
        return tuple(decode(x) for x in value["#tup"])
    if "#set" in value:
        return frozenset(decode(x) for x in value["#set"])
    if "#map" in value:
        return FMap({decode(k): decode(v) for k, v in value["#map"]})
    kind = value.get("type")
    if kind == "None":
        return None
    if kind == "float":
        return float(value["value"])
    if kind == "bytes":
        return bytes.fromhex(value["hex"])
    if kind in _DECODERS:
        return _DECODERS[kind](value)
    cls = _TYPES.get(kind)
    if cls is None:
        raise ValueError(f"unknown ITF record type {kind!r}")
    fields = {k: decode(v) for k, v in value.items() if k != "type"}
    return cls(**fields)


def params_to_json(params: Params) -> dict:
    return {f.name: encode(getattr(params, f.name)) for f in dataclasses.fields(params)}


def params_from_json(d: dict) -> Params:
    return Params(**{k: decode(v) for k, v in d.items()})
