"""An immutable, hashable mapping: the spec's states are values, so their maps are too.

Python 3.11 has no frozendict; `FMap.set` copies, which is cheap at the sizes a state holds
(one entry per client or aggregator) and keeps every transition a pure function.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class FMap(Mapping[K, V], Generic[K, V]):
    __slots__ = ("_d", "_hash")

    def __init__(self, items: Mapping[K, V] | None = None) -> None:
        self._d: dict[K, V] = dict(items) if items else {}
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._d[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._d.items()))
        return self._hash

    def __reduce__(self) -> tuple:
        """Pickled without its cached hash: `hash` of strings differs between processes (Python's
        hash randomisation), so a hash computed by one process is wrong in another (a Ray worker)."""
        return (FMap, (self._d,))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FMap):
            return self._d == other._d
        return NotImplemented

    def __repr__(self) -> str:
        return f"FMap({self._d!r})"

    def set(self, key: K, value: V) -> FMap[K, V]:
        """A copy with `key` bound to `value`."""
        d = dict(self._d)
        d[key] = value
        return FMap(d)

    def update(self, pairs: Mapping[K, V]) -> FMap[K, V]:
        d = dict(self._d)
        d.update(pairs)
        return FMap(d)

    def remove(self, key: K) -> FMap[K, V]:
        """A copy without `key` (no error if absent)."""
        if key not in self._d:
            return self
        d = dict(self._d)
        del d[key]
        return FMap(d)
