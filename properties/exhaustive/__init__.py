"""Exhaustive small-scope exploration: BFS over every interleaving."""
