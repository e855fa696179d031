"""Quorum theory: Q1-Q6 proved or refuted by z3, and the size expressions."""
