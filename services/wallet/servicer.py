"""The gx.wallet.v1 gRPC servicers: protos in, use cases called, protos out."""

from __future__ import annotations

import grpc
from gx.type.v1 import operation_pb2
from gx.wallet.v1 import admin_service_pb2 as admin_svc
from gx.wallet.v1 import (
    admin_service_pb2_grpc,
    governance_service_pb2_grpc,
    loan_service_pb2_grpc,
    organization_service_pb2_grpc,
    tax_service_pb2_grpc,
    wallet_service_pb2_grpc,
)
from gx.wallet.v1 import governance_service_pb2 as gov_svc
from gx.wallet.v1 import loan_service_pb2 as loan_svc
from gx.wallet.v1 import organization_service_pb2 as org_svc
from gx.wallet.v1 import tax_service_pb2 as tax_svc
from gx.wallet.v1 import wallet_service_pb2 as svc

from services.common.auth import require_principal
from services.wallet.admin import AdminUseCases
from services.wallet.backoffice import BackOfficeUseCases
from services.wallet.errors import Unimplemented
from services.wallet.governance import GovernanceUseCases
from services.wallet.loans import LoanUseCases
from services.wallet.organizations import OrganizationUseCases
from services.wallet.tax import TaxUseCases
from services.wallet.usecases import WalletUseCases


def _backoffice(backoffice: BackOfficeUseCases | None) -> BackOfficeUseCases:
    if backoffice is None:
        raise Unimplemented("this server was built without the back office")
    return backoffice


# The edge's response hook turns this header into HTTP 202 Accepted: the ledger work is pending.
_ACCEPTED = (("x-http-status", "202"),)


async def _accepted(
    context: grpc.aio.ServicerContext, operation: operation_pb2.Operation
) -> operation_pb2.Operation:
    await context.send_initial_metadata(_ACCEPTED)
    return operation


class WalletServicer(wallet_service_pb2_grpc.WalletServiceServicer):
    """Thin adapter: interceptors already validated the request and authenticated the caller."""

    def __init__(self, usecases: WalletUseCases) -> None:
        """Wraps the use cases."""
        self._uc = usecases

    async def GetWallet(
        self, request: svc.GetWalletRequest, context: grpc.aio.ServicerContext
    ) -> svc.GetWalletResponse:
        return await self._uc.get_wallet(require_principal(), request.wallet_id)

    async def ListTransactions(
        self, request: svc.ListTransactionsRequest, context: grpc.aio.ServicerContext
    ) -> svc.ListTransactionsResponse:
        return await self._uc.list_transactions(require_principal(), request)

    async def PreviewTransfer(
        self, request: svc.PreviewTransferRequest, context: grpc.aio.ServicerContext
    ) -> svc.PreviewTransferResponse:
        return await self._uc.preview_transfer(require_principal(), request)

    async def Transfer(
        self, request: svc.TransferRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.transfer(require_principal(), request))

    async def GetOperation(
        self, request: svc.GetOperationRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await self._uc.get_operation(require_principal(), request.operation_id)

    async def WaitOperation(
        self, request: svc.WaitOperationRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        timeout = request.timeout.ToTimedelta().total_seconds() if request.HasField("timeout") else None
        return await self._uc.wait_operation(
            require_principal(), request.operation_id, timeout, context.time_remaining()
        )


class AdminServicer(admin_service_pb2_grpc.AdminServiceServicer):
    """System administration; the access rules (ADMIN/SUPER_ADMIN) are enforced from the protos."""

    def __init__(self, usecases: AdminUseCases) -> None:
        """Wraps the use cases."""
        self._uc = usecases

    async def BootstrapSystem(
        self, request: admin_svc.BootstrapSystemRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.bootstrap(require_principal(), request))

    async def InitializeCountries(
        self, request: admin_svc.InitializeCountriesRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.initialize_countries(require_principal(), request))

    async def UpdateSystemParameter(
        self, request: admin_svc.UpdateSystemParameterRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.update_parameter(require_principal(), request))

    async def PauseSystem(
        self, request: admin_svc.PauseSystemRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.pause(require_principal(), request))

    async def ResumeSystem(
        self, request: admin_svc.ResumeSystemRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.resume(require_principal(), request))

    async def AppointAdmin(
        self, request: admin_svc.AppointAdminRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.appoint_admin(require_principal(), request))

    async def ActivateTreasury(
        self, request: admin_svc.ActivateTreasuryRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.activate_treasury(require_principal(), request))

    async def DistributeGenesis(
        self, request: admin_svc.DistributeGenesisRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.distribute_genesis(require_principal(), request))

    async def FreezeWallet(
        self, request: admin_svc.FreezeWalletRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.freeze(require_principal(), request))

    async def UnfreezeWallet(
        self, request: admin_svc.UnfreezeWalletRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.unfreeze(require_principal(), request))

    async def GetSystemStatus(
        self, request: admin_svc.GetSystemStatusRequest, context: grpc.aio.ServicerContext
    ) -> admin_svc.GetSystemStatusResponse:
        return await self._uc.system_status()

    async def ListCountries(
        self, request: admin_svc.ListCountriesRequest, context: grpc.aio.ServicerContext
    ) -> admin_svc.ListCountriesResponse:
        return await self._uc.list_countries(request)

    async def GetTreasury(
        self, request: admin_svc.GetTreasuryRequest, context: grpc.aio.ServicerContext
    ) -> admin_svc.GetTreasuryResponse:
        return await self._uc.get_treasury(request)


class OrganizationServicer(organization_service_pb2_grpc.OrganizationServiceServicer):
    """Organisations and their multisig transfers; the caller acts as themself."""

    def __init__(self, usecases: OrganizationUseCases) -> None:
        """Wraps the use cases."""
        self._uc = usecases

    async def ProposeOrganization(
        self, request: org_svc.ProposeOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.propose(require_principal(), request))

    async def ProposeGovernmentOrganization(
        self, request: org_svc.ProposeGovernmentOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.propose_government(require_principal(), request))

    async def EndorseMembership(
        self, request: org_svc.EndorseMembershipRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.endorse(require_principal(), request))

    async def ActivateOrganization(
        self, request: org_svc.ActivateOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.activate(require_principal(), request))

    async def DefineAuthRule(
        self, request: org_svc.DefineAuthRuleRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.define_rule(require_principal(), request))

    async def RemoveAuthRule(
        self, request: org_svc.RemoveAuthRuleRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.remove_rule(require_principal(), request))

    async def InitiateMultisigTransaction(
        self, request: org_svc.InitiateMultisigTransactionRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.initiate(require_principal(), request))

    async def ApproveMultisigTransaction(
        self, request: org_svc.ApproveMultisigTransactionRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.approve(require_principal(), request))

    async def ExecuteMultisigTransaction(
        self, request: org_svc.ExecuteMultisigTransactionRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.execute(require_principal(), request))

    async def GetOrganization(
        self, request: org_svc.GetOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> org_svc.GetOrganizationResponse:
        return await self._uc.get(require_principal(), request.org_id)

    async def ListOrganizations(
        self, request: org_svc.ListOrganizationsRequest, context: grpc.aio.ServicerContext
    ) -> org_svc.ListOrganizationsResponse:
        return await self._uc.list(require_principal(), request)

    async def GetMultisigTransaction(
        self, request: org_svc.GetMultisigTransactionRequest, context: grpc.aio.ServicerContext
    ) -> org_svc.GetMultisigTransactionResponse:
        return await self._uc.get_multisig(require_principal(), request)

    async def ListMultisigTransactions(
        self, request: org_svc.ListMultisigTransactionsRequest, context: grpc.aio.ServicerContext
    ) -> org_svc.ListMultisigTransactionsResponse:
        return await self._uc.list_multisig(require_principal(), request)


class LoanServicer(loan_service_pb2_grpc.LoanServiceServicer):
    """Loans: apply and repay (users), approve (admins), reads, the trust score behind them."""

    def __init__(self, usecases: LoanUseCases, backoffice: BackOfficeUseCases | None = None) -> None:
        """Wraps the use cases (`backoffice`: the trust score; without it GetTrustScore is UNIMPLEMENTED)."""
        self._uc = usecases
        self._backoffice = backoffice

    async def GetTrustScore(
        self, request: loan_svc.GetTrustScoreRequest, context: grpc.aio.ServicerContext
    ) -> loan_svc.GetTrustScoreResponse:
        return await _backoffice(self._backoffice).trust_score(require_principal(), request)

    async def ApplyForLoan(
        self, request: loan_svc.ApplyForLoanRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.apply(require_principal(), request))

    async def ApproveLoan(
        self, request: loan_svc.ApproveLoanRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.approve(require_principal(), request))

    async def RepayLoan(
        self, request: loan_svc.RepayLoanRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.repay(require_principal(), request))

    async def GetLoan(
        self, request: loan_svc.GetLoanRequest, context: grpc.aio.ServicerContext
    ) -> loan_svc.GetLoanResponse:
        return await self._uc.get(require_principal(), request.loan_id)

    async def ListLoans(
        self, request: loan_svc.ListLoansRequest, context: grpc.aio.ServicerContext
    ) -> loan_svc.ListLoansResponse:
        return await self._uc.list(require_principal(), request)


class GovernanceServicer(governance_service_pb2_grpc.GovernanceServiceServicer):
    """Governance: proposals (admins), votes (users), execution (admins), reads."""

    def __init__(self, usecases: GovernanceUseCases) -> None:
        """Wraps the use cases."""
        self._uc = usecases

    async def SubmitProposal(
        self, request: gov_svc.SubmitProposalRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.submit(require_principal(), request))

    async def CastVote(
        self, request: gov_svc.CastVoteRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.vote(require_principal(), request))

    async def ExecuteProposal(
        self, request: gov_svc.ExecuteProposalRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.execute(require_principal(), request))

    async def GetProposal(
        self, request: gov_svc.GetProposalRequest, context: grpc.aio.ServicerContext
    ) -> gov_svc.GetProposalResponse:
        return await self._uc.get(require_principal(), request.proposal_id)

    async def ListProposals(
        self, request: gov_svc.ListProposalsRequest, context: grpc.aio.ServicerContext
    ) -> gov_svc.ListProposalsResponse:
        return await self._uc.list(request)

    async def ListVotes(
        self, request: gov_svc.ListVotesRequest, context: grpc.aio.ServicerContext
    ) -> gov_svc.ListVotesResponse:
        return await self._uc.votes(request)


class TaxServicer(tax_service_pb2_grpc.TaxServiceServicer):
    """Velocity tax: the preview (users their own wallet, admins any) and apply (admins)."""

    def __init__(self, usecases: TaxUseCases, backoffice: BackOfficeUseCases | None = None) -> None:
        """Wraps the use cases (`backoffice`: the due list and the sweep; without it they are UNIMPLEMENTED)."""
        self._uc = usecases
        self._backoffice = backoffice

    async def ListVelocityTaxDue(
        self, request: tax_svc.ListVelocityTaxDueRequest, context: grpc.aio.ServicerContext
    ) -> tax_svc.ListVelocityTaxDueResponse:
        return await _backoffice(self._backoffice).list_due(require_principal(), request)

    async def SweepVelocityTax(
        self, request: tax_svc.SweepVelocityTaxRequest, context: grpc.aio.ServicerContext
    ) -> tax_svc.SweepVelocityTaxResponse:
        return await _backoffice(self._backoffice).sweep(require_principal(), request)

    async def PreviewVelocityTax(
        self, request: tax_svc.PreviewVelocityTaxRequest, context: grpc.aio.ServicerContext
    ) -> tax_svc.PreviewVelocityTaxResponse:
        return await self._uc.preview(require_principal(), request)

    async def ApplyVelocityTax(
        self, request: tax_svc.ApplyVelocityTaxRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        return await _accepted(context, await self._uc.apply(require_principal(), request))
