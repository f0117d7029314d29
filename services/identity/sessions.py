"""Opening a login session and ending a user's sessions: what Login, ChangePassword and a freeze share."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.exceptions import RedisError

from services.common.logging import LogKey
from services.common.revocation import RevocationList
from services.identity import errors, models
from services.identity.repository import IdentityRepository
from services.identity.tokens import new_refresh_token, successor_expiry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionPolicy:
    """Lifetimes of refresh tokens.

    Attributes:
        refresh_idle: How long an unused refresh token lives.
        session_max: The absolute length of a login session, however often refreshed.
    """

    refresh_idle: timedelta = timedelta(days=14)
    session_max: timedelta = timedelta(days=30)


def epoch_ms(when: datetime) -> int:
    """Milliseconds since the epoch: the deny-list's cutoffs and the tokens' precise issue times."""
    return int(when.timestamp() * 1000)


async def open_session(
    repo: IdentityRepository, user_id: uuid.UUID, now: datetime, policy: SessionPolicy
) -> tuple[uuid.UUID, str]:
    """Start a login session in the caller's transaction: a new refresh-token family.

    Returns:
        The family id (the access token's `sid`, so a logout can end the session) and the
        refresh token, shown once; only its hash is stored.
    """
    family = uuid.uuid4()
    token, digest = new_refresh_token()
    family_end = now + policy.session_max
    await repo.add_refresh_token(
        models.RefreshToken(
            id=uuid.uuid4(),
            family_id=family,
            user_id=user_id,
            token_hash=digest,
            created_at=now,
            expires_at=successor_expiry(now, policy.refresh_idle, family_end),
            family_expires_at=family_end,
        )
    )
    return family, token


def revocation_unavailable() -> errors.ServiceError:
    """UNAVAILABLE `REVOCATION_UNAVAILABLE`: the deny-list could not be written; a retry finishes."""
    return errors.unavailable(
        "REVOCATION_UNAVAILABLE", "the access-token deny-list is unreachable; retry shortly"
    )


class SubjectRevoker:
    """Denies every access token issued to a user up to now (a freeze, a role or password change).

    Twice: `revoke` inside the change's transaction, before it commits, so nothing changes if the
    deny-list cannot be written; `revoke_again` after the commit, so a token minted while the
    transaction was open (a login or refresh that read the old row) is caught too.
    """

    def __init__(self, revocations: RevocationList, clock: Callable[[], datetime]) -> None:
        """Writes to `revocations`, timed by `clock`."""
        self._revocations = revocations
        self._now = clock

    async def revoke(self, subject: uuid.UUID) -> None:
        """The first entry, inside the transaction.

        Raises:
            ServiceError: UNAVAILABLE `REVOCATION_UNAVAILABLE`: the transaction must roll back.
        """
        try:
            await self._revocations.revoke_subject(str(subject), epoch_ms(self._now()))
        except RedisError:
            log.exception(
                "the access-token deny-list could not be written", extra={LogKey.USER_ID: str(subject)}
            )
            raise revocation_unavailable() from None

    async def revoke_again(self, subject: uuid.UUID) -> int:
        """The second entry, after the commit; best effort (the first ended every earlier token).

        Returns:
            The cutoff a new token for the subject must follow (epoch ms); now, when Redis cannot say.
        """
        try:
            await self._revocations.revoke_subject(str(subject), epoch_ms(self._now()))
            return await self._revocations.cutoff_ms(str(subject))
        except RedisError:
            log.exception("post-commit revocation failed", extra={LogKey.USER_ID: str(subject)})
            return epoch_ms(self._now())

    async def cutoff(self, subject: uuid.UUID) -> int:
        """The subject's latest revocation (epoch ms), which a new token must follow.

        If Redis cannot say, clocks decide alone (0): a revocation in the same millisecond is
        all that risks.
        """
        try:
            return await self._revocations.cutoff_ms(str(subject))
        except RedisError:
            log.warning(
                "revocation cutoff unreadable; issuing by the clock", extra={LogKey.USER_ID: str(subject)}
            )
            return 0
