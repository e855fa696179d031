"""The context of every transition: parameters, value domain, and the rule table (`rules.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .params import Params

if TYPE_CHECKING:
    from .rules import Rules


@dataclass(frozen=True)
class Context:
    params: Params
    domain: Any  # a `Domain` (domain.py)
    rules: Rules

    def clusters(self, r: int) -> tuple[frozenset[int], ...]:
        """S_i^r for every i, by the table's assignment rule (section 3)."""
        return self.rules.clusters(self.params, r)

    def cluster_of(self, r: int, c: int) -> int:
        for i, members in enumerate(self.clusters(r)):
            if c in members:
                return i
        raise ValueError(f"client {c} is in no cluster of round {r}")
