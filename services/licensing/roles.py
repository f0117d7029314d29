"""Role grants through identity, the only owner of roles, called as the licensing service."""

from __future__ import annotations

import logging
import uuid

import grpc
from gx.identity.v1 import identity_service_pb2 as identity_svc
from gx.identity.v1 import identity_service_pb2_grpc
from gx.type.v1 import access_pb2

from services.common.errors import FailedPrecondition, Unavailable
from services.licensing import errors

_log = logging.getLogger("gx.licensing.roles")
_TRANSIENT = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED}
)


class IdentityRoles:
    """Asks identity to add ROLE_PARTNER to a user, over a channel that carries licensing's service token."""

    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float = 5.0) -> None:
        """Create the client.

        Args:
            channel: From `services.common.service_auth.service_channel` (never a bare channel:
                identity refuses calls without a token).
            timeout_seconds: The deadline of one grant.
        """
        self._stub = identity_service_pb2_grpc.IdentityServiceStub(channel)
        self._timeout = timeout_seconds
        # Shared with the partner principal's token minting (partner_tokens.py): one channel to identity.
        self.channel = channel

    async def grant_partner(self, user_id: uuid.UUID) -> None:
        """Make sure the user holds ROLE_PARTNER (adding a held role changes nothing, so retries are safe).

        Raises:
            Unavailable: IDENTITY_UNAVAILABLE, identity could not be reached; retry.
            FailedPrecondition: ROLE_GRANT_REFUSED, identity refused (user gone, or licensing
                not allowed to grant the role: a configuration error, logged).
        """
        request = identity_svc.AddUserRoleRequest(user_id=str(user_id), role=access_pb2.ROLE_PARTNER)
        try:
            await self._stub.AddUserRole(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in _TRANSIENT:
                raise Unavailable(
                    "identity cannot be reached to grant the partner role; retry shortly",
                    reason=errors.IDENTITY_UNAVAILABLE,
                ) from None
            _log.error(
                "identity refused to grant ROLE_PARTNER to %s: %s %s", user_id, exc.code().name, exc.details()
            )
            raise FailedPrecondition(
                "identity refused to grant the partner role to the owner",
                reason=errors.ROLE_GRANT_REFUSED,
                metadata={"identity_code": exc.code().name},
            ) from None
