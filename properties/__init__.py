"""asfl.properties: the verification of the spec (properties, adversaries, explorers, z3, traces)."""
