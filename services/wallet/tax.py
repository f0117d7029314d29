"""Velocity tax use cases: applying it is an admin's ledger command; the preview is not served yet."""

from __future__ import annotations

from google.protobuf.message import Message
from gx.ledger.v1 import commands_pb2 as ledger
from gx.type.v1 import command_pb2, operation_pb2
from gx.wallet.v1 import tax_service_pb2 as svc
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import Principal
from services.wallet import errors, readmodels
from services.wallet.commands import CommandRecorder


class TaxUseCases:
    """ApplyVelocityTax; PreviewVelocityTax answers UNIMPLEMENTED (see `preview`)."""

    def __init__(self, recorder: CommandRecorder) -> None:
        """Wires the use cases over the command recorder."""
        self._recorder = recorder

    async def apply(
        self, principal: Principal, request: svc.ApplyVelocityTaxRequest
    ) -> operation_pb2.Operation:
        """APPLY_VELOCITY_TAX to a user wallet; the ledger decides whether tax is due (a skip is a success)."""
        wallet_id = request.wallet_id.lower()

        async def build(session: AsyncSession, rid: str) -> Message:
            found = await readmodels.account(session, wallet_id)
            if found is None or found.account_type != "USER":
                raise errors.wallet_not_found()
            if (await readmodels.system_state(session)).paused:
                raise errors.precondition(errors.SYSTEM_PAUSED, "the system is paused")
            return ledger.ApplyVelocityTaxRequest(account_id=wallet_id, request_id=rid)

        return await self._recorder.record(
            scope="wallet.ApplyVelocityTax",
            principal=principal,
            request=request,
            request_id=request.request_id,
            command_type=command_pb2.COMMAND_TYPE_APPLY_VELOCITY_TAX,
            build=build,
        )

    async def preview(self) -> svc.PreviewVelocityTaxResponse:
        """Not served: whether tax is due depends on the account's holding timer, which lives
        only on the ledger (no event carries it, so no read model has it), and the tax formula
        is inline in the chaincode's contract rather than a pure rule function to import."""
        raise errors.Unimplemented(
            "TaxService.PreviewVelocityTax is not served yet: the holding timer is not in the read models"
        )
