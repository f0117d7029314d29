"""The IdentityService gRPC servicer: protos in, use cases called, protos out."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from google.api import httpbody_pb2
from gx.identity.v1 import identity_pb2, identity_service_pb2_grpc
from gx.identity.v1 import identity_service_pb2 as svc
from gx.type.v1 import operation_pb2

from services.common.auth import current_principal, require_principal, role_claim_name
from services.common.client_address import IPNetwork, client_ip
from services.identity.accounts import AccountUseCases
from services.identity.backoffice import BackOfficeUseCases
from services.identity.kyc import KycDocumentInput, KycInput
from services.identity.usecases import Caller, IdentityUseCases, Tokens

_BEARER = "Bearer"


def _caller() -> Caller:
    principal = require_principal()
    return Caller(principal.user_id, frozenset(role_claim_name(r) for r in principal.roles))


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

    def __init__(
        self,
        usecases: IdentityUseCases,
        trusted_proxies: Sequence[IPNetwork] = (),
        trusted_hops: int = 1,
        *,
        accounts: AccountUseCases,
        backoffice: BackOfficeUseCases | None = None,
    ) -> None:
        """Wraps the use cases.

        Args:
            usecases: The use cases.
            trusted_proxies: Networks whose `x-forwarded-for` is believed (the edge).
            trusted_hops: How many proxies, the edge included, append to `x-forwarded-for`
                before identity (see `client_ip`).
            accounts: Email verification, password reset and change (services.identity.accounts).
            backoffice: User search and the audit trail (services.identity.backoffice);
                default: over the use cases' sessions.
        """
        self._backoffice = backoffice or BackOfficeUseCases(usecases.sessions)
        self._uc = usecases
        self._accounts = accounts
        self._trusted = tuple(trusted_proxies)
        self._hops = trusted_hops

    async def RegisterUser(
        self, request: svc.RegisterUserRequest, context: grpc.aio.ServicerContext
    ) -> svc.RegisterUserResponse:
        return await self._uc.register(request)

    async def Login(self, request: svc.LoginRequest, context: grpc.aio.ServicerContext) -> svc.LoginResponse:
        tokens = await self._uc.login(
            request.email, request.password, client_ip(context, self._trusted, self._hops)
        )
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

    async def Logout(
        self, request: svc.LogoutRequest, context: grpc.aio.ServicerContext
    ) -> svc.LogoutResponse:
        # Logout is public (the refresh token proves ownership), but a valid access token sent
        # with it is ended too.
        principal = current_principal()
        presented = (principal.user_id, principal.token_id) if principal is not None else None
        await self._uc.logout(request.refresh_token, presented)
        return svc.LogoutResponse()

    async def GetJwks(
        self, request: svc.GetJwksRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        return httpbody_pb2.HttpBody(content_type="application/json", data=self._uc.jwks_json())

    async def GetUser(
        self, request: svc.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> svc.GetUserResponse:
        return await self._uc.get_user(_caller(), request.user_id)

    async def UpdateUser(
        self, request: svc.UpdateUserRequest, context: grpc.aio.ServicerContext
    ) -> svc.UpdateUserResponse:
        return await self._uc.update_user(_caller(), request)

    async def SubmitKyc(
        self, request: svc.SubmitKycRequest, context: grpc.aio.ServicerContext
    ) -> svc.SubmitKycResponse:
        data = KycInput(
            first_name=request.first_name,
            last_name=request.last_name,
            date_of_birth=request.date_of_birth,
            nationality=request.nationality,
            documents=tuple(
                KycDocumentInput(identity_pb2.KycDocumentType.Name(d.type), d.sha256)
                for d in request.documents
            ),
        )
        return await self._uc.submit_kyc(_caller(), request, data)

    async def GetKyc(
        self, request: svc.GetKycRequest, context: grpc.aio.ServicerContext
    ) -> svc.GetKycResponse:
        return await self._uc.get_kyc(_caller(), request.user_id)

    async def ListKycSubmissions(
        self, request: svc.ListKycSubmissionsRequest, context: grpc.aio.ServicerContext
    ) -> svc.ListKycSubmissionsResponse:
        return await self._uc.list_kyc(_caller(), request)

    async def ApproveKyc(
        self, request: svc.ApproveKycRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        operation = await self._uc.approve_kyc(_caller(), request)
        # The edge turns this header into HTTP 202 Accepted: the ledger work is pending.
        await context.send_initial_metadata((("x-http-status", "202"),))
        return operation

    async def RejectKyc(
        self, request: svc.RejectKycRequest, context: grpc.aio.ServicerContext
    ) -> svc.RejectKycResponse:
        return await self._uc.reject_kyc(_caller(), request)

    async def FreezeUser(
        self, request: svc.FreezeUserRequest, context: grpc.aio.ServicerContext
    ) -> svc.FreezeUserResponse:
        return await self._uc.freeze(_caller(), request)

    async def UnfreezeUser(
        self, request: svc.UnfreezeUserRequest, context: grpc.aio.ServicerContext
    ) -> svc.UnfreezeUserResponse:
        return await self._uc.unfreeze(_caller(), request)

    async def SetUserRoles(
        self, request: svc.SetUserRolesRequest, context: grpc.aio.ServicerContext
    ) -> svc.SetUserRolesResponse:
        return await self._uc.set_roles(_caller(), request)

    async def IssuePartnerToken(
        self, request: svc.IssuePartnerTokenRequest, context: grpc.aio.ServicerContext
    ) -> svc.IssuePartnerTokenResponse:
        return await self._uc.issue_partner_token(_caller(), request)

    async def AddUserRole(
        self, request: svc.AddUserRoleRequest, context: grpc.aio.ServicerContext
    ) -> svc.AddUserRoleResponse:
        return await self._uc.add_role(_caller(), request)

    # Accounts (services.identity.accounts)

    async def VerifyEmail(
        self, request: svc.VerifyEmailRequest, context: grpc.aio.ServicerContext
    ) -> svc.VerifyEmailResponse:
        return await self._accounts.verify_email(_caller(), request)

    async def ResendVerificationEmail(
        self, request: svc.ResendVerificationEmailRequest, context: grpc.aio.ServicerContext
    ) -> svc.ResendVerificationEmailResponse:
        return await self._accounts.resend_verification(_caller(), request)

    async def RequestPasswordReset(
        self, request: svc.RequestPasswordResetRequest, context: grpc.aio.ServicerContext
    ) -> svc.RequestPasswordResetResponse:
        await self._accounts.request_password_reset(
            request.email, client_ip(context, self._trusted, self._hops)
        )
        return svc.RequestPasswordResetResponse()

    async def ResetPassword(
        self, request: svc.ResetPasswordRequest, context: grpc.aio.ServicerContext
    ) -> svc.ResetPasswordResponse:
        await self._accounts.reset_password(request.token, request.new_password)
        return svc.ResetPasswordResponse()

    async def ChangePassword(
        self, request: svc.ChangePasswordRequest, context: grpc.aio.ServicerContext
    ) -> svc.ChangePasswordResponse:
        tokens = await self._accounts.change_password(
            _caller(), request, client_ip(context, self._trusted, self._hops)
        )
        return svc.ChangePasswordResponse(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_in=tokens.expires_in,
            token_type=_BEARER,
        )

    # The back office (services.identity.backoffice)

    async def ListUsers(
        self, request: svc.ListUsersRequest, context: grpc.aio.ServicerContext
    ) -> svc.ListUsersResponse:
        return await self._backoffice.list_users(_caller().is_admin, request)

    async def ListAuditEvents(
        self, request: svc.ListAuditEventsRequest, context: grpc.aio.ServicerContext
    ) -> svc.ListAuditEventsResponse:
        return await self._backoffice.list_audit_events(_caller().is_admin, request)
