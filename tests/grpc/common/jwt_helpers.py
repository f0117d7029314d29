"""Test helpers: ES256 keys and tokens shaped like identity's, plus hostile variants."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

ISSUER = "gx-identity"
AUDIENCE = "gx-api"


class Signer:
    """An ES256 signing key with a kid."""

    def __init__(self, kid: str = "k1") -> None:
        self.kid = kid
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.public_key = self.private_key.public_key()

    def jwk(self) -> dict[str, Any]:
        data = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.public_key))
        data.update(kid=self.kid, use="sig", alg="ES256")
        return data

    def token(self, sub: str = "user-1", roles: list[str] | None = None, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": sub,
            "roles": roles if roles is not None else ["USER"],
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 900,
            "jti": str(uuid.uuid4()),
        }
        for key, value in overrides.items():
            if value is None:
                claims.pop(key, None)
            else:
                claims[key] = value
        return jwt.encode(claims, self.private_key, algorithm="ES256", headers={"kid": self.kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(kid: str = "k1", alg: str = "none") -> str:
    """A token with `alg: none` (or any alg) and an empty signature."""
    now = int(time.time())
    header = {"alg": alg, "typ": "JWT", "kid": kid}
    claims = {
        "sub": "attacker",
        "roles": ["SUPER_ADMIN"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 900,
        "jti": "x",
    }
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."


def hs256_token(secret: bytes, kid: str = "k1") -> str:
    """An HS256 token, as in the public-key-as-HMAC-secret confusion attack."""
    now = int(time.time())
    claims = {
        "sub": "attacker",
        "roles": ["SUPER_ADMIN"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 900,
        "jti": "x",
    }
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    import hashlib
    import hmac

    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(sig)}"
