"""`Client`: the generated gRPC stubs on one channel, with login, retries and operations built in."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any

import grpc

from gx.identity.v1 import identity_pb2, identity_service_pb2, identity_service_pb2_grpc
from gx.licensing.v1 import licensing_service_pb2_grpc
from gx.type.v1 import operation_pb2
from gx.wallet.v1 import (
    admin_service_pb2_grpc,
    governance_service_pb2_grpc,
    loan_service_pb2_grpc,
    organization_service_pb2_grpc,
    tax_service_pb2_grpc,
    wallet_pb2,
    wallet_service_pb2,
    wallet_service_pb2_grpc,
)
from gx_client.interceptor import CallInterceptor
from gx_client.operations import Operation
from gx_client.paging import iterate
from gx_client.session import Session, Tokens

DEFAULT_TARGET = "127.0.0.1:8080"


class Client:
    """A GX mesh client over gRPC, to the Envoy edge (native gRPC) or straight to a service.

    The generated stubs are attributes (`identity`, `wallet`, `admin`, `organizations`, `loans`,
    `governance`, `tax`, `licensing`); every call through them gets a bearer token (logging in or
    refreshing as needed; a public method such as RegisterUser or CreatePartner carries only a
    token already held, so call `login()` first to make such a call as yourself), a `request_id` when the request has an empty one, the method's default
    deadline, retries with backoff on UNAVAILABLE where the method's service config allows them,
    and raises a `GxError` subclass carrying the ErrorInfo reason.

    Args:
        target: `host:port` of the edge (default the dev stack's) or of one service.
        email: With `password`: log in on the first call that needs a token, and again whenever
            the refresh token no longer works.
        password: See `email`.
        access_token: A token obtained elsewhere (used until the server rejects it).
        refresh_token: Renews the access token.
        api_key: A partner's key, sent as `x-api-key` on every call (alone it makes the partner the
            caller; with a user's token the user stays the caller and the key's licence is charged).
        credentials: TLS credentials for a secure channel; plaintext when None.
        options: gRPC channel options.
    """

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        email: str | None = None,
        password: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        api_key: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        self._channel = (
            grpc.secure_channel(target, credentials, options=options)
            if credentials
            else grpc.insecure_channel(target, options=options)
        )
        # Login and RefreshToken go through a channel without the session, so renewing never recurses.
        self._tokens = identity_service_pb2_grpc.IdentityServiceStub(
            grpc.intercept_channel(self._channel, CallInterceptor(None, api_key))
        )
        self.session = Session(
            self._login,
            self._refresh,
            email=email,
            password=password,
            access_token=access_token,
            refresh_token=refresh_token,
        )
        channel = grpc.intercept_channel(self._channel, CallInterceptor(self.session, api_key))
        self.identity = identity_service_pb2_grpc.IdentityServiceStub(channel)
        self.wallet = wallet_service_pb2_grpc.WalletServiceStub(channel)
        self.admin = admin_service_pb2_grpc.AdminServiceStub(channel)
        self.organizations = organization_service_pb2_grpc.OrganizationServiceStub(channel)
        self.loans = loan_service_pb2_grpc.LoanServiceStub(channel)
        self.governance = governance_service_pb2_grpc.GovernanceServiceStub(channel)
        self.tax = tax_service_pb2_grpc.TaxServiceStub(channel)
        self.licensing = licensing_service_pb2_grpc.LicensingServiceStub(channel)

    # -- tokens ---------------------------------------------------------------------------------

    def _login(self, email: str, password: str) -> Tokens:
        got = self._tokens.Login(identity_service_pb2.LoginRequest(email=email, password=password))
        return Tokens(got.access_token, got.refresh_token, got.expires_in)

    def _refresh(self, refresh_token: str) -> Tokens:
        got = self._tokens.RefreshToken(identity_service_pb2.RefreshTokenRequest(refresh_token=refresh_token))
        return Tokens(got.access_token, got.refresh_token, got.expires_in)

    def login(self, email: str, password: str) -> None:
        """Log in now; the credentials are kept to log in again when the refresh token lapses."""
        self.session.log_in(email, password)

    # -- conveniences ---------------------------------------------------------------------------

    def register(
        self, email: str, password: str, *, country_code: str, display_name: str = ""
    ) -> identity_pb2.User:
        """Register a user (no token needed) and return it."""
        request = identity_service_pb2.RegisterUserRequest(
            email=email, password=password, country_code=country_code, display_name=display_name
        )
        return self.identity.RegisterUser(request).user

    def me(self) -> identity_pb2.User:
        """The caller's user."""
        return self.identity.GetUser(identity_service_pb2.GetUserRequest(user_id="me")).user

    def verify_email(self, code: str) -> identity_pb2.User:
        """Confirm the caller's email with the code of the verification mail (KYC needs it)."""
        return self.identity.VerifyEmail(
            identity_service_pb2.VerifyEmailRequest(user_id="me", code=code)
        ).user

    def request_password_reset(self, email: str) -> None:
        """Ask for a password reset mail (no token needed); the answer never tells whether the email exists."""
        self.identity.RequestPasswordReset(identity_service_pb2.RequestPasswordResetRequest(email=email))

    def reset_password(self, token: str, new_password: str) -> None:
        """Set a new password with the reset mail's token (no token needed); every session ends."""
        self.identity.ResetPassword(
            identity_service_pb2.ResetPasswordRequest(token=token, new_password=new_password)
        )

    def get_wallet(self, wallet_id: str = "me") -> wallet_pb2.Wallet:
        """A wallet (the caller's by default), with `balance_qirat`."""
        return self.wallet.GetWallet(wallet_service_pb2.GetWalletRequest(wallet_id=wallet_id)).wallet

    def transfer(
        self,
        amount_qirat: int,
        *,
        to_user_id: str = "",
        to_wallet_id: str = "",
        remark: str = "",
        wallet_id: str = "me",
        request_id: str = "",
    ) -> Operation:
        """Send `amount_qirat` (before the fee) to a user or a wallet; `.wait()` on the answer.

        `request_id` makes a repeat of this call (e.g. after a crash) the same transfer; when empty
        the SDK makes one, kept across its own retries.
        """
        if bool(to_user_id) == bool(to_wallet_id):
            raise ValueError("give exactly one of to_user_id and to_wallet_id")
        request = wallet_service_pb2.TransferRequest(
            wallet_id=wallet_id, request_id=request_id, amount_qirat=amount_qirat, remark=remark
        )
        if to_user_id:
            request.to_user_id = to_user_id
        else:
            request.to_wallet_id = to_wallet_id
        return self.operation(self.wallet.Transfer(request))

    def approve_kyc(self, user_id: str, *, request_id: str = "") -> Operation:
        """Approve a user's KYC (admins); the operation creates the user on the ledger."""
        request = identity_service_pb2.ApproveKycRequest(user_id=user_id, request_id=request_id)
        return self.operation(self.identity.ApproveKyc(request))

    def operation(self, answer: Any) -> Operation:
        """A handle on an Operation an RPC answered (or on `operations/<id>` / `<id>`)."""
        if isinstance(answer, str):
            handle = Operation(_operation_named(answer), self.wallet)
            return handle.refresh()
        return Operation(answer, self.wallet)

    def transactions(self, wallet_id: str = "me", *, page_size: int = 50) -> Iterator[wallet_pb2.Transaction]:
        """Every entry of a wallet's history, newest first, fetched page by page."""
        request = wallet_service_pb2.ListTransactionsRequest(wallet_id=wallet_id, page_size=page_size)
        entries: Iterator[wallet_pb2.Transaction] = iterate(
            self.wallet.ListTransactions, request, "transactions"
        )
        return entries

    def pages(self, call: Any, request: Any, items: str) -> Iterator[Any]:
        """Every item of any List RPC, e.g. `pages(client.licensing.ListPartners, req, "partners")`."""
        found: Iterator[Any] = iterate(call, request, items)
        return found

    # -- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def _operation_named(name: str) -> operation_pb2.Operation:
    return operation_pb2.Operation(name=name if name.startswith("operations/") else f"operations/{name}")
