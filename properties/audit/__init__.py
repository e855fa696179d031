"""The audit of a protocol change: variants, mutants, policies and the comparison."""
