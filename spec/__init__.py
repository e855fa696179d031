"""asfl.spec: the ASFL protocol as pure, total state-transition functions (PROTOCOL.md).

No I/O, no clocks, no hidden randomness: every value a party draws comes from a value domain,
keyed by (seed, party, round, label), so a run is a function of its seed and its schedule.
"""

from .context import Context
from .errors import ParamsError, ProtocolError
from .params import Params
from .rules import PACED, RULE_SIGNATURES, STANDARD, Rules
from .world import (
    Crash,
    Deliver,
    Envelope,
    Event,
    Inject,
    InvalidEvent,
    Outcome,
    TrainDone,
    World,
    enabled,
    finished,
    initial_world,
    step,
)

__all__ = [
    "Context",
    "PACED",
    "RULE_SIGNATURES",
    "Rules",
    "STANDARD",
    "Crash",
    "Deliver",
    "Envelope",
    "Event",
    "Inject",
    "InvalidEvent",
    "Outcome",
    "Params",
    "ParamsError",
    "ProtocolError",
    "TrainDone",
    "World",
    "enabled",
    "finished",
    "initial_world",
    "step",
]
