"""asfl.properties: the verification of the spec (properties, adversaries, explorers, z3, traces)."""

# The explorer's value domain registers itself in traces.DOMAINS, so any process can replay its traces.
from . import tiny_domain as _tiny_domain  # noqa: F401
