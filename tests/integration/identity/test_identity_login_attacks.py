"""Attacks on login and registration against the real use cases, PostgreSQL and Redis.

Argon2 work is counted with identity's own metric (`gx_identity_password_verifications_total`),
the same number the e2e test reads from the process's /metrics.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from gx.identity.v1 import identity_service_pb2 as svc
from prometheus_client import REGISTRY

from services.common.errors import AlreadyExists, GxError, ResourceExhausted, Unauthenticated
from services.identity.keys import KeyStore
from services.identity.server import build_usecases
from services.identity.usecases import IdentityUseCases
from tests.integration.identity.conftest import Wired

PASSWORD = "Correct horse 42 battery"


def _count(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def _count_labelled(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _verifications() -> float:
    return _count("gx_identity_password_verifications_total")


def _hashes() -> float:
    return _count("gx_identity_password_hashes_total")


def _email() -> str:
    return f"atk-{uuid.uuid4().hex[:12]}@example.com"


async def _account(wired: Wired) -> str:
    email = _email()
    await wired.usecases.register(svc.RegisterUserRequest(email=email, password=PASSWORD))
    return email


async def _attempt(
    wired: Wired, email: str, password: str, ip: str | None = None, usecases: IdentityUseCases | None = None
) -> GxError | None:
    try:
        await (usecases or wired.usecases).login(email, password, ip)
    except GxError as exc:
        return exc
    return None


async def test_forty_concurrent_wrong_passwords_verify_at_most_five(wired: Wired) -> None:
    victim = await _account(wired)
    before = _verifications()
    throttled_before = _count_labelled("gx_identity_login_throttled_total", scope="ACCOUNT")
    outcomes = await asyncio.gather(*(_attempt(wired, victim, f"wrong guess number {i}") for i in range(40)))
    verified = _verifications() - before
    assert (
        _count_labelled("gx_identity_login_throttled_total", scope="ACCOUNT") - throttled_before
        == 40 - verified
    )
    assert verified <= wired.settings.identity.lockout_account_limit == 5
    wrong = [o for o in outcomes if isinstance(o, Unauthenticated)]
    throttled = [o for o in outcomes if isinstance(o, ResourceExhausted)]
    assert len(wrong) == verified and len(wrong) + len(throttled) == 40
    assert {o.reason for o in throttled} == {"ACCOUNT_LOCKED"}
    # Refused without verifying, with a short delay: not a 15-minute lock.
    assert all(o.retry_after is not None and o.retry_after <= 2 for o in throttled)


async def test_a_victim_is_not_locked_out_by_someone_elses_wrong_guesses(wired: Wired) -> None:
    victim = await _account(wired)
    for i in range(5):
        assert isinstance(await _attempt(wired, victim, f"attacker guess {i}"), Unauthenticated)
    # The owner gets in once the 1 s delay has passed (polled, bounded; nothing times it).
    for _ in range(50):
        outcome = await _attempt(wired, victim, PASSWORD)
        if outcome is None:
            break
        assert isinstance(outcome, ResourceExhausted)
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the owner stayed locked out")


async def test_hammering_one_account_leaves_a_second_account_alone(wired: Wired) -> None:
    victim, bystander = await _account(wired), await _account(wired)
    await asyncio.gather(*(_attempt(wired, victim, "wrong wrong wrong 1") for _ in range(20)))
    assert await _attempt(wired, bystander, PASSWORD) is None


async def test_a_sweep_from_one_address_is_refused_once_over_its_limit(wired: Wired) -> None:
    # The fixture's address limit is huge; this case wires use cases with a small one.
    opts = wired.settings.identity.model_copy(update={"lockout_ip_limit": 6})
    settings = wired.settings.model_copy(update={"identity": opts})
    usecases = build_usecases(settings, wired.sessions, wired.redis, KeyStore.open(opts.keys_dir))
    ip = f"192.0.2.{uuid.uuid4().int % 250}"
    before = _verifications()
    outcomes = await asyncio.gather(
        *(_attempt(wired, _email(), "guessing widely 1", ip, usecases) for _ in range(30))
    )
    assert _verifications() - before == 6
    refused = [o for o in outcomes if isinstance(o, ResourceExhausted)]
    assert len(refused) == 24 and {o.reason for o in refused} == {"CLIENT_LOCKED"}
    # Someone else behind another address is unaffected.
    assert await _attempt(wired, await _account(wired), PASSWORD, "192.0.2.251", usecases) is None


async def test_registering_a_taken_email_costs_no_argon2_work(wired: Wired) -> None:
    email = await _account(wired)
    before = _hashes()
    for spelling in (email, email.upper()):
        with pytest.raises(AlreadyExists) as taken:
            await wired.usecases.register(
                svc.RegisterUserRequest(email=spelling, password="Another pass 12345")
            )
        assert taken.value.reason == "EMAIL_TAKEN"
    assert _hashes() == before


async def test_a_replayed_registration_answers_the_first_user_without_hashing(wired: Wired) -> None:
    request = svc.RegisterUserRequest(email=_email(), password=PASSWORD, request_id=str(uuid.uuid4()))
    first = await wired.usecases.register(request)
    before = _hashes()
    again = await wired.usecases.register(request)
    assert again.user.user_id == first.user.user_id
    assert _hashes() == before
