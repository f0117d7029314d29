"""The wallet's use cases: reads from the read models, transfers as ledger commands, operations."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gx.ledger.v1 import commands_pb2
from gx.type.v1 import command_pb2, operation_pb2
from gx.wallet.v1 import wallet_pb2
from gx.wallet.v1 import wallet_service_pb2 as svc
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import AsyncEngine

import ledger_rules as rules
from services.common import ordering, outbox, paging
from services.common.auth import Principal
from services.common.commands import declared_command
from services.common.db import Fetchable
from services.common.errors import GxError
from services.common.operations import get_operation, parse_operation_name, wait_operation
from services.common.statement_batch import StatementBatch
from services.wallet import convert, errors, fees, ids, readmodels
from services.wallet.commands import CommandRecorder
from services.wallet.history_pages import DEFAULT_CAPACITY, HistoryPages
from services.wallet.readmodels import Account, Executor

ME = "me"
# The command whose request id is an organisation's ledger id (see services.wallet.ids).
ORG_COMMAND = ids.ORGANIZATION_COMMANDS
DEFAULT_PAGE_SIZE = 50
# The command Transfer records, read from its descriptor once (4 us a call, on every accept).
TRANSFER_COMMAND = declared_command(svc, "WalletService", "Transfer")


def resolve_wallet_id(principal: Principal, wallet_id: str) -> str:
    """`me` → the caller's wallet (a user's wallet id is their user id); ids in canonical form."""
    if wallet_id == ME:
        return principal.user_id
    return str(uuid.UUID(wallet_id))


def _may_read(principal: Principal, account: Account) -> bool:
    return principal.is_admin or (account.user_id is not None and account.user_id == principal.user_id)


async def _visible_account(db: Executor, principal: Principal, wallet_id: str) -> Account | None:
    """The account the caller may read, or None.

    A user's wallet id is their user id. An organisation's wallet (admins only) is also found
    by the organisation's public id, the id of the operation that proposed it: one extra
    lookup, only when the id is not a ledger account.
    """
    found = await readmodels.account(db, wallet_id)
    if found is None and principal.is_admin:
        ledger_id = await ids.ledger_id(db, wallet_id, ORG_COMMAND)
        if ledger_id != wallet_id:
            found = await readmodels.account(db, ledger_id)
    return found if found is not None and _may_read(principal, found) else None


@dataclass(frozen=True)
class TransferPlan:
    """A transfer that passed every check, with its price.

    Attributes:
        sender: The sending account.
        receiver: The receiving account.
        amount_qirat: What the receiver gets.
        fee: The fee the sender pays on top.
    """

    sender: Account
    receiver: Account
    amount_qirat: int
    fee: fees.Fee
    # The recipient's CREATE_USER when it is recorded but not committed yet: the transfer runs
    # after it and fails PREREQUISITE_FAILED, naming it, if it fails.
    depends_on: uuid.UUID | None = None

    @property
    def total_qirat(self) -> int:
        """What leaves the sender's wallet."""
        return self.amount_qirat + self.fee.fee_qirat


async def plan_transfer(
    db: Fetchable, principal: Principal, request: svc.TransferRequest | svc.PreviewTransferRequest
) -> TransferPlan:
    """Run every check a transfer must pass against the read models and price it.

    Who sends and to which kind of recipient are this API's own rules; everything about the
    transfer itself is the chaincode's `rules.check_transfer`, fed from the read models, so the
    wallet refuses exactly what the ledger would refuse, with the same reason.

    Raises:
        NotFound: WALLET_NOT_FOUND: the sending wallet is not the caller's or not on the ledger.
        InvalidArgument: RECIPIENT_REQUIRED, INVALID_AMOUNT, RECIPIENT_NOT_FOUND, SELF_TRANSFER
            (with the field).
        FailedPrecondition: SYSTEM_PAUSED, WALLET_FROZEN, WALLET_NOT_ACTIVE, RECIPIENT_NOT_ACTIVE,
            INSUFFICIENT_FUNDS.
    """
    sender_id = resolve_wallet_id(principal, request.wallet_id)
    if sender_id != principal.user_id:
        # Users send only from their own wallet; another's answers as if it did not exist.
        raise errors.wallet_not_found()
    which = request.WhichOneof("recipient")
    if which is None:
        raise errors.bad_field(
            "to_user_id", "exactly one of to_user_id or to_wallet_id is required", errors.RECIPIENT_REQUIRED
        )
    target_id = str(uuid.UUID(getattr(request, which)))
    if which == "to_wallet_id":
        # An organisation's wallet is named by the operation that proposed it (its public id).
        target_id = await ids.ledger_id(db, target_id, ORG_COMMAND)
    system, found = await readmodels.transfer_view(db, sender_id, target_id)
    sender = found.get(sender_id)
    if sender is None:
        raise errors.wallet_not_found()
    receiver = found.get(target_id)
    allowed = ("USER",) if which == "to_user_id" else ("USER", "ORGANIZATION")
    if receiver is not None and receiver.account_type not in allowed:
        receiver = None  # a user id names a user; a wallet id a user or an organisation
    on_its_way = None
    if receiver is None:
        receiver, on_its_way = await _user_on_its_way(db, target_id)
    verdict, fee = fees.check_transfer(
        sender, receiver, request.amount_qirat, paused=system.paused, cap_bps=system.fee_cap_bps
    )
    if verdict.refusal is not None:
        raise _refusal(verdict, which, system.pause_reason, sender, request.amount_qirat + fee.fee_qirat)
    assert receiver is not None  # check_transfer refuses a missing recipient
    depends_on = on_its_way.command_id if on_its_way is not None and on_its_way.in_flight else None
    return TransferPlan(sender, receiver, request.amount_qirat, fee, depends_on)


async def _user_on_its_way(db: Fetchable, user_id: str) -> tuple[Account | None, outbox.Prerequisite | None]:
    """A recipient whose CREATE_USER is recorded (KYC approved a moment ago) but not yet in the
    read models, as the account the ledger will create: active, empty, in its country.

    A pre-check refuses only a prerequisite that is absent or failed; the transfer holds the
    recipient's account key, so the outbox runs it after the CREATE_USER in any case.
    """
    created = await outbox.find_prerequisite(
        db, command_pb2.COMMAND_TYPE_CREATE_USER, key=ordering.key("account", user_id)
    )
    if created is None:
        return None, None
    account = Account(
        wallet_id=user_id,
        account_type="USER",
        user_id=user_id,
        country_code=str(created.payload.get("countryCode") or "") or None,
        balance_qirat=0,
        frozen=False,
        frozen_reason=None,
        user_status="ACTIVE",
        genesis_received=False,
        org_type=None,
        org_status=None,
        block_number=0,
        create_time=None,
        update_time=None,
    )
    return account, created


def _refusal(
    verdict: rules.TransferVerdict, recipient_field: str, pause_reason: str, sender: Account, required: int
) -> GxError:
    """The API error for a refusal of `rules.check_transfer`: its reason, the status the contract gives it."""
    reason = verdict.refusal or ""
    if reason == rules.INVALID_AMOUNT:
        return errors.bad_field("amount_qirat", verdict.detail, reason)
    if reason == rules.RECIPIENT_NOT_FOUND:
        return errors.bad_field(recipient_field, "no such recipient exists on the ledger", reason)
    if reason == rules.SELF_TRANSFER:
        return errors.bad_field(recipient_field, "a wallet cannot send to itself", reason)
    if reason == rules.SYSTEM_PAUSED:
        return errors.precondition(
            reason,
            f"the system is paused, transfers are stopped: {pause_reason}".rstrip(": "),
            pause_reason=pause_reason,
        )
    if reason == rules.INSUFFICIENT_FUNDS:
        return errors.precondition(
            reason,
            f"the balance of {sender.balance_qirat} Qirat does not cover the amount plus the fee of"
            f" {verdict.fee_qirat}",
            balance_qirat=str(sender.balance_qirat),
            required_qirat=str(required),
        )
    return errors.precondition(reason, _MESSAGES.get(reason, verdict.detail))


# What a caller reads for the refusals that need no extra data.
_MESSAGES = {
    rules.WALLET_FROZEN: "your wallet is frozen and cannot send",
    rules.WALLET_NOT_ACTIVE: "your wallet is not active on the ledger",
    rules.RECIPIENT_NOT_ACTIVE: "the recipient is not active on the ledger",
}


class WalletUseCases:
    """Wallet reads, transfer previews, transfers and operations."""

    def __init__(
        self,
        engine: AsyncEngine,
        recorder: CommandRecorder,
        *,
        max_wait_seconds: float = 60.0,
        read_pool: AsyncConnectionPool | None = None,
        history_pages: int = DEFAULT_CAPACITY,
    ) -> None:
        """Wires the use cases.

        Args:
            engine: The database engine (read models, outbox).
            recorder: Records ledger commands idempotently.
            max_wait_seconds: The server's bound on WaitOperation.
            read_pool: Driver connections for the balance read (`db.open_autocommit_pool`); without
                it the read goes through the engine.
            history_pages: Users' history pages kept at most (0: none).
        """
        self._engine = engine
        self._recorder = recorder
        self._max_wait = max_wait_seconds
        self._read_pool = read_pool
        # A user's own balance and history reads: sent together when they queue up.
        self._own_reads = StatementBatch(read_pool, "wallet-own-reads") if read_pool is not None else None
        # Own history pages, answered again while the wallet's history version is unchanged.
        self._history_pages = HistoryPages(history_pages)

    async def get_wallet(self, principal: Principal, wallet_id: str) -> svc.GetWalletResponse:
        """The wallet, if the caller owns it or is an admin; NOT_FOUND otherwise."""
        wallet_id = resolve_wallet_id(principal, wallet_id)
        if self._own_reads is not None and not principal.is_admin:
            # The hottest read: a user reads only their own wallet, so the ownership test rides in
            # the one statement, whose row is written into the response in place.
            row = await readmodels.owned_wallet(self._own_reads, wallet_id, principal.user_id)
            if row is None:
                raise errors.wallet_not_found()
            response = svc.GetWalletResponse()
            convert.set_wallet(response.wallet, row)
            return response
        found = await self._readable_account(principal, wallet_id)
        return svc.GetWalletResponse(wallet=convert.wallet(found))

    async def _readable_account(self, principal: Principal, wallet_id: str) -> Account:
        """The account the caller may read (`_visible_account`); NOT_FOUND otherwise."""
        found: Account | None = None
        if self._read_pool is not None:
            # The hottest read: one statement on a driver connection, no SQLAlchemy checkout.
            async with self._read_pool.connection() as conn:
                found = await readmodels.account(conn, wallet_id)
        if found is None or not _may_read(principal, found):
            # An admin's look-up by an organisation's public id (or no read pool) takes the
            # general path; for anyone else a miss stays a miss.
            if self._read_pool is not None and not principal.is_admin:
                raise errors.wallet_not_found()
            async with self._engine.connect() as engine_conn:
                found = await _visible_account(engine_conn, principal, wallet_id)
        if found is None:
            raise errors.wallet_not_found()
        return found

    async def list_transactions(
        self, principal: Principal, request: svc.ListTransactionsRequest
    ) -> svc.ListTransactionsResponse:
        """One page of a wallet's history, newest first."""
        wallet_id = resolve_wallet_id(principal, request.wallet_id)
        start = request.start_time.ToDatetime(tzinfo=UTC) if request.HasField("start_time") else None
        end = request.end_time.ToDatetime(tzinfo=UTC) if request.HasField("end_time") else None
        if start is not None and end is not None and end <= start:
            raise errors.bad_field("end_time", "end_time must be after start_time")
        types = tuple(
            sorted(
                {convert.type_name(t) for t in request.types if t != wallet_pb2.TRANSACTION_TYPE_UNSPECIFIED}
            )
        )
        flt = readmodels.TransactionFilter(wallet_id, types, start, end)
        key = f"{wallet_id}|{','.join(types)}|{_iso(start)}|{_iso(end)}"
        page = paging.request(request.page_size, request.page_token, key, default=DEFAULT_PAGE_SIZE)
        cursor = page.cursor(1)
        if cursor is not None and not isinstance(cursor[0], int):
            raise errors.bad_field("page_token", "the page token is malformed", errors.INVALID_PAGE_TOKEN)
        after = cursor[0] if cursor else None
        if self._own_reads is not None and not principal.is_admin:
            # A user reads only their own wallet: the ownership test, the history version and the
            # page in one statement, which skips the page when the one kept at that version is current.
            page_key = (wallet_id, key, after, page.limit)
            kept = self._history_pages.get(page_key)
            owned = await readmodels.owned_history(
                self._own_reads,
                flt,
                principal.user_id,
                after,
                page.limit,
                kept.version if kept is not None else readmodels.NO_VERSION,
            )
            if owned is None:
                raise errors.wallet_not_found()
            if owned.rows is None and kept is not None:
                self._history_pages.hit()
                return kept.response
            response = self._page_response(page, owned.rows or [])
            self._history_pages.keep(page_key, owned.version, response)
            return response
        found = await self._readable_account(principal, wallet_id)
        flt = dataclasses.replace(flt, wallet_id=found.wallet_id)
        if self._read_pool is not None:
            async with self._read_pool.connection() as pooled:
                found_rows = await readmodels.transactions(pooled, flt, after, page.limit)
        else:
            async with self._engine.connect() as conn:
                found_rows = await readmodels.transactions(conn, flt, after, page.limit)
        return self._page_response(page, found_rows)

    @staticmethod
    def _page_response(page: paging.PageRequest, found_rows: list[Any]) -> svc.ListTransactionsResponse:
        rows, token = page.finish(found_rows, lambda r: (r[0],))
        response = svc.ListTransactionsResponse(next_page_token=token)
        convert.add_transactions(response.transactions, rows)
        return response

    async def preview_transfer(
        self, principal: Principal, request: svc.PreviewTransferRequest
    ) -> svc.PreviewTransferResponse:
        """What the transfer would cost, after every check Transfer runs; records nothing."""
        async with self._engine.connect() as conn:
            plan = await plan_transfer(conn, principal, request)
        return svc.PreviewTransferResponse(
            fee_qirat=plan.fee.fee_qirat,
            total_qirat=plan.total_qirat,
            net_qirat=plan.amount_qirat,
            fee_bps=plan.fee.fee_bps,
            cross_border=plan.fee.cross_border,
            balance_qirat=plan.sender.balance_qirat,
        )

    async def transfer(self, principal: Principal, request: svc.TransferRequest) -> operation_pb2.Operation:
        """Checks the transfer and records TRANSFER_TOKENS with the idempotency record; answers its operation."""

        async def checks(db: Fetchable, ledger_request_id: str) -> outbox.Dependent:
            plan = await plan_transfer(db, principal, request)
            payload = commands_pb2.TransferTokensRequest(
                from_account_id=plan.sender.wallet_id,
                to_account_id=plan.receiver.wallet_id,
                amount_qirat=plan.amount_qirat,
                remark=request.remark,
                request_id=ledger_request_id,
            )
            return outbox.Dependent(payload, plan.depends_on)

        # The hot accept: the checks in one statement, the command and its idempotency record in
        # another, no Redis (CommandRecorder.accept).
        return await self._recorder.accept(
            scope="wallet.Transfer",
            principal=principal,
            request=request,
            request_id=request.request_id,
            command_type=TRANSFER_COMMAND,
            checks=checks,
        )

    async def get_operation(self, principal: Principal, operation_id: str) -> operation_pb2.Operation:
        """The operation as it stands, if the caller caused it or is an admin."""
        command_id = self._command_id(operation_id)
        found = await get_operation(self._engine, command_id)
        return self._visible(principal, found)

    async def wait_operation(
        self, principal: Principal, operation_id: str, timeout_seconds: float | None, remaining: float | None
    ) -> operation_pb2.Operation:
        """Wait until the operation is done or the wait is over, then answer it as it stands.

        Args:
            principal: The caller.
            operation_id: The operation's id.
            timeout_seconds: The client's `timeout`, or None.
            remaining: Seconds left of the call's deadline, or None.
        """
        command_id = self._command_id(operation_id)
        # Check ownership before holding a connection open on someone else's operation.
        self._visible(principal, await get_operation(self._engine, command_id))
        wait = self._max_wait if timeout_seconds is None else min(max(timeout_seconds, 0.0), self._max_wait)
        if remaining is not None:
            # Answer a little before the deadline so the client gets the operation, not an error.
            wait = min(wait, max(remaining - 0.25, 0.0))
        return self._visible(principal, await wait_operation(self._engine, command_id, wait))

    @staticmethod
    def _command_id(operation_id: str) -> uuid.UUID:
        command_id = parse_operation_name(operation_id)
        if command_id is None:
            raise errors.bad_field("operation_id", "must be a UUID")
        return command_id

    @staticmethod
    def _visible(
        principal: Principal, found: tuple[operation_pb2.Operation, object] | None
    ) -> operation_pb2.Operation:
        if found is None:
            raise errors.operation_not_found()
        operation, row = found
        if not principal.is_admin and getattr(row, "principal_id", None) != principal.user_id:
            raise errors.operation_not_found()
        return operation


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""
