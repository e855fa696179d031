"""cluster.toml: the public setup of one run (PROTOCOL.md section 1: parameters, the PKI, the seed).

The file names every party's host, listening port, the port its peers dial (a fault proxy's, or its
own), its Ed25519 public key (and an aggregator's X25519 key, which clients seal shares to) and the
file holding its private keys. It is read with `tomllib`; anything missing or mistyped is a
`ConfigError` with one line saying what.

The concrete values come from the seeded field domain, as in the simulator (`field_domain.py`), with
the linear-MAC realisation of A1 (`mac_rules.MAC_A1`): over the wire an aggregator holds only its
own shares, so the ideal A1 predicate, which sums every aggregator's shares, cannot be evaluated.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asfl.spec.errors import ParamsError
from asfl.spec.messages import Party, aggregator, client
from asfl.spec.params import Params
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..atomic import write_atomic
from ..field_domain import FieldDomain
from ..mac import MacKeys
from ..mac_rules import MAC_A1, MacTrainingDomain

RULES = MAC_A1
DEFAULT_MAX_FRAME = 64 << 20


class ConfigError(ValueError):
    """A cluster file or key file that cannot be used; the message is one line."""


class RuntimeDomain(FieldDomain):
    """The seeded field domain plus the MAC key setup of section 4: shares carry tags, and tags add
    and scale with them (the arithmetic of `mac_rules.MacTrainingDomain`, reused)."""

    add = MacTrainingDomain.add
    scale = MacTrainingDomain.scale
    sub = MacTrainingDomain.sub
    linear_combination = MacTrainingDomain.linear_combination

    def __init__(self, params: Params, seed: int) -> None:
        super().__init__(params, seed)
        secret = hashlib.sha256(b"asfl-runtime-mac" + seed.to_bytes(8, "big", signed=True)).digest()
        self.mac_keys = MacKeys.setup(secret, params.n_c, params.n_a, params.q, params.d)


@dataclass(frozen=True)
class PartyConfig:
    party: Party
    host: str
    port: int  # where the party listens
    dial_port: int  # where its peers connect: its fault proxy, or `port`
    sign_public: bytes  # Ed25519, 32 bytes
    kx_public: bytes | None  # X25519, 32 bytes: aggregators only (sealed shares)
    key_file: Path
    strategy: str | None = None  # a Byzantine aggregator's strategy


@dataclass(frozen=True)
class ClusterConfig:
    path: Path
    params: Params
    seed: int
    directory: Path  # stores, status files and logs
    train_time: float  # median seconds a client trains
    max_frame: int
    parties: dict[Party, PartyConfig]

    @property
    def byzantine(self) -> frozenset[int]:
        return frozenset(p.index for p, pc in self.parties.items() if pc.strategy is not None)

    def store_path(self, party: Party) -> Path:
        return self.directory / "store" / f"{party}.sqlite"

    def status_path(self, party: Party) -> Path:
        return self.directory / "status" / f"{party}.json"

    def log_path(self, party: Party) -> Path:
        return self.directory / "logs" / f"{party}.log"

    def domain(self) -> RuntimeDomain:
        return RuntimeDomain(self.params, self.seed)


@dataclass(frozen=True)
class PrivateKeys:
    sign: Ed25519PrivateKey
    kx: X25519PrivateKey | None


def _raw_public(key: Any) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _need(table: dict, key: str, kind: type, where: str) -> Any:
    if key not in table:
        raise ConfigError(f"{where}: missing '{key}'")
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigError(f"{where}: '{key}' must be {kind.__name__}, got {value!r}")
    return value


def _hex32(table: dict, key: str, where: str) -> bytes:
    text = _need(table, key, str, where)
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ConfigError(f"{where}: '{key}' must be 32 bytes in hex")
    return raw


def load(path: Path | str) -> ClusterConfig:
    """Read and check a cluster file (see the module docstring)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not TOML ({e})") from e
    cl = data.get("cluster")
    if not isinstance(cl, dict):
        raise ConfigError(f"{path}: missing [cluster]")
    w = f"{path} [cluster]"
    try:
        params = Params(
            n_c=_need(cl, "n_c", int, w),
            t_c=_need(cl, "t_c", int, w),
            n_a=_need(cl, "n_a", int, w),
            t_a=_need(cl, "t_a", int, w),
            R=_need(cl, "rounds", int, w),
            d=_need(cl, "dim", int, w),
            T=cl.get("threshold"),
            m=cl.get("m"),
            Q=cl.get("quota"),
            s_max=cl.get("s_max", 1),
        )
    except ParamsError as e:
        raise ConfigError(f"{w}: parameters refused by {e.condition}: {e.reason}") from e
    directory = Path(_need(cl, "dir", str, w))
    if not directory.is_absolute():
        directory = path.parent / directory
    max_frame = cl.get("max_frame", DEFAULT_MAX_FRAME)
    if not isinstance(max_frame, int) or max_frame < 1024:
        raise ConfigError(f"{w}: 'max_frame' must be an integer >= 1024")
    parties: dict[Party, PartyConfig] = {}
    for role, make, count in (("aggregator", aggregator, params.n_a), ("client", client, params.n_c)):
        rows = data.get(role, [])
        if not isinstance(rows, list):
            raise ConfigError(f"{path}: [[{role}]] must be an array of tables")
        for k, row in enumerate(rows):
            where = f"{path} [[{role}]] #{k}"
            idx = _need(row, "id", int, where)
            if not 0 <= idx < count or make(idx) in parties:
                raise ConfigError(f"{where}: id {idx} is out of range or repeated")
            key_file = Path(_need(row, "key_file", str, where))
            strategy = row.get("strategy")
            if strategy is not None and (role != "aggregator" or not isinstance(strategy, str)):
                raise ConfigError(f"{where}: only an aggregator may have a 'strategy' (a name)")
            port = _need(row, "port", int, where)
            parties[make(idx)] = PartyConfig(
                party=make(idx),
                host=_need(row, "host", str, where),
                port=port,
                dial_port=row.get("dial_port", port),
                sign_public=_hex32(row, "sign_public", where),
                kx_public=_hex32(row, "kx_public", where) if role == "aggregator" else None,
                key_file=key_file if key_file.is_absolute() else path.parent / key_file,
                strategy=strategy,
            )
        if len([p for p in parties if p.role == role[0]]) != count:
            raise ConfigError(f"{path}: needs exactly {count} [[{role}]] entries with ids 0..{count - 1}")
    cfg = ClusterConfig(
        path=path,
        params=params,
        seed=_need(cl, "seed", int, w),
        directory=directory,
        train_time=_need(cl, "train_time", float, w) if "train_time" in cl else 0.02,
        max_frame=max_frame,
        parties=parties,
    )
    if len(cfg.byzantine) > params.t_a:
        raise ConfigError(f"{path}: {len(cfg.byzantine)} Byzantine aggregators, at most t_a={params.t_a}")
    return cfg


def load_private(cfg: ClusterConfig, party: Party) -> PrivateKeys:
    """The party's private keys, checked against the public keys the cluster file names."""
    pc = cfg.parties[party]
    try:
        raw = json.loads(pc.key_file.read_text())
        sign = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(raw["sign"]))
        kx = X25519PrivateKey.from_private_bytes(bytes.fromhex(raw["kx"])) if raw.get("kx") else None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{pc.key_file}: not a key file of {party} ({e})") from e
    if _raw_public(sign) != pc.sign_public or (
        pc.kx_public is not None and (kx is None or _raw_public(kx) != pc.kx_public)
    ):
        raise ConfigError(f"{pc.key_file}: keys do not match the public keys of {party} in {cfg.path}")
    return PrivateKeys(sign, kx)


def write_cluster(
    directory: Path,
    params: Params,
    seed: int,
    ports: dict[Party, tuple[int, int]],
    strategies: dict[int, str] | None = None,
    train_time: float = 0.02,
    max_frame: int = DEFAULT_MAX_FRAME,
) -> Path:
    """Generate every party's keys (Ed25519, X25519 for aggregators) and write cluster.toml beside
    `keys/`; `ports[party] = (listen port, dial port)`. Files are written atomically."""
    strategies = strategies or {}
    keys_dir = directory / "keys"
    lines = [
        "[cluster]",
        f"n_c = {params.n_c}",
        f"t_c = {params.t_c}",
        f"n_a = {params.n_a}",
        f"t_a = {params.t_a}",
        f"rounds = {params.R}",
        f"dim = {params.d}",
        f"threshold = {params.T}",
        f"m = {params.m}",
        f"quota = {params.Q}",
        f"s_max = {params.s_max}",
        f"seed = {seed}",
        f"train_time = {train_time!r}",
        f"max_frame = {max_frame}",
        'dir = "."',
    ]
    parties = [aggregator(j) for j in range(params.n_a)] + [client(c) for c in range(params.n_c)]
    for party in parties:
        sign = Ed25519PrivateKey.generate()
        kx = X25519PrivateKey.generate() if party.role == "a" else None
        secret = {"sign": sign.private_bytes_raw().hex(), "kx": kx.private_bytes_raw().hex() if kx else None}
        key_file = write_atomic(keys_dir / f"{party}.key", json.dumps(secret))
        os.chmod(key_file, 0o600)
        listen, dial = ports[party]
        lines += [
            "",
            f"[[{'aggregator' if party.role == 'a' else 'client'}]]",
            f"id = {party.index}",
            'host = "127.0.0.1"',
            f"port = {listen}",
            f"dial_port = {dial}",
            f'sign_public = "{_raw_public(sign).hex()}"',
            f'key_file = "keys/{party}.key"',
        ]
        if kx is not None:
            lines.append(f'kx_public = "{_raw_public(kx).hex()}"')
        if party.role == "a" and party.index in strategies:
            lines.append(f'strategy = "{strategies[party.index]}"')
    return write_atomic(directory / "cluster.toml", "\n".join(lines) + "\n")
