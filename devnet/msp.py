"""The org's MSP: turns a SerializedIdentity into a validated identity (chain, NodeOU, expiry) and checks roles."""

from __future__ import annotations

import dataclasses
import datetime
import threading
from collections import OrderedDict

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devnet import signatures
from devnet._protos import identities_pb2

NODE_OUS = ("client", "peer", "admin", "orderer")
# Channel policies of a test-network style channel (configtx.yaml, Org1 with NodeOUs):
#   Readers: admin, peer, client.  Writers: admin, client.  Endorsement: peer.
READER_ROLES = frozenset({"admin", "peer", "client"})
WRITER_ROLES = frozenset({"admin", "client"})
_CACHE_SIZE = 4096


class IdentityError(Exception):
    """The identity is unknown, malformed, not issued by the org CA, expired, or lacks a NodeOU."""


@dataclasses.dataclass(frozen=True)
class Identity:
    """A validated member of the org.

    Attributes:
        msp_id: The MSP id from the SerializedIdentity.
        id_bytes: The certificate PEM as sent (Fabric keys identities by these exact bytes).
        certificate: The parsed certificate.
        public_key: Its P-256 public key.
        role: The NodeOU (client, peer, admin or orderer).
    """

    msp_id: str
    id_bytes: bytes
    certificate: x509.Certificate
    public_key: ec.EllipticCurvePublicKey
    role: str

    def verify(self, signature: bytes, message: bytes) -> None:
        """Check this identity's signature over ``message`` (low-S enforced).

        Raises:
            devnet.signatures.SignatureError: when it does not verify.
        """
        signatures.verify(self.public_key, signature, message)


class Msp:
    """One org's membership service provider, rooted at a single CA, with NodeOUs enabled."""

    def __init__(self, msp_id: str, ca_cert: x509.Certificate) -> None:
        self.msp_id = msp_id
        self.ca_cert = ca_cert
        # Deserialising and chain-checking costs two ECDSA operations; a client sends the same bytes on every
        # request, so validated identities are cached by their serialized form (expiry is rechecked on each use).
        self._cache: OrderedDict[bytes, Identity] = OrderedDict()
        self._lock = threading.Lock()

    def deserialize(self, serialized: bytes, *, now: datetime.datetime | None = None) -> Identity:
        """Parse and validate a serialized ``msp.SerializedIdentity``.

        Raises:
            IdentityError: with a message in the spirit of Fabric's MSP errors.
        """
        with self._lock:
            cached = self._cache.get(serialized)
            if cached is not None:
                self._cache.move_to_end(serialized)
        if cached is not None:
            self._check_validity(cached.certificate, now)
            return cached
        identity = self._validate(serialized, now)
        with self._lock:
            self._cache[serialized] = identity
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return identity

    def _validate(self, serialized: bytes, now: datetime.datetime | None) -> Identity:
        try:
            sid = identities_pb2.SerializedIdentity.FromString(serialized)
        except Exception as exc:
            raise IdentityError(f"could not deserialize a SerializedIdentity: {exc}") from exc
        if sid.mspid != self.msp_id:
            raise IdentityError(f"MSP {sid.mspid} is unknown")
        try:
            cert = x509.load_pem_x509_certificate(sid.id_bytes)
        except Exception as exc:
            raise IdentityError(f"could not decode pem bytes [{sid.id_bytes[:40]!r}]: {exc}") from exc
        public_key = cert.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
            raise IdentityError("the identity's key is not an ECDSA P-256 key")
        try:
            basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            if basic.ca:
                raise IdentityError("the supplied identity is a CA certificate, not a member")
        except x509.ExtensionNotFound:
            pass
        try:
            cert.verify_directly_issued_by(self.ca_cert)
        except Exception as exc:
            raise IdentityError(
                "the supplied identity is not valid: x509: certificate signed by unknown authority"
            ) from exc
        self._check_validity(cert, now)
        ous = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
        roles = [ou for ou in ous if ou in NODE_OUS]
        if len(roles) != 1:
            raise IdentityError(
                f"the identity must be a client, a peer, an orderer or an admin identity to be valid, "
                f"not a combination of them. OUs: {ous}"
            )
        return Identity(
            msp_id=sid.mspid,
            id_bytes=bytes(sid.id_bytes),
            certificate=cert,
            public_key=public_key,
            role=str(roles[0]),
        )

    @staticmethod
    def _check_validity(cert: x509.Certificate, now: datetime.datetime | None) -> None:
        moment = now or datetime.datetime.now(datetime.UTC)
        if moment < cert.not_valid_before_utc or moment > cert.not_valid_after_utc:
            raise IdentityError(
                "the supplied identity is not valid: x509: certificate has expired or is not yet valid"
            )

    def serialize(self, cert_pem: bytes) -> bytes:
        """The SerializedIdentity bytes of one of this org's certificates (e.g. the peer's)."""
        serialized: bytes = identities_pb2.SerializedIdentity(
            mspid=self.msp_id, id_bytes=cert_pem
        ).SerializeToString()
        return serialized
