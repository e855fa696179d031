"""The durable store of one party (docs/protocol.md, "Crash recovery"): sqlite, WAL, synchronous=FULL.

Two tables, written in one transaction per applied input, committed (fsync) before any message that
input causes is sent:
  inputs     every input the party applied, in order: a delivered message (its sender, its
             `message_key`, the frame body as received) or the end of a training. A transition is a
             pure function, so the state is the fold of this log, and a restart rebuilds it exactly.
  registers  the state a correct party must never contradict, written once per key:
             `endorsed/r/i` (the set endorsed for (r, i), Q2 write-once), `revealed/r/i` (a
             share-sum released, F1) and a client's `released` count (I2). A second set for one
             (round, cluster) violates the table's primary key: the insert fails and nothing is sent.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


class StoreError(RuntimeError):
    """The store contradicts itself or the state rebuilt from it."""


@dataclass(frozen=True)
class Input:
    seq: int
    kind: str  # "msg" | "train"
    src_role: str | None
    src_index: int | None
    key: bytes | None
    body: bytes | None


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS inputs (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
            " src_role TEXT, src_index INTEGER, key BLOB, body BLOB, UNIQUE (src_role, src_index, key))"
        )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS registers (name TEXT PRIMARY KEY, value TEXT NOT NULL, seq INTEGER)"
        )

    def append(
        self,
        kind: str,
        src: tuple[str, int] | None,
        key: bytes | None,
        body: bytes | None,
        write_once: dict[str, str],
        counters: dict[str, str],
    ) -> int:
        """Log one input with the registers it changed, atomically and durably. A write-once
        register already holding another value raises `StoreError` and nothing is written."""
        cur = self.db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute(
                "INSERT INTO inputs (kind, src_role, src_index, key, body) VALUES (?, ?, ?, ?, ?)",
                (kind, src[0] if src else None, src[1] if src else None, key, body),
            )
            seq = int(cur.lastrowid or 0)
            for name, value in write_once.items():
                row = cur.execute("SELECT value FROM registers WHERE name = ?", (name,)).fetchone()
                if row is not None and row[0] != value:
                    raise StoreError(f"register {name} holds {row[0]}, refusing {value}")
                if row is None:
                    cur.execute("INSERT INTO registers VALUES (?, ?, ?)", (name, value, seq))
            for name, value in counters.items():
                cur.execute("INSERT OR REPLACE INTO registers VALUES (?, ?, ?)", (name, value, seq))
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return seq

    def inputs(self) -> list[Input]:
        rows = self.db.execute("SELECT seq, kind, src_role, src_index, key, body FROM inputs ORDER BY seq")
        return [Input(*row) for row in rows]

    def registers(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT name, value FROM registers").fetchall())

    def close(self) -> None:
        self.db.close()


def read_inputs(path: Path) -> list[Input]:
    """Another process's log, read-only (the trace merge)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT seq, kind, src_role, src_index, key, body FROM inputs ORDER BY seq")
        return [Input(*row) for row in rows]
    finally:
        db.close()


def read_registers(path: Path) -> dict[str, str]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(db.execute("SELECT name, value FROM registers").fetchall())
    finally:
        db.close()
