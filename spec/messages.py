"""Messages of PROTOCOL.md section 5, as frozen data.

Signatures are an ideal functionality: a `Sig` names its signer and the exact payload, and the
world (`world.py`) refuses any Byzantine injection that carries a correct party's signature or a
client's contribution the coalition has not seen. So a transition may trust `Sig.signer`, and a
`Contrib` is "signed by c" by construction.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from .domain import Model, Value


class Party(NamedTuple):
    """A party: role "c" (client) or "a" (aggregator), and its index."""

    role: str
    index: int

    def __str__(self) -> str:
        return f"{self.role}{self.index}"


def client(c: int) -> Party:
    return Party("c", c)


def aggregator(j: int) -> Party:
    return Party("a", j)


@dataclass(frozen=True)
class Sig:
    """`signer`'s signature on `payload` (an aggregator's; clients sign their Contrib itself)."""

    signer: int
    payload: tuple[Hashable, ...]


def endorsement_payload(r: int, i: int, members: frozenset[int]) -> tuple[Hashable, ...]:
    """What an endorsement signs: (r, i, hash(S))."""
    return ("endorse", r, i, members)


def intent_payload(r: int, i: int, members: frozenset[int]) -> tuple[Hashable, ...]:
    """What an ENDORSE signs (finding F1): distinct from the share-sum's endorsement, so seeing an
    ENDORSE never lets anyone pass off a share-sum of its signer."""
    return ("endorse-intent", r, i, members)


def certify_payload(r: int, i: int, members: frozenset[int], agg: Hashable) -> tuple[Hashable, ...]:
    """What a CERTIFY signs: (r, i, hash(S), hash(agg))."""
    return ("certify", r, i, members, agg)


@dataclass(frozen=True)
class Sealed:
    """The share p(j+1) of a client's pad for aggregator j, readable by j alone."""

    to: int
    share: Value


@dataclass(frozen=True)
class Contrib:
    """CONTRIB(r, c, r_model, y, sealed): y = x + rho; sealed[j] for aggregator j. Signed by c."""

    r: int
    c: int
    r_model: int
    y: Value
    sealed: tuple[Sealed, ...]


@dataclass(frozen=True)
class UnmaskReq:
    """UNMASK_REQ(r, i, S, ...): the set coordinator i wants unmasked, with the members' signed
    contributions (so each aggregator opens its own sealed share even if the client crashed)."""

    r: int
    i: int
    members: frozenset[int]
    contribs: tuple[Contrib, ...]


@dataclass(frozen=True)
class Endorsement:
    """ENDORSE(r, i, S, sig): aggregator `sender` endorses (r, i, hash(S)) and withholds its
    share-sum until the coordinator shows T endorsements of the same S (finding F1, REVEAL)."""

    r: int
    i: int
    members: frozenset[int]
    sender: int
    sig: Sig


@dataclass(frozen=True)
class Reveal:
    """REVEAL(r, i, S, sigs): coordinator i shows T endorsements of (r, i, hash(S)); by Q2 no other
    set of (r, i) can have them, so a share-sum is only ever released for one set (finding F1)."""

    r: int
    i: int
    members: frozenset[int]
    sigs: tuple[Sig, ...]


@dataclass(frozen=True)
class ShareSum:
    """SHARE_SUM(r, i, S, sum, sig): aggregator `sender`'s sum of its shares over S, endorsing S."""

    r: int
    i: int
    members: frozenset[int]
    sender: int
    total: Value
    endorsement: Sig


@dataclass(frozen=True)
class Cluster:
    """CLUSTER(r, i, S, ys, sums): the members' signed contributions and T share-sums."""

    r: int
    i: int
    members: frozenset[int]
    contribs: tuple[Contrib, ...]
    sums: tuple[ShareSum, ...]


@dataclass(frozen=True)
class Certify:
    """CERTIFY(r, i, hash(S), hash(agg), sig): the sender checked the share-sums and recomputed agg."""

    r: int
    i: int
    members: frozenset[int]
    agg_digest: Hashable
    sig: Sig


@dataclass(frozen=True)
class CertifiedResult:
    """A cluster result with the CERTIFY signatures that certify it (t_a + 1 distinct signers)."""

    i: int
    members: frozenset[int]
    agg: Value
    sigs: tuple[Sig, ...]


@dataclass(frozen=True)
class ModelMsg:
    """MODEL(r, w, proof): proof[k] holds the certified results averaged in round k, k < r."""

    r: int
    w: Model
    proof: tuple[tuple[CertifiedResult, ...], ...]


Message = Contrib | UnmaskReq | Endorsement | Reveal | ShareSum | Cluster | Certify | ModelMsg


def authenticated_parts(msg: Message) -> Iterator[Sig | Contrib]:
    """Every signature and signed contribution a message carries (what forging would change)."""
    if isinstance(msg, Contrib):
        yield msg
    elif isinstance(msg, UnmaskReq):
        yield from msg.contribs
    elif isinstance(msg, Endorsement):
        yield msg.sig
    elif isinstance(msg, Reveal):
        yield from msg.sigs
    elif isinstance(msg, ShareSum):
        yield msg.endorsement
    elif isinstance(msg, Cluster):
        yield from msg.contribs
        for s in msg.sums:
            yield s.endorsement
    elif isinstance(msg, Certify):
        yield msg.sig
    elif isinstance(msg, ModelMsg):
        for results in msg.proof:
            for res in results:
                yield from res.sigs
