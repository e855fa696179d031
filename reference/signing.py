"""Ed25519 endorsements and certificates (PROTOCOL.md sections 5-6; Q6, P4), from `cryptography`.

The spec treats signatures as an ideal functionality (`spec.messages.Sig` names signer and
payload); this module is what realises it. A payload (an endorsement `(r, i, hash(S))` or a
CERTIFY `(r, i, hash(S), hash(agg))`) is signed over a canonical byte encoding, and a certificate
is valid when `t_a + 1` distinct aggregators signed the same payload (Q6: then one of them is
correct and checked it). Keys are derived from a setup seed so a simulated run is reproducible;
a deployment would generate them with `Ed25519PrivateKey.generate()`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def canonical(payload: tuple[Hashable, ...]) -> bytes:
    """A canonical encoding: sets become sorted lists, so equal payloads give equal bytes."""

    def norm(x: object) -> object:
        if isinstance(x, frozenset | set):
            return sorted(norm(e) for e in x)  # type: ignore[type-var]
        if isinstance(x, tuple | list):
            return [norm(e) for e in x]
        if isinstance(x, bytes):
            return x.hex()
        if isinstance(x, int | str | float) or x is None:
            return x
        raise TypeError(f"cannot sign a {type(x).__name__}")

    return json.dumps(norm(payload), separators=(",", ":")).encode()


class KeyRing:
    """The PKI of section 1: one Ed25519 key pair per aggregator, public keys known to all."""

    def __init__(self, seed: bytes, n_a: int) -> None:
        self._private = [
            Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"asfl-ed25519" + seed + bytes([j])).digest())
            for j in range(n_a)
        ]
        self.public: tuple[Ed25519PublicKey, ...] = tuple(k.public_key() for k in self._private)

    def sign(self, signer: int, payload: tuple[Hashable, ...]) -> bytes:
        return self._private[signer].sign(canonical(payload))

    def verify(self, signer: int, payload: tuple[Hashable, ...], signature: bytes) -> bool:
        if not 0 <= signer < len(self.public):
            return False
        try:
            self.public[signer].verify(signature, canonical(payload))
        except InvalidSignature:
            return False
        return True

    def certificate_valid(
        self, payload: tuple[Hashable, ...], signatures: Mapping[int, bytes], t_a: int
    ) -> bool:
        """Q6: at least t_a + 1 distinct aggregators validly signed this very payload."""
        valid = {j for j, s in signatures.items() if self.verify(j, payload, s)}
        return len(valid) >= t_a + 1
