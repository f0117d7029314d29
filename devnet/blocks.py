"""Fabric block construction: header hashing (protoutil/blockutils.go), data hash, metadata slots, genesis block."""

from __future__ import annotations

import hashlib
import time

from google.protobuf import timestamp_pb2

from devnet._protos import common_pb2, configtx_pb2

_METADATA_SLOTS = len(common_pb2.BlockMetadataIndex.keys())  # SIGNATURES .. COMMIT_HASH


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der_integer(value: int) -> bytes:
    body = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")  # room for a sign bit, as Go's asn1
    return b"\x02" + _der_length(len(body)) + body


def _der_octets(value: bytes) -> bytes:
    return b"\x04" + _der_length(len(value)) + value


def header_hash(header: common_pb2.BlockHeader) -> bytes:
    """sha256 of ASN.1 DER SEQUENCE{number, previous_hash, data_hash}, as Fabric's BlockHeaderBytes."""
    body = _der_integer(header.number) + _der_octets(header.previous_hash) + _der_octets(header.data_hash)
    return hashlib.sha256(b"\x30" + _der_length(len(body)) + body).digest()


def data_hash(data: list[bytes]) -> bytes:
    """sha256 over the concatenated envelopes (Fabric's BlockDataHash)."""
    h = hashlib.sha256()
    for item in data:
        h.update(item)
    return h.digest()


def new_block(number: int, previous_hash: bytes, data: list[bytes]) -> common_pb2.Block:
    """A block with its header filled in and the five (empty) metadata slots Fabric expects."""
    block = common_pb2.Block()
    block.header.number = number
    block.header.previous_hash = previous_hash
    block.header.data_hash = data_hash(data)
    block.data.data.extend(data)
    block.metadata.metadata.extend([b""] * _METADATA_SLOTS)
    return block


def genesis_block(channel_id: str) -> common_pb2.Block:
    """Block 0: a CONFIG transaction, so the first transaction block is 1, as on a real channel."""
    now = time.time_ns()
    chdr = common_pb2.ChannelHeader(
        type=common_pb2.CONFIG,
        channel_id=channel_id,
        timestamp=timestamp_pb2.Timestamp(seconds=now // 1_000_000_000, nanos=now % 1_000_000_000),
    )
    payload = common_pb2.Payload(
        header=common_pb2.Header(channel_header=chdr.SerializeToString()),
        data=configtx_pb2.ConfigEnvelope(config=configtx_pb2.Config(sequence=0)).SerializeToString(),
    )
    envelope = common_pb2.Envelope(payload=payload.SerializeToString())
    block = new_block(0, b"", [envelope.SerializeToString()])
    block.metadata.metadata[common_pb2.TRANSACTIONS_FILTER] = bytes([0])
    return block
