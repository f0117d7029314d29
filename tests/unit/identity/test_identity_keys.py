"""Signing keys on disk: creation, thumbprint kids, rotation and JWKS."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import jwt

from services.identity.keys import KeyStore, jwk_thumbprint


def test_empty_directory_gets_one_private_key_file(tmp_path: Path) -> None:
    store = KeyStore.open(tmp_path / "keys")
    files = list((tmp_path / "keys").glob("*.pem"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert files[0].read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert store.current.path == files[0]


def test_reopening_loads_the_same_key(tmp_path: Path) -> None:
    first = KeyStore.open(tmp_path)
    second = KeyStore.open(tmp_path)
    assert [k.kid for k in second.keys] == [first.current.kid]


def test_kid_is_the_rfc7638_thumbprint() -> None:
    # RFC 7638 §3.1 computes the thumbprint over the required members only, in
    # lexicographic order, without whitespace; recompute it independently here.
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    n = key.public_numbers()

    def b64(i: int) -> str:
        return base64.urlsafe_b64encode(i.to_bytes(32, "big")).rstrip(b"=").decode()

    canonical = "{" + f'"crv":"P-256","kty":"EC","x":"{b64(n.x)}","y":"{b64(n.y)}"' + "}"
    import hashlib

    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    assert jwk_thumbprint(key) == expected


def test_rotation_signs_with_the_new_key_and_publishes_both(tmp_path: Path) -> None:
    store = KeyStore.open(tmp_path)
    old = store.current
    new = store.rotate()
    assert store.current.kid == new.kid != old.kid
    jwks = json.loads(store.jwks_json())
    assert [k["kid"] for k in jwks["keys"]] == [new.kid, old.kid]
    for k in jwks["keys"]:
        assert k["kty"] == "EC" and k["crv"] == "P-256" and k["alg"] == "ES256" and k["use"] == "sig"
        assert "d" not in k, "the private part must never be published"


def test_published_jwk_verifies_a_token_signed_with_the_key(tmp_path: Path) -> None:
    store = KeyStore.open(tmp_path)
    token = jwt.encode(
        {"sub": "x"}, store.current.private_key, algorithm="ES256", headers={"kid": store.current.kid}
    )
    (jwk,) = store.jwks()["keys"]
    public = jwt.PyJWK(jwk).key
    assert jwt.decode(token, public, algorithms=["ES256"])["sub"] == "x"


def test_another_process_rotation_is_seen_after_reload(tmp_path: Path) -> None:
    a = KeyStore.open(tmp_path)
    b = KeyStore.open(tmp_path)
    new = b.rotate()
    assert new.kid not in a.public_keys()
    a.reload()
    assert new.kid in a.public_keys() and a.current.kid == new.kid


def test_a_rotated_key_is_published_before_it_signs(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    store = KeyStore.open(tmp_path, activation_delay=timedelta(minutes=10))
    first = store.current
    new = store.rotate()
    now = datetime.now(UTC)
    assert new.kid in store.public_keys()
    assert store.signing_key(now).kid == first.kid
    assert store.signing_key(now + timedelta(minutes=11)).kid == new.kid


def test_a_fresh_directory_signs_at_once_whatever_the_delay(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    store = KeyStore.open(tmp_path, activation_delay=timedelta(hours=1))
    assert store.signing_key(datetime.now(UTC)).kid == store.keys[0].kid


def test_key_age_comes_from_the_file_name_not_mtime(tmp_path: Path) -> None:
    import os

    store = KeyStore.open(tmp_path)
    older = store.current
    newer = store.rotate()
    # A copy that resets mtimes (older file now looks newest) must not change the order.
    os.utime(older.path, (2_000_000_000, 2_000_000_000))
    store.reload()
    assert [k.kid for k in store.keys] == [older.kid, newer.kid]
