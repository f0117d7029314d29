"""The IdentityService gRPC servicer: protos in, use cases called, protos out."""

from __future__ import annotations

import grpc
from google.api import httpbody_pb2
from gx.identity.v1 import identity_pb2, identity_service_pb2_grpc
from gx.identity.v1 import identity_service_pb2 as svc
from gx.type.v1 import operation_pb2

from services.common.auth import require_principal, role_claim_name
from services.common.rpc import metadata_value
from services.identity.kyc import KycDocumentInput, KycInput
from services.identity.usecases import Caller, IdentityUseCases, Tokens

_BEARER = "Bearer"


def _caller() -> Caller:
    principal = require_principal()
    return Caller(principal.user_id, frozenset(role_claim_name(r) for r in principal.roles))


def client_ip(context: grpc.aio.ServicerContext) -> str | None:
    """The client's address for lockout counting.

    Behind the edge, the peer is Envoy; Envoy appends the address it received the
    connection from to `x-forwarded-for`, so the LAST entry is the one a trusted hop wrote
    (earlier entries are whatever the client claimed). Without the header, the peer is
    the client.
    """
    forwarded = metadata_value(context, "x-forwarded-for")
    if forwarded:
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    peer = context.peer() or ""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rsplit(":", 1)[0]
    if kind == "ipv6":
        return rest.rsplit(":", 1)[0].strip("[]")
    return None


def _login_response(tokens: Tokens) -> svc.LoginResponse:
    return svc.LoginResponse(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
        token_type=_BEARER,
    )


class IdentityServicer(identity_service_pb2_grpc.IdentityServiceServicer):
    """Thin adapter: the interceptors already validated the request and authenticated the
    caller; errors raised by the use cases are mapped to statuses by the error interceptor."""

    def __init__(self, usecases: IdentityUseCases) -> None:
        """Wraps the use cases."""
        self._uc = usecases

    async def RegisterUser(self, request: svc.RegisterUserRequest, context: grpc.aio.ServicerContext) -> svc.RegisterUserResponse:
        return await self._uc.register(request)

    async def Login(self, request: svc.LoginRequest, context: grpc.aio.ServicerContext) -> svc.LoginResponse:
        tokens = await self._uc.login(request.email, request.password, client_ip(context))
        return _login_response(tokens)

    async def RefreshToken(
        self, request: svc.RefreshTokenRequest, context: grpc.aio.ServicerContext
    ) -> svc.RefreshTokenResponse:
        tokens = await self._uc.refresh(request.refresh_token)
        return svc.RefreshTokenResponse(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_in=tokens.expires_in,
            token_type=_BEARER,
        )

    async def Logout(self, request: svc.LogoutRequest, context: grpc.aio.ServicerContext) -> svc.LogoutResponse:
        await self._uc.logout(request.refresh_token)
        return svc.LogoutResponse()

    async def GetJwks(self, request: svc.GetJwksRequest, context: grpc.aio.ServicerContext) -> httpbody_pb2.HttpBody:
        return httpbody_pb2.HttpBody(content_type="application/json", data=self._uc.jwks_json())

    async def GetUser(self, request: svc.GetUserRequest, context: grpc.aio.ServicerContext) -> svc.GetUserResponse:
        return await self._uc.get_user(_caller(), request.user_id)

    async def UpdateUser(self, request: svc.UpdateUserRequest, context: grpc.aio.ServicerContext) -> svc.UpdateUserResponse:
        return await self._uc.update_user(_caller(), request)

    async def SubmitKyc(self, request: svc.SubmitKycRequest, context: grpc.aio.ServicerContext) -> svc.SubmitKycResponse:
        data = KycInput(
            first_name=request.first_name,
            last_name=request.last_name,
            date_of_birth=request.date_of_birth,
            nationality=request.nationality,
            documents=tuple(
                KycDocumentInput(identity_pb2.KycDocumentType.Name(d.type), d.sha256) for d in request.documents
            ),
        )
        return await self._uc.submit_kyc(_caller(), request, data)

    async def GetKyc(self, request: svc.GetKycRequest, context: grpc.aio.ServicerContext) -> svc.GetKycResponse:
        return await self._uc.get_kyc(_caller(), request.user_id)

    async def ListKycSubmissions(
        self, request: svc.ListKycSubmissionsRequest, context: grpc.aio.ServicerContext
    ) -> svc.ListKycSubmissionsResponse:
        return await self._uc.list_kyc(_caller(), request)

    async def ApproveKyc(self, request: svc.ApproveKycRequest, context: grpc.aio.ServicerContext) -> operation_pb2.Operation:
        operation = await self._uc.approve_kyc(_caller(), request)
        # The edge turns this header into HTTP 202 Accepted: the ledger work is pending.
        await context.send_initial_metadata((("x-http-status", "202"),))
        return operation

    async def RejectKyc(self, request: svc.RejectKycRequest, context: grpc.aio.ServicerContext) -> svc.RejectKycResponse:
        return await self._uc.reject_kyc(_caller(), request)

    async def FreezeUser(self, request: svc.FreezeUserRequest, context: grpc.aio.ServicerContext) -> svc.FreezeUserResponse:
        return await self._uc.freeze(_caller(), request)

    async def UnfreezeUser(
        self, request: svc.UnfreezeUserRequest, context: grpc.aio.ServicerContext
    ) -> svc.UnfreezeUserResponse:
        return await self._uc.unfreeze(_caller(), request)

    async def SetUserRoles(
        self, request: svc.SetUserRolesRequest, context: grpc.aio.ServicerContext
    ) -> svc.SetUserRolesResponse:
        return await self._uc.set_roles(_caller(), request)
