"""Pads and coefficients from a cryptographic PRG: AES-256 in counter mode (PROTOCOL.md section 4).

Keys are derived with SHA-256 from (secret seed, label), so every draw of a run is a function of
its seed and the label (the spec's `Label`: kind, party, round, index). Uniformity over F_q is
by rejection: 32-bit words masked to 31 bits are uniform on [0, 2^31); the one value 2^31 - 1 = q
is rejected, so every field value is possible and all are equally likely (a modular reduction
of 32-bit words would favour small values). `cryptography`'s AES does the work; the rejection is
the few lines below because no library we ship samples into an arbitrary prime field from a
given keystream.
"""

from __future__ import annotations

import hashlib

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def derive_key(seed: bytes, *label: object) -> bytes:
    """A 32-byte key for one stream: SHA-256 over the seed and a canonical encoding of the label."""
    h = hashlib.sha256(b"asfl-prg-v1" + len(seed).to_bytes(4, "little") + seed)
    h.update(repr(tuple(label)).encode())
    return h.digest()


_ZEROS = bytes(1 << 22)  # plaintext for the keystream, reused (CTR: ciphertext of zeros = keystream)


def keystream_words(
    key: bytes, count: int, offset_blocks: int = 0, out: np.ndarray | None = None
) -> np.ndarray:
    """`count` little-endian uint32 words of AES-256-CTR keystream, starting at block `offset_blocks`.
    `out`: a uint8 buffer of at least 4 * count + 15 bytes to write them into (a caller that keeps
    its buffers from round to round; `keystream_buffer`), else a fresh one."""
    nonce = offset_blocks.to_bytes(16, "big")
    enc = Cipher(algorithms.AES(key), modes.CTR(nonce)).encryptor()
    if out is None:
        out = keystream_buffer(count)
    elif out.dtype != np.uint8 or out.ndim != 1 or out.size < 4 * count + 15:
        raise ValueError(f"out must be a uint8 vector of at least {4 * count + 15} bytes")
    view = memoryview(_ZEROS)
    done = 0
    while done < 4 * count:
        n = min(len(_ZEROS), 4 * count - done)
        enc.update_into(view[:n], memoryview(out)[done : done + n + 15])
        done += n
    enc.finalize()
    return out[: 4 * count].view("<u4")


def keystream_buffer(count: int) -> np.ndarray:
    """A uint8 buffer for `keystream_words(..., count, out=...)`: one block more than the words, as
    `cryptography`'s update_into asks; no zero-fill."""
    return np.empty(4 * count + 15, dtype=np.uint8)


def uniform_field(key: bytes, d: int, q: int) -> np.ndarray:
    """d uniform elements of F_q (q < 2^32) from the AES-CTR stream of `key`, by rejection."""
    if not 1 < q <= 2**32:
        raise ValueError("q must fit in 32 bits")
    bits = max(1, (q - 1).bit_length())
    mask = np.uint32((1 << bits) - 1) if bits < 32 else np.uint32(0xFFFFFFFF)
    first = np.empty(d, dtype=np.int64)
    # CTR from block 0: the first d words are the same however many the loop below would ask for
    np.bitwise_and(keystream_words(key, d), mask, out=first)  # one pass: mask and widen
    if d == 0 or int(first.max()) < q:
        # the usual case (for q = 2^31 - 1 a word is rejected with probability 2^-31): the first
        # d words are the first d accepted ones, exactly what the loop below returns
        return first
    out = np.empty(0, dtype=np.int64)
    offset = 0
    # acceptance probability q / 2^bits >= 1/2, so a few top-ups at most
    while out.size < d:
        need = d - out.size
        n = need + need // 8 + 16
        words = keystream_words(key, n, offset) & mask
        offset += (4 * n + 15) // 16
        words = words[words < q].astype(np.int64)
        out = np.concatenate([out, words[:need]])
    return out


def uniform_field_u32(key: bytes, d: int, q: int, out: np.ndarray | None = None) -> np.ndarray:
    """`uniform_field`'s d elements as uint32 (the same values): the keystream masked in place, no
    widening pass, half the memory traffic for the arithmetic that follows (the fast client path,
    `client_upload.py`). `out`: a `keystream_buffer(d)` to reuse. Falls back to `uniform_field`
    in the rare case a word is rejected, so both return the first d accepted words of one stream."""
    if not 1 < q <= 2**32:
        raise ValueError("q must fit in 32 bits")
    bits = max(1, (q - 1).bit_length())
    mask = np.uint32((1 << bits) - 1) if bits < 32 else np.uint32(0xFFFFFFFF)
    words = keystream_words(key, d, out=out)
    np.bitwise_and(words, mask, out=words)
    if d == 0 or int(words.max()) < q:
        return words
    words[:] = uniform_field(key, d, q)
    return words
