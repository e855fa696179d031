"""A networked run as an ITF trace (`asfl cluster up --record FILE.itf.json`), for `asfl replay`/`show`.

The merged schedule of the processes' logs (`reference/runtime/trace.py`) is a list of spec world
events; written with the verification's ITF codec (`properties/traces/itf.py`) it replays like any
recorded run, and `asfl replay` re-judges P2 on it. The runtime's value domain (the seeded field
domain with MAC-tagged shares) is named "runtime" in `traces.make_domain`; its rule table (`mac-a1`)
and the tagged shares' ITF codec are registered here, explicitly, by the commands that read or
write such traces (`reference` never imports `properties`, ARCHITECTURE.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def register() -> None:
    """Make the runtime's rule table and tagged shares known to the ITF traces and codec."""
    import numpy as np

    from asfl.properties.traces import codec
    from asfl.properties.traces import itf as traces
    from asfl.reference.mac_rules import MAC_A1, TaggedVec

    def encode(v: TaggedVec) -> dict:
        return {
            "values": {"#tup": [codec.encode(int(x)) for x in v.a]},
            "tags": {"#tup": [codec.encode(int(x)) for x in v.tags]},
        }

    def decode(d: dict) -> TaggedVec:
        values = [codec.decode(x) for x in d["values"]["#tup"]]
        tags = [codec.decode(x) for x in d["tags"]["#tup"]]
        return TaggedVec(np.array(values, dtype=np.int64), np.array(tags, dtype=np.int64))

    traces.register_rules(MAC_A1)  # the domain is "runtime" in traces.make_domain
    codec.register(TaggedVec, encode, decode)


def write(path: Path, merged: Any, cfg: Any, summary: dict[str, Any]) -> Path:
    """Write the merged schedule `merged` (a `trace._Replayer`) of cluster `cfg` as ITF."""
    from asfl.properties.traces.itf import Trace, write_itf

    register()
    trace = Trace(
        params=cfg.params,
        seed=cfg.seed,
        events=list(merged.world_events),
        byzantine=tuple(sorted(cfg.byzantine)),
        domain="runtime",
        rules="mac-a1",
        status="ok",
        property="P2",
        description="a networked run (asfl cluster up): P2 is re-judged on its schedule",
        extra={"runtime": {"seconds": summary.get("seconds"), "killed": summary.get("killed", [])}},
    )
    return write_itf(path, trace)
