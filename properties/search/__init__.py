"""The search: Hypothesis-driven runs of the spec, minimisation and profiles (section 7)."""
