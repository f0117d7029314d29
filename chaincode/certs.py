"""Reads Fabric CA attributes (such as `gxc_role`) from the submitter's X.509 certificate."""

from __future__ import annotations

import base64
import binascii
import functools
import json

from chaincode.errors import PermissionDenied

ROLE_ATTRIBUTE = "gxc_role"
# Fabric CA puts enrolment attributes in this extension, as JSON {"attrs": {...}}.
_ATTRS_OID = bytes.fromhex("2a030405060708 01".replace(" ", ""))
_ROLE_RANK = {"gx_partner_api": 1, "gx_admin": 2, "gx_super_admin": 3}


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """Read one DER tag-length header at *pos*; return (tag, value start, value end)."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise ValueError("truncated DER")
    return tag, pos, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, vstart, vend = _tlv(data, pos)
        out.append((tag, vstart, vend))
        pos = vend
    return out


def _der_from(cert: bytes) -> bytes:
    text = cert.strip()
    if text.startswith(b"-----BEGIN"):
        body = b"".join(line for line in text.splitlines() if not line.startswith(b"-----"))
        return base64.b64decode(body)
    return bytes(cert)


def certificate_attributes(cert: bytes) -> dict[str, str]:
    """Return the Fabric CA attributes in a PEM or DER certificate ({} if it has none).

    Raises:
        ValueError: The bytes are not a parseable certificate.
    """
    try:
        der = _der_from(cert)
        _, cstart, cend = _tlv(der, 0)
        _, tstart, tend = _children(der, cstart, cend)[0]
        for tag, vstart, _vend in _children(der, tstart, tend):
            if tag != 0xA3:  # [3] extensions
                continue
            _, sstart, send = _tlv(der, vstart)
            for _, estart, eend in _children(der, sstart, send):
                parts = _children(der, estart, eend)
                oid = der[parts[0][1] : parts[0][2]]
                if oid != _ATTRS_OID:
                    continue
                octets = parts[-1]
                doc = json.loads(der[octets[1] : octets[2]])
                attrs = doc.get("attrs", {}) if isinstance(doc, dict) else {}
                return {str(k): str(v) for k, v in attrs.items()}
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the submitter certificate: {exc}") from exc
    return {}


def submitter_role(creator: object, role_msps: frozenset[str] | None = None) -> str:
    """Return the `gxc_role` of the transaction's creator ('' when absent or unreadable).

    Args:
        creator: The shim's creator dict (``mspid``, ``idBytes``).
        role_msps: When set, only certificates of these MSPs carry roles: on a channel with several
            organisations, another org's CA could otherwise issue itself `gx_super_admin`.
    """
    if not isinstance(creator, dict):
        return ""
    if role_msps is not None and creator.get("mspid") not in role_msps:
        return ""
    id_bytes = creator.get("idBytes")
    if not id_bytes:
        return ""
    return _certificate_role(bytes(id_bytes))


# The backend submits with a handful of identities, so the same certificate arrives with nearly
# every transaction: walk its DER once. The role is a pure function of the bytes.
@functools.lru_cache(maxsize=64)
def _certificate_role(cert: bytes) -> str:
    try:
        return certificate_attributes(cert).get(ROLE_ATTRIBUTE, "")
    except ValueError:
        return ""


def role_at_least(role: str, required: str) -> bool:
    """True if *role* ranks at or above *required* (gx_partner_api < gx_admin < gx_super_admin)."""
    return _ROLE_RANK.get(role, 0) >= _ROLE_RANK[required]


def require_role(role: str, required: str, function: str) -> None:
    """Refuse unless *role* ranks at or above *required*.

    Raises:
        PermissionDenied: The role is missing or too low.
    """
    if not role_at_least(role, required):
        raise PermissionDenied(
            f"{function} needs gxc_role {required} or higher; the submitter has {role or 'none'!r}"
        )
