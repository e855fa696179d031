"""Identity memos: a pure function of immutable spec objects, computed once per distinct input.

The adversaries offer the same messages step after step (a CERTIFY of every CLUSTER the coalition
received, a share-sum of every set it holds), and each needs an interpolation or a sum of
symbolic forms. Worlds share their unchanged parts (`dataclasses.replace` keeps the inbox tuple,
the messages, the context), so a result keyed by the identities of its inputs is found again at
the next step without hashing a message. An entry holds its key objects, so no id is reused while
the entry lives: a hit is exact. Spec objects are frozen, so a result never goes stale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class IdentityMemo:
    """Results keyed by the identities of their inputs; cleared whole when `limit` is reached."""

    def __init__(self, limit: int = 1 << 14) -> None:
        self.limit = limit
        self._data: dict[tuple[int, ...], tuple[tuple[object, ...], object]] = {}

    def get(self, keys: tuple[object, ...], compute: Callable[[], T]) -> T:
        ids = tuple(map(id, keys))
        hit = self._data.get(ids)
        if hit is not None:
            return hit[1]  # type: ignore[return-value]
        value = compute()
        if len(self._data) >= self.limit:
            self._data.clear()
        self._data[ids] = (keys, value)
        return value
