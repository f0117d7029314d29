"""Fabric transaction ids: hex(SHA-256(nonce || creator)) over a fresh 24-byte nonce."""

from __future__ import annotations

import hashlib
import os

#: Nonce length used by the official Go and Node clients (and cryptogen tooling).
NONCE_LENGTH = 24


def new_nonce() -> bytes:
    """Return a fresh random nonce from the OS CSPRNG."""
    return os.urandom(NONCE_LENGTH)


def compute_tx_id(nonce: bytes, creator: bytes) -> str:
    """Compute the transaction id the peer recomputes (``protoutil.ComputeTxID``).

    Args:
        nonce: the nonce placed in the signature header.
        creator: the serialized ``msp.SerializedIdentity`` of the signer.

    Returns:
        Lower-case hex SHA-256 of ``nonce || creator``.
    """
    return hashlib.sha256(nonce + creator).hexdigest()
